"""Audit package documents: scope filters, hostile text, model cards, providers, the command's help."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from audits.management.commands.audit_package import Command
from audits.models import Classification, Incident
from audits.packages import build as package_build
from provenance.checkpoints import checkpoint_sign
from provenance.log import log_append_many
from provenance.models import ContentItem, Generator
from provenance.records import item_origin_payload
from provenance.standards.notes import generate_signer

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def registry(settings, make_item):
    """Items in two store views, each logged, and a signed checkpoint."""
    _, private_key = generate_signer("provenant.test/log")
    settings.LOG_SIGNING_KEY = private_key
    settings.LOG_ORIGIN = "provenant.test/log"
    settings.TSA_URL = ""
    items = [make_item(store_code="default"), make_item(store_code="de"), make_item(store_code="de")]
    items.append(make_item(store_code="de", title='=HYPERLINK("http://evil")', origin="human"))
    with transaction.atomic():
        entries = log_append_many(entries=[("item.origin", item_origin_payload(i)) for i in items])
        for item, entry in zip(items, entries, strict=True):
            ContentItem.objects.filter(pk=item.pk).update(latest_log_index=entry.index)
    checkpoint_sign()
    return items


def build(tmp_path, *args: str) -> zipfile.ZipFile:
    out = tmp_path / "p.zip"
    call_command("audit_package", "--out", str(out), "--quiet", *args)
    return zipfile.ZipFile(out)


def rows(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))


def entries(archive: zipfile.ZipFile) -> list[dict]:
    return [json.loads(line) for line in archive.read("provenance/entries.jsonl").splitlines()]


def test_the_store_filter_keeps_one_store_views_items_and_entries(registry, tmp_path):
    archive = build(tmp_path, "--store", "de")
    assert {r["store_code"] for r in rows(archive, "registers/registry.csv")} == {"de"}
    assert len(rows(archive, "registers/registry.csv")) == 3
    assert len(rows(archive, "registers/disclosure.csv")) == 2  # the human-made item has no badge
    item_entries = [e for e in entries(archive) if e["kind"] == "item.origin"]
    assert len(item_entries) == 3
    assert "Store views</td><td>de" in archive.read("index.html").decode()


def test_everything_by_default_and_nothing_before_since(registry, tmp_path):
    archive = build(tmp_path)
    assert len(rows(archive, "registers/registry.csv")) == 4
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    archive = build(tmp_path, "--since", tomorrow, "--allow-empty")
    assert rows(archive, "registers/registry.csv") == []
    assert [e for e in entries(archive) if e["kind"] == "item.origin"] == []


def test_a_bad_since_date_or_output_name_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="--since: must be a date"):
        call_command("audit_package", "--out", str(tmp_path / "p.zip"), "--since", "yesterday")
    with pytest.raises(CommandError, match="must name a .zip"):
        call_command("audit_package", "--out", str(tmp_path / "p.txt"))


def test_the_commands_help_names_its_options():
    text = Command().create_parser("manage.py", "audit_package").format_help()
    for option in ("--out", "--store", "--since", "verify.py"):
        assert option in text


def test_hostile_registry_text_stays_text(registry, tmp_path):
    user = User.objects.create_user("compliance-lead")
    generator = Generator.objects.create(
        name=HOSTILE,
        provider=HOSTILE,
        version="1",
        uses_patient_data=True,
        model_card={"model_details": {"overview": HOSTILE}},
        hf_metadata={"license": HOSTILE, "tags": ["a\n---\nb"]},
    )
    Classification.objects.create(
        generator=generator,
        use_case=HOSTILE,
        version=1,
        risk_class="transparency",
        obligations=[{"article": "50(2)", "text": HOSTILE}],
        rationale="r",
        proposed_by=user,
    )
    Incident.objects.create(title=HOSTILE, severity="minor", aware_at=timezone.now(), opened_by=user)
    archive = build(tmp_path)
    documents = (
        "index.html",
        "annex-iv.html",
        "risk/risk-matrix.html",
        "incidents/incident-register.html",
        "data-flow.svg",
    )
    for name in documents:
        text = archive.read(name).decode()
        assert "<script" not in text and "<img" not in text, name
        assert "&lt;script&gt;" in text, name
    index = archive.read("index.html").decode()
    assert "http://" not in index.replace("http://www.w3.org", "")  # nothing loaded from outside
    assert "Content-Security-Policy" in index
    card_md = next(n for n in archive.namelist() if n.startswith("model-cards/") and n.endswith(".md"))
    markdown = archive.read(card_md).decode()
    front = markdown.split("---\n")[1]
    assert '"tags": ["a\\n---\\nb"]' in front  # the YAML front matter cannot be broken out of
    assert "<script" not in markdown
    registry_rows = rows(archive, "registers/registry.csv")
    assert any(r["title"].startswith("'=HYPERLINK") for r in registry_rows)  # no spreadsheet formula
    assert "USES PATIENT DATA" in archive.read("data-flow.svg").decode()


def test_model_cards_follow_the_toolkit_and_hugging_face_shapes(registry, tmp_path):
    Generator.objects.create(name="Patient education writer", provider="ACME", version="2.1")
    archive = build(tmp_path)
    card = json.loads(archive.read("model-cards/patient-education-writer.json"))
    assert card["model_details"]["name"] == "Patient education writer"
    assert card["model_details"]["version"]["name"] == "2.1"
    assert set(card) >= {"model_details", "model_parameters", "quantitative_analysis", "considerations"}
    markdown = archive.read("model-cards/patient-education-writer.md").decode()
    assert markdown.startswith("---\n") and '"license": ""' in markdown
    risk = rows(archive, "risk/risk-matrix.csv")
    assert risk[0]["generator"] == "Patient education writer" and risk[0]["risk_class"] == "NOT CLASSIFIED"


def test_provider_files_go_into_the_package_and_its_index(registry, tmp_path, monkeypatch):
    monkeypatch.setattr(package_build, "_PROVIDERS", [])
    archive = build(tmp_path)
    assert "No coverage simulation has run yet." in archive.read("index.html").decode()

    @package_build.package_file_provider_register
    def coverage(*, store_code, since):
        return {"simulation/results.csv": b"item,result\n1,pass\n"}

    archive = build(tmp_path)
    assert archive.read("simulation/results.csv") == b"item,result\n1,pass\n"
    assert "simulation/results.csv" in json.loads(archive.read("manifest.json"))["files"]
    index = archive.read("index.html").decode()
    assert 'href="simulation/results.csv"' in index
    assert "No coverage simulation has run yet." not in index


def test_a_provider_cannot_overwrite_the_evidence(registry, tmp_path, monkeypatch):
    monkeypatch.setattr(package_build, "_PROVIDERS", [])
    package_build.package_file_provider_register(lambda **kw: {"provenance/checkpoint.txt": b"forged"})
    with pytest.raises(CommandError, match="may not write"):
        build(tmp_path)
    monkeypatch.setattr(package_build, "_PROVIDERS", [lambda **kw: {"../escape.txt": b"x"}])
    with pytest.raises(CommandError, match="not a plain relative path"):
        build(tmp_path)


def test_a_log_smaller_than_the_previous_packages_checkpoint_is_refused(registry, tmp_path):
    from audits.models import AuditPackage, AuditPackageStatus

    AuditPackage.objects.create(
        status=AuditPackageStatus.DONE,
        checkpoint_size=1000,
        checkpoint_note="provenant.test/log\n1000\n" + "A" * 43 + "=\n\n",
        finished_at=timezone.now(),
    )
    with pytest.raises(CommandError, match="is not a prefix of the latest checkpoint"):
        build(tmp_path)
    failed = AuditPackage.objects.latest("id")
    assert failed.status == AuditPackageStatus.FAILED and "not a prefix" in failed.error


def test_the_simulation_and_separation_results_are_in_every_package(registry, tmp_path):
    archive = build(tmp_path)
    names = set(archive.namelist())
    assert {"simulation/results.json", "separation/findings.json"} <= names
    assert {"simulation/results.json", "separation/findings.json"} <= set(
        json.loads(archive.read("manifest.json"))["files"]
    )
