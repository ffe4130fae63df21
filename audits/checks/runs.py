"""Ending a check run (a disclosure-coverage simulation or a separation scan) the same way for both."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone

from audits.models import CheckRun

__all__ = ["check_run_finish"]


def check_run_finish(run: CheckRun, *, fields: Iterable[str], event: Callable[[], object]) -> None:
    """Stamp ``run`` finished and save it (``status``, ``error`` and ``fields``) with its audit event
    (``event()``, one of :mod:`audits.events`) in one transaction: never a finished run without it."""
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save(update_fields=["status", "finished_at", *fields, "error"])
        event()
