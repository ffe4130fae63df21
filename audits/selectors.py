"""Reads of the compliance workspace: the review queue and the dashboard's figures.

Disclosure coverage is the ``disclosure`` app's knowledge (:func:`disclosure.selectors.badge_coverage`):
of the synthetic items published to shoppers, those the public badge API discloses. The audit
package's disclosure register counts with the same function, so the two numbers agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from audits.ai_act import Milestone, RiskClass, milestones_with
from audits.models import (
    OPEN_REVIEW_STATUSES,
    Classification,
    ClassificationStatus,
    Incident,
    IncidentStatus,
    Review,
    ReviewStatus,
    SeparationScan,
    SimulationCheck,
    SimulationRun,
)
from consent.selectors import consent_check
from disclosure.selectors import BadgeCoverage, badge_coverage
from lineage.transfers import transfer_check
from magento_bridge.models import SyncRun
from magento_bridge.selectors import derivative_layer_counts
from provenance.checkpoints import checkpoint_latest
from provenance.models import ContentItem, Generator, Origin, WitnessCosignature
from sidecar.shared_cache import cache_get, cache_set

T = TypeVar("T")


def stores_with_synthetic_content() -> list[str]:
    """The store views with synthetic content on the storefront, in code order: the store views
    (a loose scan of the natural key's leading column), each asked whether it has one such item,
    instead of a DISTINCT over every synthetic item."""
    codes = ContentItem.objects.values_list("store_code", flat=True).distinct().order_by("store_code")
    present = ContentItem.objects.filter(origin=Origin.SYNTHETIC, removed_at__isnull=True)
    return [code for code in codes if present.filter(store_code=code).exists()]


def review_queue() -> QuerySet:
    """Open reviews, highest risk first, then oldest first."""
    return (
        Review.objects.filter(status__in=OPEN_REVIEW_STATUSES)
        .select_related("content_item", "generator", "dataset_version__dataset", "proposed_by")
        .order_by("-risk", "queued_at", "id")
    )


# The dashboard links to at most this many of the items shown without a badge (the count is exact).
COVERAGE_IDS_MAX = 200
_SUMMARY_KEY = "audits:dashboard:{}"


def _summary(name: str, compute: Callable[[], T]) -> T:
    """A dashboard figure over the whole registry, kept in the shared cache for
    ``PROVENANT_DASHBOARD_CACHE_SECONDS`` (0: computed on every request), so staff reloading the
    dashboard on a registry of millions do not each pay for the aggregate; while the cache is
    down it is computed every time."""
    seconds = settings.AUDITS_DASHBOARD_CACHE_SECONDS
    if not seconds:
        return compute()
    key = _SUMMARY_KEY.format(name)
    value = cache_get(key)
    if value is None:
        value = compute()
        cache_set(key, value, seconds)
    return value


def disclosure_coverage() -> BadgeCoverage:
    """Badge coverage as :func:`disclosure.selectors.badge_coverage` defines it (the package's too),
    with the first :data:`COVERAGE_IDS_MAX` items shown without a badge; cached (:func:`_summary`)."""
    return _summary("coverage", lambda: badge_coverage(ids_limit=COVERAGE_IDS_MAX))


def transfer_findings() -> dict:
    """GDPR Chapter V findings of the lineage (:func:`lineage.transfers.transfer_check`): how many,
    the content items downstream of them (ids, at most ``COVERAGE_IDS_MAX``; the count is exact),
    and the generators they are on (ids and names)."""

    def compute() -> dict:
        findings = transfer_check()
        items = sorted({int(key.split(":")[1]) for finding in findings for key in finding.items})
        generators = {int(f.generator.split(":")[1]): f.generator_label for f in findings}
        return {
            "findings": len(findings),
            "items": len(items),
            "item_ids": items[:COVERAGE_IDS_MAX],
            "generator_ids": sorted(generators),
            "generator_names": sorted(set(generators.values())),
        }

    return _summary("transfer_findings:v2", compute)


def consent_findings() -> dict:
    """Profiling surfaces that declare no consent purpose (:func:`consent.selectors.consent_check`)."""

    def compute() -> dict:
        lacking = [f for f in consent_check() if f.code == "no_purpose"]
        return {"no_purpose": len(lacking)}

    return _summary("consent_findings", compute)


def derivative_layers() -> dict[str, int]:
    """:func:`magento_bridge.selectors.derivative_layer_counts` of every store view; cached."""
    return _summary("derivative-layers", derivative_layer_counts)


BACKLOG_BUCKETS = [("< 1 day", 0, 1), ("1–7 days", 1, 7), ("7–30 days", 7, 30), ("> 30 days", 30, None)]


def review_backlog_by_age() -> list[dict]:
    """Open reviews per age bucket (since they entered the queue, or re-entered it) and per status."""
    now = timezone.now()
    rows = []
    for label, low, high in BACKLOG_BUCKETS:
        qs = Review.objects.filter(status__in=OPEN_REVIEW_STATUSES, queued_at__lte=now - timedelta(days=low))
        if high is not None:
            qs = qs.filter(queued_at__gt=now - timedelta(days=high))
        counts = dict(qs.values_list("status").annotate(n=Count("id")).order_by())
        rows.append({"label": label, "total": sum(counts.values()), "by_status": counts})
    return rows


def review_status_counts() -> dict[str, int]:
    counts = dict(Review.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in ReviewStatus.values}


def current_classifications() -> list[Classification]:
    """The latest approved classification of each generator and use case."""
    latest = (
        Classification.objects.filter(status=ClassificationStatus.APPROVED)
        .values("generator_id", "use_case")
        .annotate(version=Max("version"))
    )
    keys = {(row["generator_id"], row["use_case"], row["version"]) for row in latest}
    approved = Classification.objects.filter(status=ClassificationStatus.APPROVED).select_related("generator")
    return [c for c in approved if (c.generator_id, c.use_case, c.version) in keys]


def risk_class_mix() -> list[dict]:
    """Generators' use cases per risk class, plus generators with no approved classification."""
    current = current_classifications()
    counts = {value: 0 for value, _ in RiskClass.CHOICES}
    for c in current:
        counts[c.risk_class] += 1
    classified = {c.generator_id for c in current}
    unclassified = Generator.objects.exclude(pk__in=classified).count()
    rows = [{"key": k, "label": label, "count": counts[k]} for k, label in RiskClass.CHOICES]
    rows.append({"key": "unclassified", "label": "Not classified yet", "count": unclassified})
    return rows


def classifications_overdue() -> list[Classification]:
    now = timezone.now()
    return sorted(
        (c for c in current_classifications() if c.due_at and c.due_at < now), key=lambda c: c.due_at
    )


def classifications_due_soon(days: int = 14) -> list[Classification]:
    now = timezone.now()
    return [c for c in current_classifications() if c.due_at and now <= c.due_at < now + timedelta(days=days)]


def incidents_open() -> list[Incident]:
    """Open incidents, the nearest reporting deadline first (no deadline last)."""
    incidents = list(Incident.objects.exclude(status=IncidentStatus.CLOSED))
    far = timezone.now() + timedelta(days=36500)
    return sorted(incidents, key=lambda i: i.report_due_at if i.report_due_at and not i.reported_at else far)


UNKNOWN_STORE_ERROR = "unknown store code(s):"


def sync_runs_that_started_work() -> QuerySet:
    """Sync runs that started work: not the usage errors an older release recorded as failed runs
    (a store code typed on the command line that Magento does not have). Since then a typo is refused
    before any run is recorded; a misconfigured ``MAGENTO_STORES`` (no store code on the run) still
    counts, because every scheduled sync fails with it."""
    return SyncRun.objects.exclude(
        status=SyncRun.Status.FAILED, error__startswith=UNKNOWN_STORE_ERROR, store_code__gt=""
    )


def sync_health(limit: int = 20) -> dict:
    """The dashboard's view of the Magento sync, from the runs that started work only."""
    started = sync_runs_that_started_work()
    runs = list(started.order_by("-started_at", "-id")[:limit])
    last_ok = started.filter(status=SyncRun.Status.SUCCEEDED).order_by("-started_at").first()
    since = timezone.now() - timedelta(hours=24)
    failed_24h = started.filter(status=SyncRun.Status.FAILED, started_at__gte=since).count()
    age = (timezone.now() - last_ok.finished_at) if last_ok and last_ok.finished_at else None
    if last_ok is None:
        verdict = "never"
    elif runs and runs[0].status == SyncRun.Status.FAILED:
        verdict = "failing"
    elif age is not None and age > timedelta(hours=2):
        verdict = "stale"
    else:
        verdict = "healthy"
    return {
        "runs": list(reversed(runs)),
        "last_ok": last_ok,
        "failed_24h": failed_24h,
        "verdict": verdict,
        "age": age,
    }


def witness_status(now=None) -> list[dict]:
    """Each configured witness (``PROVENANT_LOG_WITNESSES``, C2SP tlog-witness) with the size and
    time of the largest checkpoint it cosigned. ``late`` when it has not cosigned the latest
    checkpoint for longer than ``PROVENANT_LOG_WITNESS_ALERT_MINUTES`` after that checkpoint was
    signed. One query for the latest checkpoint and one for every witness's last cosignature."""
    witnesses = settings.LOG_WITNESSES
    if not witnesses:
        return []
    now = now or timezone.now()
    latest = checkpoint_latest()
    names = [w.name for w in witnesses]
    last: dict[str, tuple[int, int]] = {}
    rows = (
        WitnessCosignature.objects.filter(witness__in=names)
        .order_by("witness", "-checkpoint__size", "-timestamp")
        .values_list("witness", "checkpoint__size", "timestamp")
    )
    for name, size, timestamp in rows.iterator(chunk_size=2000):
        last.setdefault(name, (size, timestamp))  # the first row per witness is its largest size
    grace = timedelta(minutes=settings.LOG_WITNESS_ALERT_MINUTES)
    out = []
    for witness in witnesses:
        size, timestamp = last.get(witness.name, (None, None))
        behind = latest is not None and (size is None or size < latest.size)
        out.append(
            {
                "name": witness.name,
                "url": witness.url,
                "size": size,
                "cosigned_at": datetime.fromtimestamp(timestamp, tz=UTC) if timestamp is not None else None,
                "behind": behind,
                "late": behind and now - latest.created_at > grace,
                "latest_size": latest.size if latest else None,
            }
        )
    return out


def latest_checks(failures: int = 5) -> tuple:
    """(latest finished coverage simulation, its first failed checks, latest finished separation scan)."""
    run = (
        SimulationRun.objects.exclude(status=SimulationRun.Status.RUNNING)
        .order_by("-started_at", "-id")
        .first()
    )
    failed = (
        list(SimulationCheck.objects.filter(run=run, passed=False).order_by("id")[:failures]) if run else []
    )
    scan = (
        SeparationScan.objects.exclude(status=SeparationScan.Status.RUNNING)
        .order_by("-started_at", "-id")
        .first()
    )
    return run, failed, scan


def ai_act_milestones() -> dict[str, Milestone]:
    """The AI Act application dates in force here: the built-in ones, with ``PROVENANT_AI_ACT_*``."""
    return milestones_with(settings.AI_ACT_DATES)


def ai_act_calendar(today: date | None = None) -> list[dict]:
    """The milestones in date order, each with ``applies`` (already in force) and ``days`` to go."""
    today = today or timezone.localdate()
    rows = []
    for milestone in sorted(ai_act_milestones().values(), key=lambda m: m.applies_from):
        days = (milestone.applies_from - today).days
        rows.append({"milestone": milestone, "applies": days <= 0, "days": max(days, 0)})
    return rows
