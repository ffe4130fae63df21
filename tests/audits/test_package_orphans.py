"""A package build whose process was killed: marked failed, its staging folder removed, next one builds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from django.db import transaction

from audits.models import AuditPackage, AuditPackageStatus
from audits.packages.build import audit_package_run, audit_packages_orphaned_fail
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


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited (what a SIGKILLed build leaves in its row)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def killed_build(dead_pid: int, directory) -> tuple[AuditPackage, object]:
    package = AuditPackage.objects.create(
        requested_via="command",
        status=AuditPackageStatus.RUNNING,
        progress=40,
        builder=f"{socket.gethostname()}:{dead_pid}",
    )
    staging = directory / f".audit-package-{package.pk}-k1ll3d"
    (staging / "files").mkdir(parents=True)
    (staging / "files" / "registers.csv").write_text("half written")
    return package, staging


def test_a_build_whose_process_died_is_marked_failed_and_the_next_build_works(signed_log, tmp_path, dead_pid):
    out_dir = tmp_path / "out"
    killed, staging = killed_build(dead_pid, out_dir)
    package = AuditPackage.objects.create(requested_via="command")

    built = audit_package_run(package_id=package.pk, out=out_dir / "next.zip")

    killed.refresh_from_db()
    assert killed.status == AuditPackageStatus.FAILED
    assert f":{dead_pid}" in killed.error and "ended before it finished" in killed.error
    assert not staging.exists()
    assert built.status == AuditPackageStatus.DONE
    assert sorted(p.name for p in out_dir.iterdir()) == ["next.zip"]


def test_a_build_still_running_here_is_left_alone(signed_log, tmp_path):
    alive = AuditPackage.objects.create(
        requested_via="command",
        status=AuditPackageStatus.RUNNING,
        builder=f"{socket.gethostname()}:{os.getpid()}",
    )
    staging = tmp_path / "out" / f".audit-package-{alive.pk}-live"
    staging.mkdir(parents=True)
    package = AuditPackage.objects.create(requested_via="command")

    audit_package_run(package_id=package.pk, out=tmp_path / "out" / "other.zip")

    alive.refresh_from_db()
    assert alive.status == AuditPackageStatus.RUNNING
    assert staging.is_dir()


def test_a_build_on_another_host_is_not_judged_from_here(db, dead_pid):
    remote = AuditPackage.objects.create(
        requested_via="admin", status=AuditPackageStatus.RUNNING, builder=f"worker-elsewhere:{dead_pid}"
    )

    assert audit_packages_orphaned_fail() == []
    remote.refresh_from_db()
    assert remote.status == AuditPackageStatus.RUNNING
