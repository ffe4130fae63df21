"""An empty audit package is refused, or built only on purpose (``--allow-empty``) and stamped EMPTY."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from audits.models import AuditPackage, AuditPackageStatus
from audits.packages.build import AuditPackageError, audit_package_build
from audits.roles import Role
from provenance.checkpoints import checkpoint_sign
from provenance.log import log_append_many
from provenance.standards.notes import generate_signer

pytestmark = pytest.mark.django_db

FUTURE = "2099-01-01"


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


def verify_output(zip_path: Path, into: Path) -> tuple[int, str]:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(into)
    done = subprocess.run([sys.executable, "verify.py"], cwd=into, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def test_the_command_refuses_a_scope_with_no_registry_item(signed_log, tmp_path):
    out = tmp_path / "p.zip"
    with pytest.raises(CommandError, match="no registry item is in the package's scope") as caught:
        call_command("audit_package", "--out", str(out), "--since", FUTURE, "--quiet")
    assert caught.value.returncode == 2
    assert "--allow-empty" in str(caught.value)
    assert not AuditPackage.objects.exists()
    assert not out.exists()


def test_the_builder_refuses_an_empty_scope_too(signed_log, tmp_path):
    with pytest.raises(AuditPackageError, match="would be empty"):
        audit_package_build(out=tmp_path / "p.zip", store_code="default", since=date(2099, 1, 1))
    assert not (tmp_path / "p.zip").exists()


def test_with_allow_empty_the_package_is_built_and_stamped_empty(signed_log, tmp_path):
    out = tmp_path / "p.zip"
    call_command("audit_package", "--out", str(out), "--since", FUTURE, "--allow-empty", "--quiet")
    package = AuditPackage.objects.get()
    assert package.status == AuditPackageStatus.DONE and package.allow_empty
    assert package.item_count == 0
    with zipfile.ZipFile(out) as archive:
        index = archive.read("index.html").decode()
    assert '<span class="empty">EMPTY</span>' in index
    assert "EMPTY package:" in index
    code, output = verify_output(out, tmp_path / "unpacked")
    assert code == 0, output
    assert "EMPTY: registers/registry.csv holds no registry item" in output
    assert output.rstrip().splitlines()[-1].startswith("PASS (EMPTY package): ")


def test_a_package_with_items_is_not_stamped_empty(signed_log, tmp_path):
    out = tmp_path / "p.zip"
    call_command("audit_package", "--out", str(out), "--quiet")
    with zipfile.ZipFile(out) as archive:
        assert "EMPTY" not in archive.read("index.html").decode()
    code, output = verify_output(out, tmp_path / "unpacked")
    assert code == 0, output
    assert "EMPTY" not in output


def test_the_admin_form_refuses_an_empty_scope_unless_allowed(
    client, make_user, signed_log, django_capture_on_commit_callbacks
):
    client.force_login(make_user(Role.ADMINISTRATOR))
    response = client.post("/admin/audits/auditpackage/add/", {"store_code": "", "since": FUTURE})
    assert response.status_code == 200
    page = response.content.decode()
    assert "no registry item is in the package&#x27;s scope" in page
    assert "Allow an empty package" in page
    assert not AuditPackage.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/audits/auditpackage/add/", {"store_code": "", "since": FUTURE, "allow_empty": "on"}
        )
    assert response.status_code == 302
    package = AuditPackage.objects.get()
    assert package.allow_empty and package.status == AuditPackageStatus.DONE and package.item_count == 0
