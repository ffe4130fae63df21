"""The scheduled sync on a real Celery worker with Redis as broker, and its beat schedules."""

from __future__ import annotations

import pytest
import redis
from celery.backends.redis import RedisBackend
from celery.contrib.testing.worker import start_worker
from celery.exceptions import Retry
from celery.result import AsyncResult
from django_celery_beat.models import PeriodicTask

from magento_bridge.models import SyncRun
from magento_bridge.services import sync_lock_acquire, sync_lock_release
from magento_bridge.tasks import SyncFailed, magento_sync_task
from provenance.models import ContentItem
from sidecar.celery import app


@pytest.fixture
def redis_worker(redis_url):
    redis.Redis.from_url(redis_url).flushdb()  # no tasks left over from an interrupted run
    keys = ("broker_url", "result_backend", "task_always_eager")
    previous = {k: app.conf[k] for k in keys}
    app.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        task_always_eager=False,
        broker_connection_retry_on_startup=False,
    )
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        app.conf.update(previous)


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_sync_task_from_the_redis_queue(mariadb_store, redis_worker, redis_url):
    queued = magento_sync_task.delay(full=True, triggered_by="schedule")

    # Wait on Redis, not the database, so the test does not contend with the worker's transaction.
    backend = RedisBackend(app=app, url=redis_url)
    run_id = AsyncResult(queued.id, app=app, backend=backend).get(timeout=180)
    run = SyncRun.objects.get(pk=run_id)
    assert run.status == SyncRun.Status.SUCCEEDED and run.triggered_by == "schedule"
    assert ContentItem.objects.count() == run.total("added") > 0


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
