"""A compliance lead builds an audit package in the admin, downloads it, and it verifies offline."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User

from audits.roles import Role, roles_sync
from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.checkpoints import checkpoint_sign, log_verifier_keys
from provenance.standards.notes import generate_signer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("PROVENANT_SCREENSHOTS")  # set to refresh docs/screenshots


def test_a_compliance_lead_builds_and_downloads_a_package_that_verifies(
    browser, live_server, make_store, sqlite_url, settings, tmp_path
):
    _, private_key = generate_signer("provenant.test/log")
    settings.LOG_SIGNING_KEY = private_key
    settings.LOG_ORIGIN = "provenant.test/log"
    settings.TSA_URL = ""
    settings.AUDIT_PACKAGE_DIR = tmp_path / "packages"
    store = make_store(sqlite_url, products=40)
    run = sync_run(full=True, media=store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    checkpoint_sign()
    roles_sync(apps)  # the role groups, as every migrate leaves them
    lead = User.objects.create_user("lead", password="a-long-test-password", is_staff=True)
    lead.groups.add(Group.objects.get(name=Role.AUDITOR))

    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A Content Security Policy violation (an inline script, a foreign origin) is logged to the console.
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.click("text=Audit packages")
    page.click("text=Build audit package")
    page.click("input[name=_save]")
    page.wait_for_selector("[data-package-status=done]", timeout=60_000)
    assert "Ready" in page.inner_text("[data-package-status]")
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "audit-package.png"))
    with page.expect_download() as info:
        page.click("[data-package-download]")
    path = tmp_path / "downloaded.zip"
    info.value.save_as(path)
    context.close()
    assert errors == []

    folder = tmp_path / "unpacked"
    zipfile.ZipFile(path).extractall(folder)
    (folder / "key.txt").write_text("".join(f"{key}\n" for key in log_verifier_keys()))
    done = subprocess.run(
        [sys.executable, "verify.py", "--key", "key.txt"], cwd=folder, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout
    assert "FAIL" not in done.stdout
