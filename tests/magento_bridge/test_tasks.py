"""The scheduled sync on a real Celery worker with Redis as broker, and its beat schedules."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from celery.exceptions import Retry
from django_celery_beat.models import PeriodicTask

from magento_bridge.locks import sync_lock_acquire, sync_lock_release
from magento_bridge.models import SyncRun
from magento_bridge.tasks import SyncFailed, magento_sync_task

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path, mariadb_store, redis_url):
    """A real ``celery worker`` process on the Redis broker, with its own registry database."""
    registry = tmp_path / "worker-registry.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sidecar.settings",
        "PROVENANT_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{registry}",
        "MAGENTO_DATABASE_URL": mariadb_store.db.url(),
        "MAGENTO_MEDIA_ROOT": str(mariadb_store.media_root),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], env=env, cwd=ROOT, check=True
    )
    redis.Redis.from_url(redis_url).flushdb()  # no tasks left over from an interrupted run
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sidecar",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield registry
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
        print(output)  # shown when the test fails


def test_a_worker_runs_the_sync_task_from_the_redis_queue(worker, redis_url):
    client = Celery("provenant-client", broker=redis_url, backend=redis_url)
    queued = client.send_task(
        "magento_bridge.tasks.magento_sync_task", kwargs={"full": True, "triggered_by": "schedule"}
    )
    run_id = queued.get(timeout=180)

    # With a broker the sync fans out (MAGENTO_SYNC_FAN_OUT defaults on): the task returns once the
    # run's batches are dispatched, and the same worker finishes it.
    deadline = time.monotonic() + 180
    while True:
        with sqlite3.connect(worker) as db:
            status, triggered_by = db.execute(
                "SELECT status, triggered_by FROM magento_bridge_syncrun WHERE id = ?", (run_id,)
            ).fetchone()
            items = db.execute("SELECT COUNT(*) FROM provenance_contentitem").fetchone()[0]
        if status != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (status, triggered_by) == ("succeeded", "schedule")
    assert items > 0


@pytest.mark.django_db
def test_the_task_skips_while_another_sync_holds_the_lock(mariadb_store):
    holder = sync_lock_acquire()
    try:
        assert magento_sync_task.apply(kwargs={"full": True}).get() is None
    finally:
        sync_lock_release(holder=holder)
    assert not SyncRun.objects.exists()


@pytest.mark.django_db
def test_a_failed_run_raises_so_celery_retries_with_backoff(settings, mariadb_store):
    settings.MAGENTO_DATABASE_URL = "mysql://root@127.0.0.1:1/nowhere"
    settings.MAGENTO_RETRIES = 0
    with pytest.raises(Retry, match="unreachable after 1 attempt"):
        magento_sync_task.apply(kwargs={"full": True}, throw=True)
    assert SyncRun.objects.filter(status=SyncRun.Status.FAILED).exists()
    assert magento_sync_task.autoretry_for == (SyncFailed,) and magento_sync_task.retry_backoff


@pytest.mark.django_db
def test_default_schedules_run_incremental_syncs_and_a_nightly_full_reconcile():
    incremental = PeriodicTask.objects.get(name="Magento: incremental sync")
    full = PeriodicTask.objects.get(name="Magento: full reconcile")
    assert incremental.interval.every == 15 and incremental.interval.period == "minutes"
    assert '"full": false' in incremental.kwargs
    assert full.crontab.hour == "2" and '"full": true' in full.kwargs
    assert incremental.task == full.task == "magento_bridge.tasks.magento_sync_task"


@pytest.mark.django_db
def test_the_task_with_an_unknown_store_code_records_no_run_and_is_not_retried(mariadb_store):
    assert magento_sync_task.apply(kwargs={"store_code": "nosuch"}).get() is None
    assert not SyncRun.objects.exists()
