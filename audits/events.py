"""The audit trail's vocabulary: one function per action, each recording its actor and parameters.

Every event goes through here into :func:`audits.trail.audit_record`, in the caller's transaction, so
the actions (``review.approved``, ``sync.started``…) are written once, as literals, on one screen.
Call them module-qualified (``events.review_opened(…)``): some share a name with the service that
records them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, TypeAlias

from django.contrib.admin.models import ADDITION, CHANGE, DELETION
from django.db import models
from django.http import HttpRequest

from audits.models import (
    AuditEvent,
    AuditPackage,
    Classification,
    Incident,
    Review,
    ReviewStatus,
    SeparationScan,
    SimulationRun,
)
from audits.trail import audit_record, model_snapshot
from disclosure.models import AuditSwitch
from magento_bridge.models import SyncRun

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

Actor: TypeAlias = "AbstractBaseUser | str | None"
"""A user, a ``"system:…"`` string, or ``None`` (then the request's user, if any)."""

_REVIEW_DECISIONS = {
    ReviewStatus.IN_REVIEW: "review.in_review",
    ReviewStatus.APPROVED: "review.approved",
    ReviewStatus.CHANGES_REQUESTED: "review.changes_requested",
    ReviewStatus.REJECTED: "review.rejected",
}
_ADMIN_FLAGS = {ADDITION: "admin.added", CHANGE: "admin.changed", DELETION: "admin.deleted"}
_SYNC_ENDS = {"succeeded": "sync.succeeded", "failed": "sync.failed"}


def _refusal(exc: Exception, detail: dict | None) -> dict:
    return {"code": getattr(exc, "code", ""), "reason": str(exc), **(detail or {})}


def _user_or_none(actor: Actor) -> Actor:
    return actor if getattr(actor, "pk", None) else None


# --- Sign-in --------------------------------------------------------------------------------------


def auth_login(*, user, request: HttpRequest | None) -> AuditEvent:
    return audit_record(action="auth.login", actor=user, obj=user, request=request)


def auth_logout(*, user, request: HttpRequest | None) -> AuditEvent:
    return audit_record(action="auth.logout", actor=user, obj=user, request=request)


def auth_login_failed(*, username: str, request: HttpRequest | None) -> AuditEvent:
    return audit_record(
        action="auth.login_failed",
        actor=None,
        request=request,
        object_type="auth.user",
        object_repr=username,
        detail={"username": username},
    )


def auth_login_throttled(*, username: str, failures: int, request: HttpRequest) -> AuditEvent:
    return audit_record(
        action="auth.login_throttled",
        request=request,
        object_type="auth.user",
        object_repr=username,
        detail={"username": username, "failures": failures},
    )


def auth_totp_enrolled(*, request: HttpRequest) -> AuditEvent:
    return audit_record(action="auth.totp_enrolled", request=request, obj=request.user)


def auth_totp_verified(*, request: HttpRequest) -> AuditEvent:
    return audit_record(action="auth.totp_verified", request=request, obj=request.user)


def auth_totp_failed(*, request: HttpRequest) -> AuditEvent:
    return audit_record(action="auth.totp_failed", request=request, obj=request.user)


# --- Admin ----------------------------------------------------------------------------------------


def admin_saved(*, request: HttpRequest, obj: models.Model, before: dict | None, created: bool) -> AuditEvent:
    """A save in one of our admins (``admin.added`` / ``admin.changed``), with the row after it."""
    return audit_record(
        action="admin.added" if created else "admin.changed",
        request=request,
        obj=obj,
        before=before,
        after=model_snapshot(obj),
    )


def admin_deleted(*, request: HttpRequest, obj: models.Model) -> AuditEvent:
    return audit_record(action="admin.deleted", request=request, obj=obj, before=model_snapshot(obj))


def admin_logged(
    *,
    action_flag: int,
    actor: Actor,
    object_type: str,
    object_id: str,
    object_repr: str,
    before: dict | None,
    after: dict | None,
    change: str,
) -> AuditEvent:
    """An admin form save of another app, as Django's admin logged it (added, changed or deleted)."""
    return audit_record(
        action=_ADMIN_FLAGS.get(action_flag, "admin.logged"),
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        before=before,
        after=after,
        detail={"change": change},
    )


def admin_bulk_action(
    *, request: HttpRequest, object_type: str, action: str, ids: list[str], status: int
) -> AuditEvent:
    return audit_record(
        action="admin.bulk_action",
        request=request,
        object_type=object_type,
        object_repr=f"{action} on {len(ids)} row(s)",
        detail={"action": action[:100], "ids": ids[:1000], "count": len(ids), "status": status},
    )


def admin_viewed(*, request: HttpRequest, object_type: str, object_id: str) -> AuditEvent:
    return audit_record(action="admin.viewed", request=request, object_type=object_type, object_id=object_id)


# --- Audit trail and packages ---------------------------------------------------------------------


def audit_exported(*, request: HttpRequest, fmt: str, count: int) -> AuditEvent:
    return audit_record(
        action="audit.exported",
        request=request,
        object_type="audits.auditevent",
        object_repr=f"{fmt} export",
        detail={"format": fmt, "count": count},
    )


def audit_package_requested(
    *, actor: Actor, package: AuditPackage, store_code: str, since: date | None
) -> AuditEvent:
    return audit_record(
        action="audit.package_requested",
        actor=actor,
        obj=package,
        after={"store_code": store_code, "since": since},
    )


def audit_package_built(
    *, actor: Actor, package: AuditPackage, sha256: str, size: int, checkpoint_size: int
) -> AuditEvent:
    return audit_record(
        action="audit.package_built",
        actor=actor,
        obj=package,
        after={"sha256": sha256, "size": size, "checkpoint_size": checkpoint_size},
    )


def audit_package_downloaded(*, request: HttpRequest, package: AuditPackage) -> AuditEvent:
    return audit_record(
        action="audit.package_downloaded", request=request, obj=package, detail={"sha256": package.sha256}
    )


# --- Reviews --------------------------------------------------------------------------------------


def review_opened(*, actor: Actor, review: Review) -> AuditEvent:
    return audit_record(action="review.opened", actor=actor, obj=review, after=model_snapshot(review))


def reviews_opened(*, actor: Actor, review_ids: list[int], count: int) -> AuditEvent:
    """Many reviews opened at once (one event for the batch)."""
    return audit_record(
        action="review.opened",
        actor=actor,
        object_type="audits.review",
        object_repr=f"{count} review(s)",
        detail={"reviews": review_ids[:1000], "count": count},
    )


def review_reopened(*, actor: Actor, review: Review, before: dict, after: dict, reason: str) -> AuditEvent:
    return audit_record(
        action="review.reopened",
        actor=actor,
        obj=review,
        before=before,
        after=after,
        detail={"reason": reason},
    )


def review_decided(
    *, actor: Actor, review: Review, to: str, before: dict, after: dict, comment: str
) -> AuditEvent:
    """A review moved to ``to`` (submitted, approved, changes requested or rejected)."""
    return audit_record(
        action=_REVIEW_DECISIONS[to],
        actor=actor,
        obj=review,
        before=before,
        after=after,
        detail={"comment": comment[:500]} if comment else None,
    )


def review_refused(*, actor: Actor, review: Review, exc: Exception, detail: dict | None = None) -> AuditEvent:
    return audit_record(
        action="review.refused", actor=_user_or_none(actor), obj=review, detail=_refusal(exc, detail)
    )


def review_commented(*, actor: Actor, review: Review, comment: str) -> AuditEvent:
    return audit_record(action="review.commented", actor=actor, obj=review, detail={"comment": comment[:500]})


# --- AI Act classification ------------------------------------------------------------------------


def classification_proposed(*, actor: Actor, classification: Classification) -> AuditEvent:
    return audit_record(
        action="classification.proposed",
        actor=actor,
        obj=classification,
        after=model_snapshot(classification, ["use_case", "version", "risk_class", "answers"]),
    )


def classification_approved(*, actor: Actor, classification: Classification, comment: str) -> AuditEvent:
    return audit_record(
        action="classification.approved",
        actor=actor,
        obj=classification,
        after={"risk_class": classification.risk_class, "due_at": classification.due_at},
        detail={"comment": comment[:500]} if comment else None,
    )


def classification_refused(*, actor: Actor, classification: Classification, exc: Exception) -> AuditEvent:
    return audit_record(
        action="classification.refused",
        actor=_user_or_none(actor),
        obj=classification,
        detail=_refusal(exc, None),
    )


# --- Incidents ------------------------------------------------------------------------------------


def incident_opened(*, actor: Actor, incident: Incident) -> AuditEvent:
    return audit_record(
        action="incident.opened",
        actor=actor,
        obj=incident,
        after=model_snapshot(incident, ["title", "severity", "aware_at", "report_due_at"]),
        detail={
            "content_items": [i.pk for i in incident.content_items.all()],
            "generators": [g.pk for g in incident.generators.all()],
        },
    )


def incident_step_done(*, actor: Actor, incident: Incident, step: str) -> AuditEvent:
    return audit_record(action="incident.step_done", actor=actor, obj=incident, detail={"step": step})


def incident_status(*, actor: Actor, incident: Incident, before: str, note: str) -> AuditEvent:
    return audit_record(
        action="incident.status",
        actor=actor,
        obj=incident,
        before={"status": before},
        after={"status": incident.status},
        detail={"note": note[:500]} if note else None,
    )


def incident_note(*, actor: Actor, incident: Incident, note: str) -> AuditEvent:
    return audit_record(action="incident.note", actor=actor, obj=incident, detail={"note": note[:500]})


# --- Disclosure and sync --------------------------------------------------------------------------


def disclosure_switch(*, switch: AuditSwitch) -> AuditEvent:
    """An audit-switch change, whoever or whatever made it."""
    return audit_record(
        action="disclosure.switch",
        actor=switch.changed_by or "system:disclosure",
        obj=switch,
        after={"mode": switch.mode, "pause_generation": switch.pause_generation, "reason": switch.reason},
        detail={"store": switch.store_code, "surface": switch.surface, "log_index": switch.log_index},
    )


def sync_started(*, run: SyncRun) -> AuditEvent:
    """A Magento sync run started."""
    return audit_record(
        action="sync.started",
        actor=f"system:sync {run.triggered_by}".strip()[:150],
        obj=run,
        detail={"mode": run.mode, "store": run.store_code},
    )


def sync_ended(*, run: SyncRun) -> AuditEvent:
    """A Magento sync run ended (``sync.succeeded`` / ``sync.failed``) with its counts or its error."""
    return audit_record(
        action=_SYNC_ENDS[run.status],
        actor="system:sync",
        obj=run,
        detail={"error": run.error[:500]} if run.error else {"counts": run.counts},
    )


def sync_lock_broken(*, name: str, holder: str, reason: str, runs: list[int]) -> AuditEvent:
    """A dead sync's lock was taken over, or broken by an operator."""
    return audit_record(
        action="sync.lock_broken",
        actor="system:sync",
        object_type="magento_bridge.synclock",
        object_id=name[:64],
        object_repr=f"{name} held by {holder}"[:200],
        detail={"holder": holder[:200], "reason": reason[:500], "runs_failed": list(runs)[:100]},
    )


# --- Coverage and separation checks ---------------------------------------------------------------


def simulation_ended(*, actor: Actor, run: SimulationRun, triggered_by: str, seconds: float) -> AuditEvent:
    """A disclosure-coverage simulation ended (``simulation.finished`` / ``simulation.failed``)."""
    return audit_record(
        action="simulation.finished" if run.status == SimulationRun.Status.SUCCEEDED else "simulation.failed",
        actor=actor if actor is not None else "system:simulation",
        obj=run,
        detail={
            "store_code": run.store_code,
            "triggered_by": triggered_by,
            "pages": run.pages,
            "checks": run.checks,
            "passed": run.passed,
            "failed": run.failed,
            "seconds": seconds,
            "error": run.error[:500],
        },
    )


def separation_scan_ended(*, actor: Actor, scan: SeparationScan, triggered_by: str) -> AuditEvent:
    """A separation scan ended (``separation.scan_finished`` / ``separation.scan_failed``)."""
    return audit_record(
        action="separation.scan_finished"
        if scan.status == SeparationScan.Status.SUCCEEDED
        else "separation.scan_failed",
        actor=actor if actor is not None else "system:separation",
        obj=scan,
        detail={
            "triggered_by": triggered_by,
            "rows_scanned": scan.rows_scanned,
            "findings": scan.findings_count,
            "counts": scan.counts,
            "error": scan.error[:500],
        },
    )
