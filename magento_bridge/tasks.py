"""Celery tasks: thin wrappers around the sync service (the fanned-out sync's tasks are in
:mod:`magento_bridge.fanout`)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from magento_bridge.fanout import sync_fan_out
from magento_bridge.locks import SyncAlreadyRunning
from magento_bridge.models import SyncRun
from magento_bridge.reader import UnknownStoreError
from magento_bridge.services import sync_run

logger = logging.getLogger(__name__)


class SyncFailed(Exception):
    """The run was recorded as failed; raised so Celery retries with backoff."""


@shared_task(
    bind=True,
    autoretry_for=(SyncFailed,),
    retry_backoff=60,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=3,
    acks_late=True,
)
def magento_sync_task(
    self, store_code: str | None = None, full: bool = False, triggered_by: str = "schedule"
):
    """Sync one store (or all); skipped when another sync holds the lock. Returns the run id.

    With ``MAGENTO_SYNC_FAN_OUT`` (and the database source) this task is the run's coordinator: it
    dispatches the batches to the workers and returns; a failed batch fails the run, which the
    next scheduled run redoes.
    """
    fan_out = settings.MAGENTO_SYNC_FAN_OUT and settings.MAGENTO_SOURCE == "mysql"
    try:
        sync = sync_fan_out if fan_out else sync_run
        run = sync(store_code=store_code or None, full=full, triggered_by=triggered_by)
    except SyncAlreadyRunning as exc:
        logger.info("Skipping scheduled sync: %s", exc)
        return None
    except UnknownStoreError as exc:  # no run was recorded; retrying cannot make the store exist
        logger.error("Not syncing: %s", exc)
        return None
    if run.status == SyncRun.Status.FAILED:
        raise SyncFailed(run.error)
    return run.pk
