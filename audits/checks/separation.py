"""Synthetic/real separation checks: test records in production, patient data in generation.

Two ways synthetic and real data get mixed up in a healthcare store, both looked for here:

1. **Test records in production Magento tables.** Customers (``customer_entity``), quotes
   (``quote``), orders (``sales_order``) and payments (``sales_order_payment``) that test
   pipelines created, recognised by the active :class:`~audits.models.SeparationMarker` rows:
   e-mail domains (the domain or a subdomain of it), name patterns (case-insensitive regular
   expressions searched in the first name, the last name and both) and payment method codes; and
   by the synthetic test data's own values: the e-mail addresses of the test customers in the
   registered transactions datasets (those the fraud-screening exclusion export lists), so a test
   customer that reached production is found whatever its domain (marker ``dataset_value``).
   Read through the Magento read-only connection, in keyset batches (``WHERE entity_id > last
   ORDER BY entity_id LIMIT n``), on MariaDB/MySQL and SQLite alike.
2. **Generation records fed by production patient data.** Records whose generator declares
   ``uses_patient_data`` or names patient, health-record or production data in ``data_sources``.

Findings never hold personal data in the clear: e-mail addresses keep their first character and
domain (``m***@example.com``), names their initials (``T*** L***``).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from audits import events
from audits.checks.runs import check_run_finish
from audits.models import SeparationFinding, SeparationMarker, SeparationScan
from magento_bridge.reader import MagentoError, MagentoReader
from magento_bridge.services import magento_reader
from provenance.models import GenerationRecord, Generator

logger = logging.getLogger(__name__)

# Words in a generator's declared data sources that mean production patient data.
PATIENT_SOURCE_PATTERN = re.compile(
    r"\b(patient|patients|ehr|emr|phi|medical records?|health records?|clinical records?|"
    r"production (data|database|records))\b",
    re.IGNORECASE,
)
GENERATION_TABLE = "provenance_generationrecord"


@dataclass(frozen=True)
class _TableSpec:
    table: str
    email: str | None
    first: str | None
    last: str | None
    store: str | None
    created: str | None
    method: str | None = None
    parent: str | None = None


TABLES = (
    _TableSpec("customer_entity", "email", "firstname", "lastname", "store_id", "created_at"),
    _TableSpec(
        "quote", "customer_email", "customer_firstname", "customer_lastname", "store_id", "created_at"
    ),
    _TableSpec(
        "sales_order", "customer_email", "customer_firstname", "customer_lastname", "store_id", "created_at"
    ),
    _TableSpec("sales_order_payment", None, None, None, None, None, method="method", parent="parent_id"),
)


def mask_email(email: str) -> str:
    """``maria.keller@example.com`` → ``m***@example.com`` (the domain is the marker, kept)."""
    email = (email or "").strip()
    if "@" not in email:
        return mask_name(email)
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain.lower()}"


def mask_name(name: str) -> str:
    """``Test Lorenz`` → ``T*** L***``."""
    return " ".join(f"{part[:1]}***" for part in (name or "").split())


def email_domain_matches(email: str, domain: str) -> bool:
    """Whether the address's domain is ``domain`` or one of its subdomains."""
    if "@" not in (email or ""):
        return False
    host = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    domain = domain.strip().lower().lstrip("@").rstrip(".")
    return bool(domain) and (host == domain or host.endswith("." + domain))


DATASET_VALUE = "dataset_value"


def _dataset_emails(counts: Counter) -> dict[str, str]:
    """The test customers' e-mail addresses in the transactions datasets, lower-cased, each with the
    dataset version it comes from (the fraud-screening exclusion export's ``customer`` values)."""
    from datasets.exports import fraud_exclusions
    from datasets.services import DatasetError

    try:
        export = fraud_exclusions()
    except DatasetError as exc:  # a file gone from storage: the rest of the scan goes on
        logger.warning("separation scan: the test datasets' values are not used: %s", exc)
        counts["datasets:unreadable"] = 1
        return {}
    emails: dict[str, str] = {}
    for row in export["exclusions"]:
        value = row["value"].strip().lower()
        if row["type"] == "customer" and "@" in value:
            emails.setdefault(value, f"{row['dataset']} v{row['version']}")
    counts["dataset_emails"] = len(emails)
    return emails


class _Markers:
    def __init__(self, markers: list[SeparationMarker], dataset_emails: dict[str, str] | None = None) -> None:
        self.dataset_emails = dataset_emails or {}
        self.domains = [m.value for m in markers if m.kind == SeparationMarker.Kind.EMAIL_DOMAIN]
        self.methods = {
            m.value.strip().lower() for m in markers if m.kind == SeparationMarker.Kind.PAYMENT_METHOD
        }
        self.names: list[tuple[str, re.Pattern]] = []
        for m in markers:
            if m.kind == SeparationMarker.Kind.NAME_PATTERN:
                try:
                    self.names.append((m.value, re.compile(m.value, re.IGNORECASE)))
                except re.error:
                    logger.warning("separation marker %s is not a regular expression; skipped", m.pk)

    def match(self, *, email: str, first: str, last: str, method: str) -> list[tuple[str, str]]:
        found = []
        if email and (dataset := self.dataset_emails.get(email.strip().lower())):
            found.append((DATASET_VALUE, dataset))
        for domain in self.domains:
            if email_domain_matches(email, domain):
                found.append((SeparationMarker.Kind.EMAIL_DOMAIN.value, domain))
        full = f"{first} {last}".strip()
        for text, pattern in self.names:
            if any(pattern.search(value) for value in (first, last, full) if value):
                found.append((SeparationMarker.Kind.NAME_PATTERN.value, text))
        if method and method.strip().lower() in self.methods:
            found.append((SeparationMarker.Kind.PAYMENT_METHOD.value, method.strip().lower()))
        return found


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _when(value) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _rows(reader, spec: _TableSpec, batch: int) -> Iterator[tuple]:
    columns = ["entity_id", *(c for c in (spec.email, spec.first, spec.last, spec.store, spec.created) if c)]
    columns += [c for c in (spec.method, spec.parent) if c]
    select = ", ".join(columns)
    last = 0
    while True:
        rows = reader.read(
            f"SELECT {select} FROM {reader.t(spec.table)} WHERE entity_id > %s ORDER BY entity_id LIMIT %s",
            [last, batch],
        )
        if not rows:
            return
        for row in rows:
            yield dict(zip(columns, row, strict=True))
        last = int(rows[-1][0])
        if len(rows) < batch:
            return


def _magento_findings(reader, markers: _Markers, counts: Counter) -> Iterator[SeparationFinding]:
    batch = settings.SEPARATION_BATCH_SIZE
    for spec in TABLES:
        if not reader.has_table(spec.table):
            counts[f"{spec.table}:missing"] = 1
            continue
        for row in _rows(reader, spec, batch):
            counts["rows_scanned"] += 1
            email = _text(row.get(spec.email)) if spec.email else ""
            first = _text(row.get(spec.first)) if spec.first else ""
            last = _text(row.get(spec.last)) if spec.last else ""
            method = _text(row.get(spec.method)) if spec.method else ""
            matched = markers.match(email=email, first=first, last=last, method=method)
            if not matched:
                continue
            kind, value = matched[0]
            if kind == SeparationMarker.Kind.PAYMENT_METHOD:
                masked = method
            elif kind in (SeparationMarker.Kind.EMAIL_DOMAIN, DATASET_VALUE):
                masked = mask_email(email)
            else:
                masked = mask_name(f"{first} {last}")
            detail = {"markers": [f"{k} {v}" for k, v in matched]}
            if spec.parent:
                detail["order_id"] = _text(row.get(spec.parent))
            if email and kind not in (SeparationMarker.Kind.EMAIL_DOMAIN, DATASET_VALUE):
                detail["email"] = mask_email(email)
            counts[spec.table] += 1
            store = row.get(spec.store) if spec.store else None
            yield SeparationFinding(
                table=spec.table,
                row_id=_text(row["entity_id"]),
                store_id=int(store) if store not in (None, "") else None,
                marker_kind=kind,
                marker_value=value[:200],
                masked_value=masked[:255],
                detail=detail,
                record_created_at=_when(row.get(spec.created)) if spec.created else None,
            )


def _patient_data_generators() -> dict[int, tuple[str, str]]:
    """Generator id → (marker kind, why) for generators fed by production patient data."""
    flagged: dict[int, tuple[str, str]] = {}
    for generator in Generator.objects.only("id", "name", "uses_patient_data", "data_sources"):
        if generator.uses_patient_data:
            flagged[generator.pk] = ("patient_data", f"{generator.name}: uses_patient_data")
            continue
        match = PATIENT_SOURCE_PATTERN.search(generator.data_sources or "")
        if match:
            flagged[generator.pk] = (
                "patient_data",
                f"{generator.name}: data_sources names {match.group(0)!r}",
            )
    return flagged


def _generation_findings(counts: Counter) -> Iterator[SeparationFinding]:
    flagged = _patient_data_generators()
    if not flagged:
        return
    records = (
        GenerationRecord.objects.filter(generator_id__in=flagged)
        .only("id", "generator_id", "generator_version", "external_id", "created_at", "pipeline_run_id")
        .order_by("id")
    )
    for record in records.iterator(chunk_size=2000):
        counts["generation_records_scanned"] += 1
        counts[GENERATION_TABLE] += 1
        kind, why = flagged[record.generator_id]
        yield SeparationFinding(
            table=GENERATION_TABLE,
            row_id=str(record.pk),
            marker_kind=kind,
            marker_value=why[:200],
            masked_value="",
            detail={
                "generator_version": record.generator_version,
                "external_id": record.external_id[:200],
                "pipeline_run_id": record.pipeline_run_id[:200],
            },
            record_created_at=record.created_at,
        )


def separation_scan(*, actor=None, triggered_by: str = "command", reader=None) -> SeparationScan:
    """Scan now; returns the finished scan (``failed`` with the error when Magento could not be read).

    Without ``MAGENTO_DATABASE_URL`` only generation records are scanned (noted in ``counts``).
    """
    actor_name = actor if isinstance(actor, str) else getattr(actor, "username", "") if actor else ""
    active = list(SeparationMarker.objects.filter(is_active=True))
    scan = SeparationScan.objects.create(
        triggered_by=triggered_by,
        actor=actor_name or "",
        markers=[{"kind": m.kind, "value": m.value} for m in active],
    )
    counts: Counter = Counter()
    limit = settings.SEPARATION_MAX_FINDINGS
    pending: list[SeparationFinding] = []
    stored = 0

    def keep(finding: SeparationFinding) -> None:
        nonlocal stored
        scan.findings_count += 1
        if stored >= limit:
            return
        finding.scan = scan
        pending.append(finding)
        stored += 1
        if len(pending) >= 500:
            SeparationFinding.objects.bulk_create(pending)
            pending.clear()

    own_reader = reader is None
    try:
        if reader is None and settings.MAGENTO_DATABASE_URL:
            reader = magento_reader()
            if not isinstance(reader, MagentoReader):  # pragma: no cover - REST has no such tables
                reader = None
        if reader is None:
            counts["magento:not_configured"] = 1
        else:
            try:
                markers = _Markers(active, _dataset_emails(counts))
                for finding in _magento_findings(reader, markers, counts):
                    keep(finding)
            except MagentoError as exc:
                raise RuntimeError(f"reading Magento failed: {exc}") from exc
        for finding in _generation_findings(counts):
            keep(finding)
        SeparationFinding.objects.bulk_create(pending)
        pending.clear()
        scan.status = SeparationScan.Status.SUCCEEDED
    except Exception as exc:  # noqa: BLE001 - a scan that cannot go on is recorded, not lost
        logger.exception("separation scan #%s failed", scan.pk)
        SeparationFinding.objects.bulk_create(pending)
        scan.fail(exc)
    finally:
        if own_reader and reader is not None:
            reader.close()
    if scan.findings_count > stored:
        counts["findings_not_stored"] = scan.findings_count - stored
    scan.rows_scanned = counts.pop("rows_scanned", 0)
    scan.counts = dict(counts)
    check_run_finish(
        scan,
        fields=("rows_scanned", "findings_count", "counts"),
        event=lambda: events.separation_scan_ended(actor=actor, scan=scan, triggered_by=triggered_by),
    )
    return scan


def separation_latest() -> SeparationScan | None:
    return (
        SeparationScan.objects.exclude(status=SeparationScan.Status.RUNNING)
        .order_by("-started_at", "-id")
        .first()
    )
