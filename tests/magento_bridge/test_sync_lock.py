"""A killed sync never blocks the next one: its lock is taken over, its run marked failed, the trail
told; an operator breaks a lock held elsewhere with ``magento_sync --break-lock``."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audits.models import AuditEvent
from magento_bridge.locks import SyncAlreadyRunning, sync_lock_acquire
from magento_bridge.models import SyncLock, SyncRun

pytestmark = pytest.mark.django_db


def dead_pid() -> int:
    """The pid of a process that ran on this host and is gone (what kill -9 leaves behind)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def live_process():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def held_by(host: str, pid: int, *, hours: float = 6) -> SyncRun:
    """A lock and a running run as a sync leaves them when its process dies mid-run."""
    now = timezone.now()
    SyncLock.objects.create(
        name="magento-sync",
        holder=f"{host}:{pid}:123",
        acquired_at=now - timedelta(minutes=5),
        expires_at=now + timedelta(hours=hours),
    )
    return SyncRun.objects.create(mode=SyncRun.Mode.FULL, triggered_by="beat")


def test_a_lock_whose_process_on_this_host_is_gone_is_taken_over_at_once():
    orphan = held_by(socket.gethostname(), dead_pid())

    holder = sync_lock_acquire()

    assert SyncLock.objects.get().holder == holder
    orphan.refresh_from_db()
    assert orphan.status == SyncRun.Status.FAILED and orphan.finished_at
    assert "stopped without finishing" in orphan.error and "no longer running" in orphan.error
    event = AuditEvent.objects.get(action="sync.lock_broken")
    assert event.detail["runs_failed"] == [orphan.pk]
    assert "no longer running" in event.detail["reason"]
    assert AuditEvent.objects.filter(action="sync.failed", object_id=str(orphan.pk)).exists()


def test_a_lock_whose_process_runs_is_respected_and_the_message_says_how_to_break_it(live_process):
    held_by(socket.gethostname(), live_process.pid)
    with pytest.raises(SyncAlreadyRunning, match="--break-lock"):
        sync_lock_acquire()
    assert SyncRun.objects.get().status == SyncRun.Status.RUNNING
    assert not AuditEvent.objects.filter(action="sync.lock_broken").exists()


def test_a_lock_held_on_another_host_waits_for_its_expiry():
    held_by("worker-elsewhere", 4242)
    with pytest.raises(SyncAlreadyRunning, match="by worker-elsewhere"):
        sync_lock_acquire()
    SyncLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert sync_lock_acquire()
    assert SyncRun.objects.get().status == SyncRun.Status.FAILED


def test_break_lock_frees_a_lock_held_elsewhere_and_fails_its_runs():
    orphan = held_by("worker-elsewhere", 4242)
    out = StringIO()
    call_command("magento_sync", "--break-lock", stdout=out)
    assert "Broke the sync lock held by worker-elsewhere:4242" in out.getvalue()
    assert not SyncLock.objects.exists()
    orphan.refresh_from_db()
    assert orphan.status == SyncRun.Status.FAILED and "broken by an operator" in orphan.error
    assert AuditEvent.objects.filter(action="sync.lock_broken").count() == 1
    assert SyncRun.objects.count() == 1  # breaking the lock is not a sync


def test_break_lock_refuses_while_the_holder_runs_on_this_host(live_process):
    held_by(socket.gethostname(), live_process.pid)
    with pytest.raises(CommandError, match="still running on this host"):
        call_command("magento_sync", "--break-lock", stdout=StringIO())
    assert SyncLock.objects.exists()
    assert SyncRun.objects.get().status == SyncRun.Status.RUNNING


def test_break_lock_without_a_lock_says_so():
    out = StringIO()
    call_command("magento_sync", "--break-lock", stdout=out)
    assert "nothing to break" in out.getvalue()


def test_a_failing_run_record_still_releases_the_lock(monkeypatch):
    from magento_bridge.services import sync_run

    def refuse(*args, **kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(SyncRun.objects, "create", refuse)
    with pytest.raises(RuntimeError, match="audit trail unavailable"):
        sync_run()
    assert not SyncLock.objects.exists()
