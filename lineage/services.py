"""Writes: OpenLineage events into jobs, runs, datasets and edges, mapped onto the registry.

An event is stored once: its key is the SHA-256 of its RFC 8785 canonical form, so a re-sent event
(the HTTP transport retries) changes nothing. Facets merge into what is already known (a facet with
``_deleted: true`` removes it); facets this module does not know are kept as sent.

Custom facets read here:

- job or run facet ``provenant_generator``: ``{"name": "<generator>", "role": "training" | "generation"}``
  names the registered generator the job trains (default) or runs to generate its outputs. Without
  it a job whose name is a generator's name is taken as that generator's training job.
- dataset facet ``provenant_sha256``: ``{"sha256": "<64 hex>"}``, the SHA-256 of the dataset's
  content, matched against registered dataset versions and generation records' outputs.
- dataset facet ``provenant_dataProtection``: the data-protection inventory fields of
  :class:`~lineage.models.DataProtection` (an entry edited in the admin is not overwritten).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from datasets.models import DatasetVersion, SyntheticDataset
from lineage.models import (
    DataProtection,
    LineageDataset,
    LineageEdge,
    LineageEvent,
    LineageJob,
    LineageRun,
    NodeKind,
    node_key,
)
from lineage.openlineage import EventInvalid, event_validate, parse_event_time
from provenance.models import GenerationRecord, Generator
from provenance.standards.canonical import CanonicalJsonError, canonical_json

__all__ = ["IngestResult", "lineage_event_ingest", "GENERATOR_FACET", "SHA256_FACET", "PROTECTION_FACET"]

GENERATOR_FACET = "provenant_generator"
SHA256_FACET = "provenant_sha256"
PROTECTION_FACET = "provenant_dataProtection"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_PROTECTION_FIELDS = {
    "personalData": "personal_data",
    "healthData": "health_data",
    "subjectsRegion": "subjects_region",
    "storageCountry": "storage_country",
    "role": "role",
    "controller": "controller",
    "art6Basis": "art6_basis",
    "art9Condition": "art9_condition",
    "anonymisation": "anonymisation",
    "assessedBy": "assessed_by",
    "assessedAt": "assessed_at",
    "assessmentEvidence": "assessment_evidence",
    "retention": "retention",
    "dpiaReference": "dpia_reference",
}


@dataclass(frozen=True)
class IngestResult:
    event: LineageEvent
    created: bool


def _merge_facets(known: dict, sent: dict | None) -> dict:
    merged = dict(known)
    for name, facet in (sent or {}).items():
        if isinstance(facet, dict) and facet.get("_deleted") is True:
            merged.pop(name, None)
        else:
            merged[name] = facet
    return merged


def _dataset_key(dataset: dict) -> tuple[str, str]:
    return dataset["namespace"], dataset["name"]


def _sha256_of(facets: dict) -> str:
    facet = facets.get(SHA256_FACET)
    value = facet.get("sha256") if isinstance(facet, dict) else None
    if value is None:
        return ""
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise EventInvalid(f"facets.{SHA256_FACET}.sha256", "a SHA-256 is 64 hexadecimal digits")
    return value.lower()


def _protection_values(facet: dict, path: str) -> dict:
    values = {}
    for name, field_name in _PROTECTION_FIELDS.items():
        if name not in facet:
            continue
        value = facet[name]
        field = DataProtection._meta.get_field(field_name)
        if field_name == "assessed_at":
            try:
                value = parse_event_time(value).date() if "T" in str(value) else _date(value)
            except (TypeError, ValueError):
                raise EventInvalid(f"{path}.{name}", "a date, YYYY-MM-DD") from None
        elif isinstance(field.default, bool):
            if not isinstance(value, bool):
                raise EventInvalid(f"{path}.{name}", "true or false")
        else:
            if not isinstance(value, str) or len(value) > field.max_length:
                raise EventInvalid(f"{path}.{name}", f"a string of at most {field.max_length} characters")
            if field_name in ("storage_country",):
                value = value.upper()
            if field.choices and value not in {choice for choice, _ in field.choices}:
                allowed = ", ".join(repr(choice) for choice, _ in field.choices)
                raise EventInvalid(f"{path}.{name}", f"one of {allowed}")
        values[field_name] = value
    return values


def _date(value: object):
    from datetime import date

    if not isinstance(value, str):
        raise TypeError
    return date.fromisoformat(value)


def _datasets_upsert(sent: list[dict], now) -> dict[tuple[str, str], LineageDataset]:
    """Every dataset of ``sent`` as a row (created when new, facets merged), in few queries."""
    by_key: dict[tuple[str, str], dict] = {}
    for dataset in sent:
        merged = by_key.setdefault(_dataset_key(dataset), {})
        merged.update(dataset.get("facets") or {})
    if not by_key:
        return {}
    match = Q()
    for namespace, name in by_key:
        match |= Q(namespace=namespace, name=name)
    rows = {(row.namespace, row.name): row for row in LineageDataset.objects.filter(match)}
    missing = [LineageDataset(namespace=ns, name=n) for ns, n in by_key if (ns, n) not in rows]
    if missing:
        LineageDataset.objects.bulk_create(missing, ignore_conflicts=True)
        rows = {(row.namespace, row.name): row for row in LineageDataset.objects.filter(match)}
    for key, facets in by_key.items():
        row = rows[key]
        merged = _merge_facets(row.facets, facets)
        sha256 = _sha256_of(merged) or row.sha256
        column = merged.get("columnLineage")
        column_lineage = column.get("fields", {}) if isinstance(column, dict) else {}
        if merged != row.facets or sha256 != row.sha256 or column_lineage != row.column_lineage:
            row.facets, row.sha256, row.column_lineage, row.updated_at = merged, sha256, column_lineage, now
            row.save(update_fields=["facets", "sha256", "column_lineage", "updated_at"])
        protection = merged.get(PROTECTION_FACET)
        if isinstance(protection, dict):
            _protection_apply(row, protection, now)
    return rows


def _protection_apply(dataset: LineageDataset, facet: dict, now) -> None:
    values = _protection_values(facet, f"facets.{PROTECTION_FACET}")
    entry = DataProtection.objects.filter(dataset=dataset).first()
    if entry is None:
        DataProtection.objects.create(dataset=dataset, source="facet", updated_at=now, **values)
    elif entry.source == "facet":
        for name, value in values.items():
            setattr(entry, name, value)
        entry.updated_at = now
        entry.save(update_fields=[*values, "updated_at"])


def _generator_of(job: LineageJob, run_facets: dict) -> tuple[Generator | None, str]:
    facet = run_facets.get(GENERATOR_FACET) or job.facets.get(GENERATOR_FACET)
    if isinstance(facet, dict):
        role = facet.get("role", "training")
        if role not in ("training", "generation"):
            raise EventInvalid(f"facets.{GENERATOR_FACET}.role", "'training' or 'generation'")
        name = facet.get("name")
        if not isinstance(name, str) or not name:
            raise EventInvalid(f"facets.{GENERATOR_FACET}.name", "a registered generator's name")
        return Generator.objects.filter(name=name).first(), role
    return Generator.objects.filter(name=job.name).first(), "training"


def _map_outputs(
    outputs: list[LineageDataset], generator: Generator | None, role: str
) -> list[tuple[str, str]]:
    """Link output datasets to registered synthetic datasets and generation records; the edges that
    follow (generation record → dataset, or the generating generator → dataset)."""
    edges = []
    names = [row.name for row in outputs]
    digests = [row.sha256 for row in outputs if row.sha256]
    synthetic = {row.name: row for row in SyntheticDataset.objects.filter(name__in=names)}
    by_version = {
        version.sha256: version.dataset
        for version in DatasetVersion.objects.filter(sha256__in=digests).select_related("dataset")
    }
    records: dict[str, GenerationRecord] = {}
    for record in GenerationRecord.objects.filter(output_sha256__in=digests).order_by("id"):
        records.setdefault(record.output_sha256, record)
    for row in outputs:
        dataset = by_version.get(row.sha256) or synthetic.get(row.name)
        record = records.get(row.sha256) or (dataset.generation_record if dataset else None)
        changed = []
        if dataset is not None and row.synthetic_dataset_id != dataset.pk:
            row.synthetic_dataset = dataset
            changed.append("synthetic_dataset")
        if record is not None and row.generation_record_id != record.pk:
            row.generation_record = record
            changed.append("generation_record")
        if changed:
            row.save(update_fields=changed)
        if record is not None:
            edges.append((node_key(NodeKind.RECORD, record.pk), row.node))
        elif dataset is not None:
            edges.append((node_key(NodeKind.GENERATOR, dataset.generator_id), row.node))
        elif generator is not None and role == "generation":
            edges.append((node_key(NodeKind.GENERATOR, generator.pk), row.node))
    return edges


def lineage_event_ingest(*, event: dict, client: str = "") -> IngestResult:
    """Validate and store one OpenLineage event; a replay answers the stored event (``created=False``).

    Raises :class:`~lineage.openlineage.EventInvalid` (nothing stored) when the event breaks the
    schema or a ``provenant_*`` facet is malformed.
    """
    kind = event_validate(event)
    try:
        digest = hashlib.sha256(canonical_json(event)).hexdigest()
    except CanonicalJsonError as exc:
        raise EventInvalid("$", str(exc)) from None
    stored = LineageEvent.objects.filter(sha256=digest).first()
    if stored is not None:
        return IngestResult(event=stored, created=False)
    event_time = parse_event_time(event["eventTime"])
    now = timezone.now()
    try:
        with transaction.atomic():
            stored = LineageEvent.objects.create(
                sha256=digest,
                event_type=kind,
                run_state=event.get("eventType", "") if kind == "RunEvent" else "",
                event_time=event_time,
                body=event,
                client=client,
                received_at=now,
            )
            if kind == "DatasetEvent":
                _datasets_upsert([event["dataset"]], now)
            else:
                _job_event_apply(event, kind, event_time, now)
    except IntegrityError:
        stored = LineageEvent.objects.filter(sha256=digest).first()
        if stored is None:
            raise
        return IngestResult(event=stored, created=False)
    return IngestResult(event=stored, created=True)


def _job_event_apply(event: dict, kind: str, event_time, now) -> None:
    sent_job = event["job"]
    job, created = LineageJob.objects.get_or_create(
        namespace=sent_job["namespace"],
        name=sent_job["name"],
        defaults={"facets": sent_job.get("facets") or {}},
    )
    if not created:
        merged = _merge_facets(job.facets, sent_job.get("facets"))
        if merged != job.facets:
            job.facets, job.updated_at = merged, now
            job.save(update_fields=["facets", "updated_at"])
    run = None
    run_facets: dict = {}
    if kind == "RunEvent":
        sent_run = event["run"]
        run, created = LineageRun.objects.get_or_create(
            run_id=sent_run["runId"].lower(),
            defaults={
                "job": job,
                "state": event.get("eventType", ""),
                "event_time": event_time,
                "facets": sent_run.get("facets") or {},
            },
        )
        if not created:
            run.facets = _merge_facets(run.facets, sent_run.get("facets"))
            if event_time >= run.event_time and event.get("eventType"):
                run.state, run.event_time = event["eventType"], event_time
            run.save(update_fields=["facets", "state", "event_time"])
        run_facets = run.facets
    generator, role = _generator_of(job, run_facets)
    if generator is not None and job.generator_id != generator.pk:
        job.generator = generator
        job.save(update_fields=["generator"])
    inputs = event.get("inputs") or []
    outputs = event.get("outputs") or []
    rows = _datasets_upsert([*inputs, *outputs], now)
    edges = [(rows[_dataset_key(d)].node, job.node) for d in inputs]
    output_rows = list({_dataset_key(d): rows[_dataset_key(d)] for d in outputs}.values())
    edges += [(job.node, row.node) for row in output_rows]
    if generator is not None:
        generator_node = node_key(NodeKind.GENERATOR, generator.pk)
        edges.append((job.node, generator_node) if role == "training" else (generator_node, job.node))
    edges += _map_outputs(output_rows, generator, role)
    LineageEdge.objects.bulk_create(
        [LineageEdge(source=s, target=t, run=run, created_at=now) for s, t in dict.fromkeys(edges) if s != t],
        ignore_conflicts=True,
    )
