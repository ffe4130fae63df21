"""The fraud-screening exclusion export: what payment fraud tools should not flag, because it is
synthetic test data registered here.

Lists, from the stored files of every version of the transactions datasets (or of the datasets
named), each distinct order and customer identifier (columns as named in the rule file's
``fraud_exclusions``), and the published test card numbers (the rule: a card number in this list is a
test card). A card number that looks real is an integrity finding, never an exclusion, so it is not
listed. CSV is written with formula-looking cells defused (OWASP CSV injection).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from datasets.integrity import card_digits, first_column, load_rules
from datasets.models import DatasetKind, DatasetVersion
from datasets.services import DatasetError, dataset_storage
from datasets.tables import DatasetFileError, read_frame, write_csv

__all__ = ["EXCLUSION_HEADER", "fraud_exclusions", "fraud_exclusions_csv"]

EXCLUSION_HEADER = ["type", "value", "dataset", "version", "sha256"]


def fraud_exclusions(*, datasets: Iterable[str] = ()) -> dict:
    """``{"generated_at", "datasets", "exclusions": [{"type", "value", "dataset", "version",
    "sha256"}], "test_card_numbers"}``: ``type`` is ``order``, ``customer`` or ``test_card`` (a test
    card number that occurs in the dataset)."""
    rules = load_rules(settings.DATASET_RULES_FILE or None)
    names = [n for n in datasets if n]
    versions = DatasetVersion.objects.select_related("dataset").order_by("dataset__name", "number")
    versions = (
        versions.filter(dataset__name__in=names)
        if names
        else versions.filter(dataset__kind=DatasetKind.TRANSACTIONS)
    )
    if names:
        missing = sorted(set(names) - set(versions.values_list("dataset__name", flat=True)))
        if missing:
            raise DatasetError("not_found", f"no registered versions of {', '.join(missing)}")
    card_candidates = [
        c
        for rule in rules.for_kind("transactions")
        if rule["check"] == "test_card_numbers"
        for c in rule.get("columns", {}).get("card", [])
    ]
    storage = dataset_storage()
    rows: list[dict] = []
    seen: set[tuple[str, str]] = set()
    covered = []
    for version in versions:
        try:
            with storage.open(version.storage_name, "rb") as stream:
                frame = read_frame(stream, fmt=version.dataset.format)
        except (OSError, DatasetFileError) as exc:
            raise DatasetError("unreadable", f"{version}: {exc}") from None
        covered.append({"dataset": version.dataset.name, "version": version.number, "sha256": version.sha256})
        found: list[tuple[str, list[str]]] = []
        for kind, candidates in rules.exclusion_columns.items():
            column = first_column(frame, candidates)
            if column is not None:
                found.append((kind, frame[column].dropna().astype(str).unique().tolist()))
        card = first_column(frame, card_candidates) if card_candidates else None
        if card is not None:
            numbers = frame[card].dropna().astype(str).map(card_digits).unique()
            found.append(("test_card", sorted(n for n in numbers if n in rules.test_card_numbers)))
        for kind, values in found:
            for value in values:
                if (kind, value) in seen:
                    continue
                seen.add((kind, value))
                rows.append(
                    {
                        "type": kind,
                        "value": value,
                        "dataset": version.dataset.name,
                        "version": version.number,
                        "sha256": version.sha256,
                    }
                )
    return {
        "generated_at": timezone.now().isoformat(),
        "datasets": covered,
        "exclusions": rows,
        "test_card_numbers": sorted(rules.test_card_numbers),
    }


def fraud_exclusions_csv(export: dict) -> str:
    """The export as CSV, one exclusion a row (the first occurrence of each value)."""
    return write_csv(EXCLUSION_HEADER, ([row[k] for k in EXCLUSION_HEADER] for row in export["exclusions"]))
