"""Audit packages from the admin: queue, progress, download; only Auditors and Administrators download."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.db import transaction

from audits.models import AuditEvent, AuditPackage, AuditPackageStatus
from audits.roles import Role
from provenance.checkpoints import checkpoint_sign
from provenance.log import log_append_many
from provenance.standards.notes import generate_signer

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_log(settings, tmp_path, make_item):
    _, private_key = generate_signer("provenant.test/log")
    settings.LOG_SIGNING_KEY = private_key
    settings.LOG_ORIGIN = "provenant.test/log"
    settings.TSA_URL = ""
    settings.AUDIT_PACKAGE_DIR = tmp_path / "packages"
    make_item()
    with transaction.atomic():
        log_append_many(entries=[("audit.anchor", {"seq": 1, "hash": "a" * 64})])
    checkpoint_sign()


def build_from_admin(client, django_capture_on_commit_callbacks, **form) -> AuditPackage:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/audits/auditpackage/add/", {"store_code": "", "since": "", **form})
    assert response.status_code == 302, response.content.decode()[:2000]
    package = AuditPackage.objects.get()
    assert response["Location"] == f"/admin/audits/auditpackage/{package.pk}/change/"
    return package


def test_an_auditor_builds_follows_and_downloads_a_package(
    client, make_user, signed_log, django_capture_on_commit_callbacks
):
    auditor = make_user(Role.AUDITOR)
    client.force_login(auditor)
    listing = client.get("/admin/audits/auditpackage/").content.decode()
    assert "Build audit package" in listing

    package = build_from_admin(client, django_capture_on_commit_callbacks)
    assert package.status == AuditPackageStatus.DONE
    assert package.requested_by == auditor
    page = client.get(f"/admin/audits/auditpackage/{package.pk}/change/").content.decode()
    assert "data-package-download" in page
    assert 'http-equiv="refresh"' not in page

    response = client.get(f"/admin/audits/auditpackage/{package.pk}/download/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == package.sha256
    assert response["Content-Disposition"].startswith("attachment")
    assert "index.html" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"audit.package_requested", "audit.package_built", "audit.package_downloaded"} <= actions


def test_a_queued_package_shows_its_progress_and_refreshes(client, make_user, signed_log):
    client.force_login(make_user(Role.ADMINISTRATOR))
    package = AuditPackage.objects.create(
        status=AuditPackageStatus.RUNNING, progress=40, progress_note="Proofs"
    )
    page = client.get(f"/admin/audits/auditpackage/{package.pk}/change/").content.decode()
    assert 'http-equiv="refresh"' in page
    assert 'value="40"' in page and "Proofs" in page
    assert "data-package-download" not in page
    assert client.get(f"/admin/audits/auditpackage/{package.pk}/download/").status_code == 404


def test_staff_without_the_role_cannot_download_or_build(
    client, make_user, signed_log, django_capture_on_commit_callbacks
):
    client.force_login(make_user(Role.AUDITOR))
    package = build_from_admin(client, django_capture_on_commit_callbacks)

    for role in (Role.REVIEWER, Role.APPROVER, Role.ENGINEER, None):
        client.force_login(make_user(role))
        assert client.get(f"/admin/audits/auditpackage/{package.pk}/download/").status_code == 403
        assert client.post("/admin/audits/auditpackage/add/", {"store_code": ""}).status_code == 403
    client.logout()
    response = client.get(f"/admin/audits/auditpackage/{package.pk}/download/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_failed_build_is_shown_with_its_reason(
    client, make_user, make_item, django_capture_on_commit_callbacks
):
    make_item()
    client.force_login(make_user(Role.ADMINISTRATOR))
    package = build_from_admin(client, django_capture_on_commit_callbacks)
    assert package.status == AuditPackageStatus.FAILED
    page = client.get(f"/admin/audits/auditpackage/{package.pk}/change/").content.decode()
    assert "no signed checkpoint" in page


@pytest.mark.parametrize("code", ["de\x01", "nosuchstore"])
def test_a_store_code_the_registry_does_not_know_is_a_form_error(client, make_user, signed_log, code):
    client.force_login(make_user(Role.ADMINISTRATOR))
    response = client.post("/admin/audits/auditpackage/add/", {"store_code": code, "since": ""})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not AuditPackage.objects.exists()


def test_the_store_view_is_chosen_from_those_the_registry_knows(client, make_user, signed_log):
    from provenance.services import registry_store_codes

    client.force_login(make_user(Role.ADMINISTRATOR))
    page = client.get("/admin/audits/auditpackage/add/").content.decode()
    assert '<select name="store_code"' in page
    for code in registry_store_codes():
        assert f'<option value="{code}"' in page


def test_the_command_refuses_a_store_code_the_registry_does_not_know(signed_log, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(
        CommandError, match="unknown store code 'nosuch': the registry knows default"
    ) as caught:
        call_command("audit_package", "--out", str(tmp_path / "p.zip"), "--store", "nosuch", "--quiet")
    assert caught.value.returncode == 2
    assert not AuditPackage.objects.exists()
    assert not (tmp_path / "p.zip").exists()


def test_a_bad_since_date_is_a_usage_error_without_a_traceback(signed_log, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--since: must be a date like 2026-07-01, got '2026-13-45'"):
        call_command("audit_package", "--out", str(tmp_path / "p.zip"), "--since", "2026-13-45")
