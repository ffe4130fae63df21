"""Writes of the compliance workspace: review transitions, classifications, incidents.

Every function checks the actor's role (permissions of the role groups, :mod:`audits.roles`) and the
four-eyes rule server-side, records its audit event in the same transaction, and logs review and
classification decisions in the transparency log (public payloads: ids and hashes only). Refused
attempts are recorded as ``*.refused`` audit events, then raised as a :class:`WorkspaceError`.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import router, transaction
from django.db.models import F, Q
from django.utils import timezone

from audits import events
from audits.ai_act import QUESTION_KEYS, classify
from audits.models import (
    REPORT_DAYS,
    Classification,
    ClassificationStatus,
    Incident,
    IncidentSeverity,
    IncidentStatus,
    IncidentStep,
    IncidentUpdate,
    Review,
    ReviewComment,
    ReviewStatus,
)
from audits.roles import ROLE_PERMISSIONS
from audits.selectors import ai_act_milestones
from datasets.models import DatasetKind, DatasetVersion
from datasets.selectors import versions_with_latest_report
from provenance.log import log_append
from provenance.models import ContentItem, Generator, Origin, Surface
from provenance.standards.canonical import canonical_json

__all__ = [
    "FourEyesViolation",
    "InvalidTransition",
    "ReviewBlocked",
    "ReviewConflict",
    "RoleRequired",
    "WorkspaceError",
    "classification_approve",
    "classification_propose",
    "incident_next_statuses",
    "incident_note",
    "incident_open",
    "incident_set_status",
    "incident_step_complete",
    "review_approve",
    "review_comment",
    "review_open",
    "review_reject",
    "review_request_changes",
    "review_submit",
    "reviews_open_missing",
    "reviews_reopen_changed",
]

SYSTEM_REVIEWS = "system:reviews"
SYSTEM_DATASET_REPORTS = "system:dataset-reports"


def _atomic():
    """A transaction on the database the workspace's models are written to (the router's choice)."""
    return transaction.atomic(using=router.db_for_write(Review))


REVIEWED_ORIGINS = (Origin.SYNTHETIC, Origin.SUSPECTED)


class WorkspaceError(Exception):
    """A refused workspace action; ``code`` is stable (API error code), the message is for people."""

    code = "invalid"
    http_status = 400


class RoleRequired(WorkspaceError):
    code = "forbidden"
    http_status = 403


class FourEyesViolation(WorkspaceError):
    code = "four_eyes"
    http_status = 403


class ReviewConflict(WorkspaceError):
    code = "conflict"
    http_status = 409


class InvalidTransition(WorkspaceError):
    code = "invalid_transition"
    http_status = 409


class ReviewBlocked(WorkspaceError):
    """A dataset version whose newest report breaches a threshold or an integrity rule."""

    code = "blocked"
    http_status = 409


def _require(actor, *perms: str, what: str) -> None:
    if actor is None or not getattr(actor, "is_active", False) or not any(actor.has_perm(p) for p in perms):
        name = getattr(actor, "username", None) or "this user"
        raise RoleRequired(f"{name} may not {what}: it needs the {_role_names(perms)} role.")


def _role_names(perms: tuple[str, ...]) -> str:
    roles = [
        r for r, pats in ROLE_PERMISSIONS.items() if r != "Administrator" and any(p in pats for p in perms)
    ]
    return " or ".join(roles) or "Administrator"


# --- Reviews --------------------------------------------------------------------------------------

_SURFACE_RISK = {
    Surface.CMS_PAGE: 4,
    Surface.CMS_BLOCK: 3,
    Surface.PRODUCT_IMAGE: 3,
    Surface.RECOMMENDATION: 2,
}


def _item_risk(item: ContentItem) -> int:
    """Patient-education pages rank highest; suspected (unconfirmed) content and problems add one."""
    risk = _SURFACE_RISK.get(item.surface, 2)
    if item.origin == Origin.SUSPECTED or item.problem_code:
        risk += 1
    return min(risk, 5)


def _generator_risk(generator: Generator) -> int:
    return 5 if generator.uses_patient_data else 3


# Patients' records and clinic schedules can harm people most when they leak or corrupt live flows.
_DATASET_KIND_RISK = {
    DatasetKind.PATIENTS: 5,
    DatasetKind.APPOINTMENTS: 4,
    DatasetKind.TRANSACTIONS: 4,
    DatasetKind.BEHAVIOURAL_EVENTS: 3,
}


def _dataset_risk(version: DatasetVersion) -> int:
    """By kind; a generator that declares patient data makes any of its datasets the highest risk."""
    if version.dataset.generator.uses_patient_data:
        return 5
    return _DATASET_KIND_RISK.get(version.dataset.kind, 3)


def _latest_report(version: DatasetVersion):
    """``(report id, findings)`` of the version's newest report; ``(None, [])`` before any report."""
    row = (
        versions_with_latest_report(DatasetVersion.objects.filter(pk=version.pk))
        .values("latest_report_id", "latest_findings")
        .first()
    )
    if row is None:
        return None, []
    return row["latest_report_id"], row["latest_findings"] or []


def dataset_version_state_sha256(version: DatasetVersion) -> str:
    """SHA-256 of the RFC 8785 JSON of what a dataset version's approval covers: the dataset card
    (name, kind, generator, schema, reference) and the newest report it was judged by, so a new
    report or a changed card sends an approved version back to the queue."""
    dataset = version.dataset
    report_id, findings = _latest_report(version)
    state = {
        "dataset": dataset.name,
        "kind": dataset.kind,
        "generator": dataset.generator.name,
        "generator_version": dataset.generator_version,
        "schema": dataset.schema,
        "reference": dataset.reference.name if dataset.reference_id else None,
        "version": version.number,
        "row_count": version.row_count,
        "report": report_id,
        "findings": len(findings),
    }
    return hashlib.sha256(canonical_json(state)).hexdigest()


def generator_state_sha256(generator: Generator) -> str:
    """SHA-256 of the RFC 8785 JSON of what a generator's approval covers (its card and declarations)."""
    state = {
        "name": generator.name,
        "provider": generator.provider,
        "version": generator.version,
        "model_card": generator.model_card,
        "hf_metadata": generator.hf_metadata,
        "intended_use": generator.intended_use,
        "data_sources": generator.data_sources,
        "uses_patient_data": generator.uses_patient_data,
        "patient_data_note": generator.patient_data_note,
    }
    return hashlib.sha256(canonical_json(state)).hexdigest()


def _current_hashes(review: Review) -> tuple[str, str]:
    if review.content_item_id:
        item = review.content_item
        return item.content_sha256, item.state_sha256
    if review.dataset_version_id:
        version = review.dataset_version
        return version.sha256, dataset_version_state_sha256(version)
    return "", generator_state_sha256(review.generator)


def review_open(
    *,
    content_item: ContentItem | None = None,
    generator: Generator | None = None,
    dataset_version: DatasetVersion | None = None,
    actor=SYSTEM_REVIEWS,
) -> Review:
    """The review of this item, generator or dataset version, created pending when there is none."""
    if sum(subject is not None for subject in (content_item, generator, dataset_version)) != 1:
        raise ValueError("review_open needs exactly one of content_item, generator or dataset_version")
    with _atomic():
        if content_item is not None:
            review, created = Review.objects.get_or_create(
                content_item=content_item, defaults={"risk": _item_risk(content_item)}
            )
        elif generator is not None:
            review, created = Review.objects.get_or_create(
                generator=generator, defaults={"risk": _generator_risk(generator)}
            )
        else:
            review, created = Review.objects.get_or_create(
                dataset_version=dataset_version, defaults={"risk": _dataset_risk(dataset_version)}
            )
        if created:
            events.review_opened(actor=actor, review=review)
    return review


def reviews_open_missing(*, actor=SYSTEM_REVIEWS, batch_size: int = 500) -> int:
    """Open pending reviews for present synthetic or suspected items, and for every generator and
    dataset version lacking one.

    In batches: one insert and one audit event (listing the new reviews) per batch.
    """
    items = ContentItem.objects.filter(
        origin__in=REVIEWED_ORIGINS, removed_at__isnull=True, review__isnull=True
    ).order_by("pk")
    opened = 0
    while True:
        batch = list(items[:batch_size])
        if not batch:
            break
        opened += _open_batch([Review(content_item=item, risk=_item_risk(item)) for item in batch], actor)
    generators = list(Generator.objects.filter(review__isnull=True))
    if generators:
        opened += _open_batch([Review(generator=g, risk=_generator_risk(g)) for g in generators], actor)
    versions = DatasetVersion.objects.filter(review__isnull=True).select_related("dataset__generator")
    while True:
        batch = list(versions.order_by("pk")[:batch_size])
        if not batch:
            break
        opened += _open_batch([Review(dataset_version=v, risk=_dataset_risk(v)) for v in batch], actor)
    return opened


def _open_batch(reviews: list[Review], actor) -> int:
    with _atomic():
        Review.objects.bulk_create(reviews, ignore_conflicts=True)
        keys = [r.content_item_id for r in reviews if r.content_item_id]
        created = Review.objects.filter(
            Q(content_item_id__in=keys)
            | Q(generator_id__in=[r.generator_id for r in reviews if r.generator_id])
            | Q(dataset_version_id__in=[r.dataset_version_id for r in reviews if r.dataset_version_id]),
            status=ReviewStatus.PENDING,
            version=1,
        ).values_list("pk", flat=True)
        ids = sorted(created)
        events.reviews_opened(actor=actor, review_ids=ids, count=len(reviews))
    return len(reviews)


def reviews_reopen_changed(*, actor=SYSTEM_REVIEWS, dataset_version: DatasetVersion | None = None) -> int:
    """Send approved reviews whose subject changed since sign-off back to pending; returns how many.

    With ``dataset_version``, only that version's review is looked at (after a new report of it)."""
    reopened = 0
    approved = Review.objects.filter(status=ReviewStatus.APPROVED).select_related(
        "content_item",
        "generator",
        "dataset_version__dataset__generator",
        "dataset_version__dataset__reference",
    )
    if dataset_version is not None:
        approved = approved.filter(dataset_version=dataset_version)
    # Content items are compared in the database (only changed ones are read); generators and dataset
    # versions are few and their state hash is computed here.
    changed_items = approved.filter(content_item__isnull=False).filter(
        ~Q(content_item__content_sha256=F("approved_content_sha256"))
        | ~Q(content_item__state_sha256=F("approved_state_sha256"))
    )
    candidates = itertools.chain(
        changed_items.iterator(chunk_size=500),
        approved.filter(Q(generator__isnull=False) | Q(dataset_version__isnull=False)).iterator(
            chunk_size=500
        ),
    )
    for review in candidates:
        content, state = _current_hashes(review)
        if content == review.approved_content_sha256 and state == review.approved_state_sha256:
            continue
        what = "content" if content != review.approved_content_sha256 else "state"
        if review.dataset_version_id and what == "state":
            what = "dataset card or its report"
        reason = f"the {what} changed after approval"
        with _atomic():
            updated = Review.objects.filter(
                pk=review.pk, version=review.version, status=ReviewStatus.APPROVED
            ).update(
                status=ReviewStatus.PENDING,
                version=F("version") + 1,
                reopened_reason=reason,
                proposed_by=None,
                proposed_at=None,
                queued_at=timezone.now(),
                updated_at=timezone.now(),
            )
            if not updated:
                continue
            event = events.review_reopened(
                actor=actor,
                review=review,
                before={
                    "status": ReviewStatus.APPROVED,
                    "content_sha256": review.approved_content_sha256,
                    "state_sha256": review.approved_state_sha256,
                },
                after={"status": ReviewStatus.PENDING, "content_sha256": content, "state_sha256": state},
                reason=reason,
            )
            _log_decision(review, ReviewStatus.PENDING, review.version + 1, content, state, event)
        reopened += 1
    return reopened


def _log_decision(review: Review, status: str, version: int, content: str, state: str, event) -> None:
    log_append(
        kind="review.decision",
        payload={
            "review": review.pk,
            "subject": review.subject_kind,
            "subject_id": review.subject_id,
            "status": str(status),
            "version": version,
            "content_sha256": content,
            "state_sha256": state,
            "audit_seq": event.seq,
            "audit_hash": event.hash,
        },
    )


def _transition(
    review: Review,
    *,
    actor,
    expected_version: int,
    to: str,
    allowed_from: Iterable[str],
    comment: str,
    four_eyes: bool = False,
    extra: dict | None = None,
) -> Review:
    allowed_from = tuple(allowed_from)
    try:
        with _atomic():
            now = timezone.now()
            fields = {"status": to, "version": F("version") + 1, "updated_at": now, **(extra or {})}
            content, state = _current_hashes(review)
            if to == ReviewStatus.APPROVED:
                fields.update(approved_content_sha256=content, approved_state_sha256=state)
            rows = Review.objects.filter(pk=review.pk, version=expected_version, status__in=allowed_from)
            if four_eyes:
                # Checked in the same statement that writes, so no interleaving can slip past it.
                rows = rows.exclude(proposed_by=actor).exclude(proposed_by__isnull=True)
            if not rows.update(**fields):
                current = Review.objects.get(pk=review.pk)
                if current.version != expected_version:
                    raise ReviewConflict(
                        f"Someone else acted on this review first (it is now version {current.version}, "
                        f"{current.get_status_display().lower()}); reload it and decide again."
                    )
                if current.status not in allowed_from:
                    raise InvalidTransition(
                        f"A review that is {current.get_status_display().lower()} cannot become "
                        f"{ReviewStatus(to).label.lower()}."
                    )
                if current.proposed_by_id == getattr(actor, "pk", None):
                    raise FourEyesViolation(
                        "Four eyes: you proposed this review, so another approver must sign it off."
                    )
                raise InvalidTransition("This review has no proposal to sign off yet.")
            before = {"status": review.status, "version": expected_version}
            review.refresh_from_db()
            if comment.strip():
                ReviewComment.objects.create(review=review, author=actor, body=comment.strip(), transition=to)
            event = events.review_decided(
                actor=actor,
                review=review,
                to=to,
                before=before,
                after={
                    "status": review.status,
                    "version": review.version,
                    "content_sha256": content,
                    "state_sha256": state,
                },
                comment=comment.strip(),
            )
            _log_decision(review, to, review.version, content, state, event)
    except WorkspaceError as exc:
        events.review_refused(
            actor=actor, review=review, exc=exc, detail={"attempted": to, "version": expected_version}
        )
        raise
    return review


def _what_was_checked(comment: str, what: str) -> None:
    if not comment.strip():
        raise WorkspaceError(f"Say what you checked before you {what}: a comment is required.")


def _not_blocked(review: Review, what: str) -> None:
    """A dataset version whose newest report has findings cannot be proposed or signed off."""
    if not review.dataset_version_id:
        return
    _, findings = _latest_report(review.dataset_version)
    if findings:
        raise ReviewBlocked(
            f"Blocked: the newest report of {review.dataset_version} has {len(findings)} finding(s) "
            f"(a threshold or an integrity rule breached), so you cannot {what}. Fix the dataset and "
            "register a new version, or change the thresholds and re-run the report."
        )


def review_submit(*, review: Review, actor, expected_version: int, comment: str) -> Review:
    """Reviewer: propose sign-off (pending or changes requested → in review, awaiting an approver).

    ``comment`` says what was checked; it is required and kept with the decision."""
    try:
        _require(actor, "audits.propose_review", what="propose a review")
        _what_was_checked(comment, "propose sign-off")
        _not_blocked(review, "propose sign-off")
    except WorkspaceError as exc:
        events.review_refused(actor=actor, review=review, exc=exc, detail={"attempted": "in_review"})
        raise
    return _transition(
        review,
        actor=actor,
        expected_version=expected_version,
        to=ReviewStatus.IN_REVIEW,
        allowed_from=(ReviewStatus.PENDING, ReviewStatus.CHANGES_REQUESTED),
        comment=comment,
        extra={"proposed_by": actor, "proposed_at": timezone.now(), "reopened_reason": ""},
    )


def review_approve(*, review: Review, actor, expected_version: int, comment: str) -> Review:
    """Approver: sign off a proposed review. Never the person who proposed it (four eyes).

    ``comment`` says what was checked; it is required and kept with the decision."""
    try:
        _require(actor, "audits.approve_review", what="sign off a review")
        _what_was_checked(comment, "sign off")
        _not_blocked(review, "sign it off")
    except WorkspaceError as exc:
        events.review_refused(actor=actor, review=review, exc=exc, detail={"attempted": "approved"})
        raise
    return _transition(
        review,
        actor=actor,
        expected_version=expected_version,
        to=ReviewStatus.APPROVED,
        allowed_from=(ReviewStatus.IN_REVIEW,),
        comment=comment,
        four_eyes=True,
        extra={"decided_by": actor, "decided_at": timezone.now()},
    )


def review_request_changes(*, review: Review, actor, expected_version: int, comment: str) -> Review:
    """Reviewer or approver: send back with a comment saying what must change."""
    try:
        _require(actor, "audits.propose_review", "audits.approve_review", what="request changes")
        if not comment.strip():
            raise WorkspaceError("Say what must change: a comment is required.")
    except WorkspaceError as exc:
        events.review_refused(actor=actor, review=review, exc=exc, detail={"attempted": "changes_requested"})
        raise
    return _transition(
        review,
        actor=actor,
        expected_version=expected_version,
        to=ReviewStatus.CHANGES_REQUESTED,
        allowed_from=(ReviewStatus.PENDING, ReviewStatus.IN_REVIEW),
        comment=comment,
        extra={"decided_by": actor, "decided_at": timezone.now()},
    )


def review_reject(*, review: Review, actor, expected_version: int, comment: str) -> Review:
    """Approver: reject and request a takedown (from any open or approved state), with a reason."""
    try:
        _require(actor, "audits.approve_review", what="reject content")
        if not comment.strip():
            raise WorkspaceError("Give the reason for the rejection: a comment is required.")
    except WorkspaceError as exc:
        events.review_refused(actor=actor, review=review, exc=exc, detail={"attempted": "rejected"})
        raise
    return _transition(
        review,
        actor=actor,
        expected_version=expected_version,
        to=ReviewStatus.REJECTED,
        allowed_from=(
            ReviewStatus.PENDING,
            ReviewStatus.IN_REVIEW,
            ReviewStatus.CHANGES_REQUESTED,
            ReviewStatus.APPROVED,
        ),
        comment=comment,
        extra={"decided_by": actor, "decided_at": timezone.now()},
    )


def review_comment(*, review: Review, actor, body: str) -> ReviewComment:
    _require(actor, "audits.propose_review", "audits.approve_review", what="comment on reviews")
    if not body.strip():
        raise WorkspaceError("The comment is empty.")
    with _atomic():
        comment = ReviewComment.objects.create(review=review, author=actor, body=body.strip())
        events.review_commented(actor=actor, review=review, comment=body.strip())
    return comment


# --- Classification -------------------------------------------------------------------------------


def classification_propose(
    *, generator: Generator, use_case: str, answers: dict, actor, notes: str = ""
) -> Classification:
    """A new version of the classification of ``generator`` in ``use_case``, awaiting an approver."""
    _require(actor, "audits.add_classification", what="classify generators")
    use_case = use_case.strip()
    if not use_case:
        raise WorkspaceError("Name the use case.")
    answers = {k: bool(answers.get(k)) for k in QUESTION_KEYS}
    outcome = classify(answers, milestones=ai_act_milestones())
    rationale = "\n".join(outcome.rationale)
    with _atomic():
        # Lock the generator row: two proposals at once get consecutive versions, not a clash.
        Generator.objects.select_for_update().filter(pk=generator.pk).first()
        latest = (
            Classification.objects.filter(generator=generator, use_case=use_case).order_by("-version").first()
        )
        classification = Classification.objects.create(
            generator=generator,
            use_case=use_case,
            version=(latest.version + 1) if latest else 1,
            answers=answers,
            risk_class=outcome.risk_class,
            obligations=outcome.obligations,
            rationale=rationale,
            notes=notes.strip(),
            proposed_by=actor,
        )
        events.classification_proposed(actor=actor, classification=classification)
    return classification


def classification_approve(*, classification: Classification, actor, comment: str = "") -> Classification:
    """Approver: sign off a proposed version (four eyes); earlier approved versions are superseded."""
    try:
        _require(actor, "audits.approve_classification", what="approve classifications")
        if classification.proposed_by_id == actor.pk:
            raise FourEyesViolation(
                "Four eyes: you proposed this classification, so another approver must sign it off."
            )
    except WorkspaceError as exc:
        events.classification_refused(actor=actor, classification=classification, exc=exc)
        raise
    now = timezone.now()
    try:
        with _atomic():
            updated = (
                Classification.objects.filter(pk=classification.pk, status=ClassificationStatus.PROPOSED)
                .exclude(proposed_by=actor)
                .update(
                    status=ClassificationStatus.APPROVED,
                    approved_by=actor,
                    approved_at=now,
                    due_at=now + timedelta(days=settings.AUDITS_RECLASSIFY_DAYS),
                )
            )
            if not updated:
                current = Classification.objects.get(pk=classification.pk)
                if current.status == ClassificationStatus.PROPOSED and current.proposed_by_id == actor.pk:
                    raise FourEyesViolation(
                        "Four eyes: you proposed this classification, so another approver must sign it off."
                    )
                raise InvalidTransition(
                    "Only a proposed classification can be approved (someone may have acted first)."
                )
            _classification_approved(classification, actor, comment)
    except WorkspaceError as exc:
        events.classification_refused(actor=actor, classification=classification, exc=exc)
        raise
    return classification


def _classification_approved(classification: Classification, actor, comment: str) -> None:
    Classification.objects.filter(
        generator_id=classification.generator_id,
        use_case=classification.use_case,
        status=ClassificationStatus.APPROVED,
    ).exclude(pk=classification.pk).update(status=ClassificationStatus.SUPERSEDED)
    classification.refresh_from_db()
    event = events.classification_approved(actor=actor, classification=classification, comment=comment)
    log_append(
        kind="classification.approved",
        payload={
            "classification": classification.pk,
            "generator": classification.generator_id,
            "version": classification.version,
            "risk_class": classification.risk_class,
            "answers_sha256": hashlib.sha256(canonical_json(classification.answers)).hexdigest(),
            "audit_seq": event.seq,
            "audit_hash": event.hash,
        },
    )


# --- Incidents ------------------------------------------------------------------------------------

RESPONSE_PLAN = [
    (
        "takedown",
        "Take the content down through the audit switch",
        "Switch the affected items off in the storefront (disclosure app's audit switch) until corrected.",
    ),
    (
        "notify",
        "Notify",
        "Tell the market surveillance authority (Art. 73) within the deadline when this is a serious "
        "incident; "
        "inform the provider or deployer of the generator, and affected customers where needed.",
    ),
    (
        "correct",
        "Correct",
        "Fix or replace the content, or the generator's configuration; record what changed.",
    ),
    (
        "review",
        "Review",
        "Send the corrected items and the generator back through review and reclassification.",
    ),
]


def _response_plan_create(incident: Incident) -> None:
    IncidentStep.objects.bulk_create(
        IncidentStep(incident=incident, position=n, kind=kind, title=step_title, guidance=guidance)
        for n, (kind, step_title, guidance) in enumerate(RESPONSE_PLAN, start=1)
    )


def incident_open(
    *,
    title: str,
    severity: str,
    actor,
    aware_at: datetime | None = None,
    description: str = "",
    content_items: Iterable[ContentItem] = (),
    generators: Iterable[Generator] = (),
) -> Incident:
    """Open an incident with the Art. 73 clock (15 / 10 / 2 days from awareness) and the response plan."""
    _require(actor, "audits.add_incident", what="open incidents")
    if severity not in IncidentSeverity.values:
        raise WorkspaceError(f"Unknown severity {severity!r}.")
    if not title.strip():
        raise WorkspaceError("Give the incident a title.")
    aware_at = aware_at or timezone.now()
    days = REPORT_DAYS.get(severity)
    with _atomic():
        incident = Incident.objects.create(
            title=title.strip()[:200],
            severity=severity,
            description=description,
            aware_at=aware_at,
            report_due_at=aware_at + timedelta(days=days) if days else None,
            opened_by=actor,
        )
        incident.content_items.set(list(content_items))
        incident.generators.set(list(generators))
        _response_plan_create(incident)
        due = f"; report due {incident.report_due_at:%Y-%m-%d %H:%M} UTC" if incident.report_due_at else ""
        IncidentUpdate.objects.create(
            incident=incident, actor=actor, text=f"Opened as {incident.get_severity_display()}{due}."
        )
        events.incident_opened(actor=actor, incident=incident)
    return incident


def incident_draft_for_report(report) -> Incident | None:
    """A draft incident for a dataset report with findings (a threshold or an integrity rule
    breached), in the report's transaction; ``None`` when the report passed.

    One incident per version while it is not closed: a further report of the same version adds its
    findings to that incident's timeline. The draft is minor (no Art. 73 clock) and has no opener
    until staff confirm it (``open``: severity and deadline are theirs to judge) or dismiss it
    (``closed``, with a note). Its text holds the findings' messages: rule names, scores, counts
    and row numbers, never rows of the dataset or the reference.
    """
    if not report.findings:
        return None
    version = report.version
    dataset = version.dataset
    lines = [f"- {finding.get('message') or finding.get('check', 'finding')}" for finding in report.findings]
    summary = (
        f"Report {report.pk} of {dataset.name} v{version.number}: {len(lines)} finding(s).\n"
        + "\n".join(lines)
    )
    with _atomic():
        existing = (
            Incident.objects.select_for_update()
            .filter(dataset_versions=version)
            .exclude(status=IncidentStatus.CLOSED)
            .order_by("id")
            .first()
        )
        if existing is not None:
            IncidentUpdate.objects.create(incident=existing, actor=None, text=summary)
            return existing
        incident = Incident.objects.create(
            title=f"Synthetic dataset {dataset.name} v{version.number} breaches its checks"[:200],
            severity=IncidentSeverity.MINOR,
            status=IncidentStatus.DRAFT,
            description=summary,
            aware_at=report.created_at,
            opened_by=None,
        )
        incident.dataset_versions.set([version])
        incident.generators.set([dataset.generator])
        _response_plan_create(incident)
        IncidentUpdate.objects.create(
            incident=incident,
            actor=None,
            text="Drafted from a dataset report: confirm it (open) or dismiss it (close, with a note).",
        )
        events.incident_opened(actor=SYSTEM_DATASET_REPORTS, incident=incident)
    return incident


def incident_step_complete(*, step: IncidentStep, actor) -> IncidentStep:
    _require(actor, "audits.change_incident", what="work on incidents")
    with _atomic():
        if not IncidentStep.objects.filter(pk=step.pk, done_at__isnull=True).update(
            done_at=timezone.now(), done_by=actor
        ):
            raise InvalidTransition("That step is already done.")
        step.refresh_from_db()
        IncidentUpdate.objects.create(incident=step.incident, actor=actor, text=f"Done: {step.title}.")
        events.incident_step_done(actor=actor, incident=step.incident, step=step.kind)
    return step


_NEXT_STATUS = {
    IncidentStatus.DRAFT: {IncidentStatus.OPEN, IncidentStatus.CLOSED},
    IncidentStatus.OPEN: {IncidentStatus.INVESTIGATING, IncidentStatus.REPORTED, IncidentStatus.CLOSED},
    IncidentStatus.INVESTIGATING: {IncidentStatus.REPORTED, IncidentStatus.CLOSED},
    IncidentStatus.REPORTED: {IncidentStatus.CLOSED},
    IncidentStatus.CLOSED: {IncidentStatus.INVESTIGATING},
}


def incident_next_statuses(incident: Incident) -> list[IncidentStatus]:
    """The statuses an incident may move to from where it is, in workflow order."""
    allowed = _NEXT_STATUS.get(incident.status, set())
    return [status for status in IncidentStatus if status in allowed]


def incident_set_status(*, incident: Incident, status: str, actor, note: str = "") -> Incident:
    """Move an incident on; ``reported`` stops the Art. 73 clock, ``closed`` needs a note."""
    _require(actor, "audits.change_incident", what="work on incidents")
    if status not in _NEXT_STATUS.get(incident.status, set()):
        raise InvalidTransition(
            f"An incident that is {incident.get_status_display().lower()} cannot become {status}."
        )
    if status == IncidentStatus.CLOSED and not note.strip():
        raise WorkspaceError("Say how the incident was resolved: a note is required to close it.")
    now = timezone.now()
    fields = {"status": status, "version": F("version") + 1}
    if status == IncidentStatus.REPORTED:
        fields["reported_at"] = now
    if status == IncidentStatus.CLOSED:
        fields["closed_at"] = now
    if status == IncidentStatus.INVESTIGATING:
        fields["closed_at"] = None
    if (
        incident.status == IncidentStatus.DRAFT
        and status == IncidentStatus.OPEN
        and incident.opened_by_id is None
    ):
        fields["opened_by"] = actor  # who confirmed the draft opened the incident
    with _atomic():
        if not Incident.objects.filter(pk=incident.pk, version=incident.version).update(**fields):
            raise ReviewConflict("Someone else changed this incident first; reload it and try again.")
        before = incident.status
        incident.refresh_from_db()
        label = incident.get_status_display()
        IncidentUpdate.objects.create(
            incident=incident,
            actor=actor,
            text=f"Status: {label}." + (f" {note.strip()}" if note.strip() else ""),
        )
        events.incident_status(actor=actor, incident=incident, before=before, note=note.strip())
    return incident


def incident_note(*, incident: Incident, actor, text: str) -> IncidentUpdate:
    _require(actor, "audits.change_incident", what="work on incidents")
    if not text.strip():
        raise WorkspaceError("The note is empty.")
    with _atomic():
        update = IncidentUpdate.objects.create(incident=incident, actor=actor, text=text.strip())
        events.incident_note(actor=actor, incident=incident, note=text.strip())
    return update
