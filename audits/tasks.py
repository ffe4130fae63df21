"""Celery tasks: thin wrappers around the workspace services."""

from __future__ import annotations

from celery import shared_task

from audits.services import reviews_open_missing, reviews_reopen_changed
from audits.trail import audit_anchor


@shared_task(acks_late=True)
def reviews_after_sync_task() -> dict:
    """Open reviews for new synthetic content and reopen approved content that changed. Idempotent."""
    return {"opened": reviews_open_missing(), "reopened": reviews_reopen_changed()}


@shared_task(acks_late=True)
def audit_anchor_task() -> int | None:
    """Anchor the audit trail's head in the transparency log when it grew; returns the log index."""
    anchor = audit_anchor()
    return anchor.log_index if anchor else None
