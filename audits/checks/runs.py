"""Ending a check run (a disclosure-coverage simulation or a separation scan) the same way for both."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from audits.models import CheckRun
from audits.trail import audit_record

__all__ = ["check_run_finish"]


def check_run_finish(run: CheckRun, *, fields: Iterable[str], action: str, actor, detail: dict) -> None:
    """Stamp ``run`` finished and save it (``status``, ``error`` and ``fields``) with its audit event
    ``action`` in one transaction, so a run is never finished without its event."""
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save(update_fields=["status", "finished_at", *fields, "error"])
        audit_record(action=action, actor=actor, obj=run, detail=detail)
