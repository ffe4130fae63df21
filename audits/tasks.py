"""Celery tasks: thin wrappers around the workspace services."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from audits.checks.separation import separation_scan
from audits.checks.simulation import simulation_run
from audits.packages.build import AuditPackageError, audit_package_run
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
    try:
        audit_package_run(package_id=package_id)
    except AuditPackageError:
        pass  # recorded on the package (status failed, error) for the admin to show
    return package_id


@shared_task(acks_late=True)
def simulation_run_task(
    store_code: str = "",
    limit: int | None = None,
    triggered_by: str = "schedule",
    actor_id: int | None = None,
) -> int:
    """Run the disclosure-coverage simulation; returns the run's id."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return simulation_run(
        store_code=store_code or None, limit=limit, triggered_by=triggered_by, actor=actor
    ).pk


@shared_task(acks_late=True)
def separation_scan_task(triggered_by: str = "schedule", actor_id: int | None = None) -> int:
    """Scan Magento and the registry for synthetic/real separation findings; returns the scan's id."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return separation_scan(triggered_by=triggered_by, actor=actor).pk
