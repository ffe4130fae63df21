"""Findings on profiling declarations (consent_check, the dashboard) and the consent evidence in
the audit package: counts per purpose and policy version, never subject ids."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audits.packages.build import audit_package_build
from consent.models import ProfilingDeclaration
from lineage.models import LineageDataset
from provenance.checkpoints import checkpoint_sign
from provenance.standards.notes import generate_signer
from tests.consent.conftest import event

pytestmark = pytest.mark.django_db
HOSTILE = '=cmd|"/c calc"!A0 <script>x</script>'


@pytest.fixture
def declarations(db):
    trained = LineageDataset.objects.create(namespace="s3://behaviour", name="sessions-synthetic")
    return {
        "ok": ProfilingDeclaration.objects.create(
            store_code="default",
            placement="checkout.cross_sell",
            profiles=True,
            purpose="personalisation",
            training_data="synthetic",
            trained_on_dataset=trained,
        ),
        "lacking": ProfilingDeclaration.objects.create(
            store_code="default", placement=HOSTILE, profiles=True, training_data="real"
        ),
        "static": ProfilingDeclaration.objects.create(
            store_code="default", placement="home.bestsellers", profiles=False, training_data="none"
        ),
    }


def test_consent_check_names_the_profiling_surface_without_a_purpose(declarations):
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("consent_check", "--json", stdout=out)

    assert raised.value.returncode == 1
    findings = json.loads(out.getvalue())["findings"]
    assert [(f["code"], f["declaration_id"]) for f in findings] == [
        ("no_purpose", declarations["lacking"].pk)
    ]


def test_consent_check_passes_when_every_profiling_surface_has_a_purpose(declarations):
    declarations["lacking"].delete()
    out = io.StringIO()

    call_command("consent_check", stdout=out)

    assert "no consent findings" in out.getvalue()


def test_an_untraced_profiling_surface_is_a_finding_too(db):
    ProfilingDeclaration.objects.create(
        store_code="default", placement="pdp.related", profiles=True, purpose="p"
    )
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("consent_check", "--json", stdout=out)

    assert [f["code"] for f in json.loads(out.getvalue())["findings"]] == ["training_data_unknown"]


def test_the_dashboard_names_the_surfaces_without_a_purpose(client, declarations):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    page = client.get("/admin/workspace/dashboard/").content.decode()

    assert "1 profiling recommendation surface(s) with no declared consent purpose" in page
    listed = client.get("/admin/consent/profilingdeclaration/?finding=no_purpose").content.decode()
    assert "&lt;script&gt;" in listed and "<script>x" not in listed
    assert "checkout.cross_sell" not in listed


def test_a_purpose_that_is_not_a_slug_is_refused_in_the_admin(client):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    response = client.post(
        "/admin/consent/profilingdeclaration/add/",
        {
            "store_code": "default",
            "placement": "cart",
            "profiles": "on",
            "purpose": "Bad purpose",
            "training_data": "real",
        },
    )

    assert response.status_code == 200 and "A purpose is" in response.content.decode()
    assert not ProfilingDeclaration.objects.exists()


def test_the_package_counts_consent_per_purpose_and_policy_version_without_subjects(
    settings, post, declarations, tmp_path
):
    post(event(subject="cmp-alice-1", state="granted", policy_version="v1"))
    post(
        event(
            subject="cmp-alice-1", state="withdrawn", policy_version="v1", occurred_at="2026-03-02T10:00:00Z"
        )
    )
    post(event(subject="cmp-bob-2", state="granted", policy_version="v2"))
    _, private_key = generate_signer("provenant.test/log")
    settings.LOG_SIGNING_KEY, settings.LOG_ORIGIN, settings.TSA_URL = private_key, "provenant.test/log", ""
    checkpoint_sign()
    out = tmp_path / "package.zip"

    audit_package_build(out=out, allow_empty=True)

    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(folder)
    rows = list(csv.DictReader(io.StringIO((folder / "registers/consent.csv").read_text())))
    assert [
        (r["purpose"], r["policy_version"], r["granted_events"], r["withdrawn_events"]) for r in rows
    ] == [
        ("personalisation", "v1", "1", "1"),
        ("personalisation", "v2", "1", "0"),
    ]
    assert [(r["subjects_granted_now"], r["subjects_withdrawn_now"]) for r in rows] == [
        ("0", "1"),
        ("1", "0"),
    ]
    surfaces = (folder / "registers/profiling-surfaces.csv").read_text()
    assert "no_purpose" in surfaces and "'=cmd" in surfaces  # a formula is defused
    everything = "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
    assert "cmp-alice-1" not in everything and "cmp-bob-2" not in everything
    done = subprocess.run([sys.executable, "verify.py"], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
