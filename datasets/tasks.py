"""Celery tasks of the datasets room: thin wrappers around its services."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def dataset_report_task(version_id: int) -> int | None:
    """Run a report of dataset version ``version_id``; returns the report's id (``None``: the version
    is gone, or the report cannot be made, which is logged). Running it twice stores two reports."""
    from datasets.models import DatasetVersion
    from datasets.services import DatasetError, report_run

    version = DatasetVersion.objects.select_related("dataset").filter(pk=version_id).first()
    if version is None:
        return None
    try:
        return report_run(version=version).pk
    except DatasetError as exc:
        logger.warning("Report of dataset version %s not made: %s: %s", version_id, exc.code, exc)
        return None
