"""Reads of the datasets room."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.db.models import Count, JSONField, OuterRef, QuerySet, Subquery

from datasets.models import DatasetVersion, Reference, Report, SyntheticDataset, ThresholdSet
from datasets.scoring import DEFAULT_THRESHOLDS, Thresholds

__all__ = [
    "datasets_for_package",
    "datasets_with_latest_report",
    "reference_display_url",
    "report_summary",
    "thresholds_for",
    "versions_below_threshold",
    "versions_with_latest_report",
]


def thresholds_for(kind: str) -> Thresholds:
    """The newest threshold set of ``kind`` as :class:`Thresholds`; the defaults when none is stored."""
    row = ThresholdSet.objects.filter(kind=kind).order_by("-version").first()
    if row is None:
        return DEFAULT_THRESHOLDS
    return Thresholds(
        exact_copies=row.exact_copies,
        fidelity=row.quality,
        group_difference=row.group_difference,
        dcr_protection=row.dcr_protection,
        version=row.version,
    )


def versions_with_latest_report(
    queryset: QuerySet[DatasetVersion] | None = None,
) -> QuerySet[DatasetVersion]:
    """Versions annotated with their newest report's ``latest_report_id``, ``latest_scores``,
    ``latest_findings`` and ``latest_report_at``, in one query."""
    latest = Report.objects.filter(version=OuterRef("pk")).order_by("-created_at", "-id")
    queryset = queryset if queryset is not None else DatasetVersion.objects.all()
    return queryset.annotate(
        latest_report_id=Subquery(latest.values("pk")[:1]),
        latest_scores=Subquery(latest.values("scores")[:1], output_field=JSONField()),
        latest_findings=Subquery(latest.values("findings")[:1], output_field=JSONField()),
        latest_report_at=Subquery(latest.values("created_at")[:1]),
    )


def datasets_with_latest_report(
    queryset: QuerySet[SyntheticDataset] | None = None,
) -> QuerySet[SyntheticDataset]:
    """Datasets annotated with ``version_count``, ``latest_scores`` and ``latest_findings`` (of the
    newest report of any of their versions), in one query."""
    latest = Report.objects.filter(version__dataset=OuterRef("pk")).order_by("-created_at", "-id")
    queryset = queryset if queryset is not None else SyntheticDataset.objects.all()
    return queryset.select_related("generator").annotate(
        version_count=Count("versions", distinct=True),
        latest_scores=Subquery(latest.values("scores")[:1], output_field=JSONField()),
        latest_findings=Subquery(latest.values("findings")[:1], output_field=JSONField()),
    )


def datasets_for_package(since=None) -> list[tuple[SyntheticDataset, list[DatasetVersion]]]:
    """Each dataset (with its generator) and its versions (registered at or after ``since`` when
    given), oldest first, each annotated as :func:`versions_with_latest_report`; in two queries."""
    versions = DatasetVersion.objects.order_by("dataset__name", "number")
    if since is not None:
        versions = versions.filter(created_at__gte=since)
    by_dataset: dict[int, list[DatasetVersion]] = {}
    for version in versions_with_latest_report(versions):
        by_dataset.setdefault(version.dataset_id, []).append(version)
    datasets = SyntheticDataset.objects.select_related("generator").filter(pk__in=by_dataset).order_by("name")
    return [(dataset, by_dataset[dataset.pk]) for dataset in datasets]


def versions_below_threshold() -> list[DatasetVersion]:
    """The newest version of each dataset whose latest report has findings (a threshold or an
    integrity rule breached), worst first (most findings), with ``latest_findings`` annotated."""
    newest = DatasetVersion.objects.filter(dataset=OuterRef("dataset")).order_by("-number").values("pk")[:1]
    versions = versions_with_latest_report(
        DatasetVersion.objects.filter(pk=Subquery(newest)).select_related("dataset")
    )
    below = [v for v in versions if v.latest_findings]
    return sorted(below, key=lambda v: (-len(v.latest_findings), v.dataset.name))


SCORE_TREND_POINTS = 40


def generator_score_trend(dataset: SyntheticDataset, limit: int = SCORE_TREND_POINTS) -> list[dict]:
    """The reported versions of every dataset of ``dataset``'s generator and kind, oldest first (the
    newest ``limit``): ``{"version", "generator_version", "summary", "findings", "current"}`` with
    the headline numbers of each version's newest report (:func:`report_summary`)."""
    versions = versions_with_latest_report(
        DatasetVersion.objects.filter(dataset__generator=dataset.generator_id, dataset__kind=dataset.kind)
        .select_related("dataset")
        .order_by("-created_at", "-id")
    ).filter(latest_report_id__isnull=False)[:limit]
    return [
        {
            "version": version,
            "generator_version": version.dataset.generator_version,
            "summary": report_summary(version.latest_scores),
            "findings": len(version.latest_findings or []),
            "current": version.dataset_id == dataset.pk,
        }
        for version in reversed(list(versions))
    ]


def _equalized_odds(scores: dict) -> list[float]:
    attributes = (scores.get("outcomes") or {}).get("attributes", {})
    return [
        a["equalized_odds"]["score"]
        for a in attributes.values()
        if (a.get("equalized_odds") or {}).get("score") is not None
    ]


def report_summary(scores: dict | None) -> dict[str, object]:
    """The headline numbers of a report's scores: quality, diagnostic, exact copies, DCR, worst group."""
    if not scores:
        return {}
    worst = [bias.get("worst_difference") for bias in scores.get("bias", {}).values()]
    worst = [w for w in worst if w is not None]
    return {
        "quality": scores.get("quality", {}).get("score"),
        "diagnostic": scores.get("diagnostic", {}).get("score"),
        "exact_copies": scores.get("privacy", {}).get("exact_copies", {}).get("count"),
        "dcr_baseline_protection": scores.get("privacy", {}).get("dcr_baseline_protection", {}).get("score"),
        "disclosure_protection": (scores.get("privacy", {}).get("disclosure_protection") or {}).get("score"),
        "worst_group_difference": max(worst) if worst else None,
        "integrity_findings": sum(rule.get("count", 0) for rule in scores.get("integrity", {}).values()),
        # only for reports with a target column: the lowest over the sensitive attributes
        **(
            {"equalized_odds_improvement": min(_equalized_odds(scores), default=None)}
            if "outcomes" in scores
            else {}
        ),
        "thresholds_version": scores.get("thresholds", {}).get("version"),
    }


def reference_display_url(reference: Reference) -> str:
    """The reference's database URL with any password replaced by ``***``."""
    if not reference.database_url:
        return ""
    parts = urlsplit(reference.database_url)
    if parts.password is None:
        return reference.database_url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
