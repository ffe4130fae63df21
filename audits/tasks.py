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


@shared_task(acks_late=True)
def audit_package_build_task(package_id: int) -> int:
    """Build a queued audit package; a package already built is left as it is. Returns its id."""
    from audits.packages import AuditPackageError, audit_package_run

    try:
        audit_package_run(package_id=package_id)
    except AuditPackageError:
        pass  # recorded on the package (status failed, error) for the admin to show
    return package_id
