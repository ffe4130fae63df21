"""Reads of the consent room: a subject's current consent (cached), the findings on profiling
declarations, and the consent evidence of the audit package (counts, never subjects)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import Count, Max, Min, Q

from consent.models import ConsentEvent, ConsentState, CurrentConsent, ProfilingDeclaration
from consent.subjects import utc_text
from sidecar.shared_cache import cache_delete_many, cache_get, cache_set

__all__ = [
    "ConsentFinding",
    "consent_cache_forget",
    "consent_check",
    "consent_current",
    "consent_evidence",
    "declaration_rows",
]

_CACHE_KEY = "consent:current:v1:{}"


def _cache_key(subject_hash: str) -> str:
    return _CACHE_KEY.format(subject_hash)


def consent_current(subject_hash: str) -> dict[str, dict]:
    """``{purpose: {"state", "policy_version", "occurred_at"}}`` of one subject, from the shared
    cache when it holds the answer (for at most ``PROVENANT_CONSENT_CACHE_SECONDS``; writes drop it),
    from the current-state table otherwise. No events: ``{}``, which means no consent."""
    seconds = settings.CONSENT_CACHE_SECONDS
    key = _cache_key(subject_hash)
    if seconds:
        cached = cache_get(key)
        if cached is not None:
            return cached
    rows = CurrentConsent.objects.filter(subject_hash=subject_hash).values_list(
        "purpose", "state", "policy_version", "occurred_at"
    )
    answer = {
        purpose: {"state": state, "policy_version": version, "occurred_at": utc_text(occurred_at)}
        for purpose, state, version, occurred_at in rows
    }
    if seconds:
        cache_set(key, answer, seconds)
    return answer


def consent_cache_forget(subject_hashes: Iterable[str]) -> None:
    """Drop the cached answers of these subjects (after their events commit)."""
    keys = [_cache_key(h) for h in subject_hashes]
    if keys:
        cache_delete_many(keys)


# --- Findings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentFinding:
    """A problem with a profiling declaration; ``code`` is stable."""

    code: str
    declaration_id: int
    store_code: str
    placement: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def consent_check() -> list[ConsentFinding]:
    """Profiling surfaces with no declared purpose (``no_purpose``: consent cannot be asked for
    them) and profiling surfaces whose training data is not traced (``training_data_unknown``)."""
    findings = []
    for d in ProfilingDeclaration.objects.filter(profiles=True).order_by("store_code", "placement"):
        if not d.purpose:
            findings.append(
                ConsentFinding(
                    "no_purpose",
                    d.pk,
                    d.store_code,
                    d.placement,
                    "profiles shoppers but declares no purpose, so no consent can be asked or checked",
                )
            )
        if d.training_data == "unknown" and not d.trained_on_node:
            findings.append(
                ConsentFinding(
                    "training_data_unknown",
                    d.pk,
                    d.store_code,
                    d.placement,
                    "profiles shoppers but declares neither the kind of behavioural data its model was "
                    "trained on nor a lineage link to it",
                )
            )
    return findings


# --- Audit package --------------------------------------------------------------------------------

EVIDENCE_HEADER = [
    "purpose",
    "policy_version",
    "granted_events",
    "withdrawn_events",
    "first_event_at",
    "last_event_at",
    "subjects_granted_now",
    "subjects_withdrawn_now",
]


def consent_evidence(*, since=None) -> list[list[object]]:
    """Rows of :data:`EVIDENCE_HEADER` per purpose and policy version: events in the ledger (since
    ``since`` when given) and subjects whose current consent is under that version. Counts only."""
    events = ConsentEvent.objects.all()
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    tallies: dict[tuple[str, str], dict] = {}
    for row in (
        events.values("purpose", "policy_version")
        .annotate(
            granted=Count("id", filter=Q(state=ConsentState.GRANTED)),
            withdrawn=Count("id", filter=Q(state=ConsentState.WITHDRAWN)),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
        )
        .order_by()
    ):
        tallies[(row["purpose"], row["policy_version"])] = row
    now: dict[tuple[str, str], dict[str, int]] = {}
    for row in (
        CurrentConsent.objects.values("purpose", "policy_version", "state").annotate(n=Count("id")).order_by()
    ):
        now.setdefault((row["purpose"], row["policy_version"]), {})[row["state"]] = row["n"]
    rows = []
    for key in sorted(set(tallies) | set(now)):
        t = tallies.get(key, {})
        current = now.get(key, {})
        rows.append(
            [
                *key,
                t.get("granted", 0),
                t.get("withdrawn", 0),
                utc_text(t["first"]) if t.get("first") else "",
                utc_text(t["last"]) if t.get("last") else "",
                current.get(ConsentState.GRANTED, 0),
                current.get(ConsentState.WITHDRAWN, 0),
            ]
        )
    return rows


DECLARATION_HEADER = [
    "store_code",
    "placement",
    "profiles",
    "purpose",
    "training_data",
    "trained_on",
    "findings",
]


def declaration_rows(*, store_code: str | None = None) -> list[list[object]]:
    """Rows of :data:`DECLARATION_HEADER`: every profiling declaration (of one store when given)."""
    findings: dict[int, list[str]] = {}
    for finding in consent_check():
        findings.setdefault(finding.declaration_id, []).append(finding.code)
    declarations = ProfilingDeclaration.objects.select_related(
        "trained_on_dataset", "trained_on_job", "generator"
    )
    if store_code:
        declarations = declarations.filter(store_code=store_code)
    rows = []
    for d in declarations.order_by("store_code", "placement"):
        target = d.trained_on_dataset or d.trained_on_job or d.generator
        trained_on = f"{d.trained_on_node} ({target})" if target is not None else ""
        rows.append(
            [
                d.store_code,
                d.placement,
                "yes" if d.profiles else "no",
                d.purpose,
                d.training_data,
                trained_on,
                " ".join(findings.get(d.pk, [])),
            ]
        )
    return rows
