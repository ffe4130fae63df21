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

__all__ = [
    "GENERATOR_FACET",
    "PROTECTION_FACET",
    "SHA256_FACET",
    "IngestResult",
    "lineage_event_ingest",
    "lineage_events_ingest",
]

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
    """One event's outcome: ``created`` (stored now), ``replayed`` (stored before, or earlier in the
    same batch) or ``invalid`` (``error`` says where; nothing of it stored)."""

    status: str
    sha256: str = ""
    event_type: str = ""
    error: EventInvalid | None = None

    @property
    def created(self) -> bool:
        return self.status == "created"


def _merge_facets(known: dict, sent: dict | None) -> dict:
    merged = dict(known)
    for name, facet in (sent or {}).items():
        if isinstance(facet, dict) and facet.get("_deleted") is True:
            merged.pop(name, None)
        else:
            merged[name] = facet
    return merged


def _sha256_of(facets: dict, path: str) -> str:
    facet = facets.get(SHA256_FACET)
    value = facet.get("sha256") if isinstance(facet, dict) else None
    if value is None:
        return ""
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise EventInvalid(f"{path}.{SHA256_FACET}.sha256", "a SHA-256 is 64 hexadecimal digits")
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


def _generator_facet(facets: dict, path: str) -> tuple[str, str] | None:
    facet = facets.get(GENERATOR_FACET)
    if not isinstance(facet, dict):
        return None
    role = facet.get("role", "training")
    if role not in ("training", "generation"):
        raise EventInvalid(f"{path}.{GENERATOR_FACET}.role", "'training' or 'generation'")
    name = facet.get("name")
    if not isinstance(name, str) or not name:
        raise EventInvalid(f"{path}.{GENERATOR_FACET}.name", "a registered generator's name")
    return name, role


def _datasets_of(event: dict, kind: str) -> list[tuple[str, dict]]:
    if kind == "DatasetEvent":
        return [("$.dataset", event["dataset"])]
    return [(f"$.inputs[{i}]", d) for i, d in enumerate(event.get("inputs") or [])] + [
        (f"$.outputs[{i}]", d) for i, d in enumerate(event.get("outputs") or [])
    ]


def _check(event: object) -> tuple[str, str, object]:
    """Validate everything about one event before anything is written: ``(kind, sha256, time)``."""
    kind = event_validate(event)
    try:
        digest = hashlib.sha256(canonical_json(event)).hexdigest()
    except CanonicalJsonError as exc:
        raise EventInvalid("$", str(exc)) from None
    for path, dataset in _datasets_of(event, kind):
        facets = dataset.get("facets") or {}
        _sha256_of(facets, f"{path}.facets")
        if isinstance(facets.get(PROTECTION_FACET), dict):
            _protection_values(facets[PROTECTION_FACET], f"{path}.facets.{PROTECTION_FACET}")
    if kind != "DatasetEvent":
        _generator_facet(event["job"].get("facets") or {}, "$.job.facets")
        if kind == "RunEvent":
            _generator_facet(event["run"].get("facets") or {}, "$.run.facets")
    try:
        time = parse_event_time(event["eventTime"])
    except ValueError as exc:
        raise EventInvalid("$.eventTime", str(exc)) from None
    return kind, digest, time


@dataclass
class _Accepted:
    index: int
    event: dict
    kind: str
    sha256: str
    time: object


class _Rows:
    """The rows a batch touches, loaded in a few queries, changed in memory, written back in bulk."""

    def __init__(self, accepted: list[_Accepted], now) -> None:
        self.now = now
        job_keys = {_key(a.event["job"]) for a in accepted if a.kind != "DatasetEvent"}
        dataset_keys = {_key(d) for a in accepted for _, d in _datasets_of(a.event, a.kind)}
        self.jobs = _load(LineageJob, job_keys)
        self.datasets = _load(LineageDataset, dataset_keys)
        run_ids = {a.event["run"]["runId"].lower() for a in accepted if a.kind == "RunEvent"}
        self.runs = {run.run_id: run for run in LineageRun.objects.filter(run_id__in=list(run_ids))}
        self.new_runs: list[LineageRun] = []
        names = {key[1] for key in job_keys}
        for a in accepted:
            if a.kind != "DatasetEvent":
                for facets in (a.event["job"].get("facets"), a.event.get("run", {}).get("facets")):
                    found = _generator_facet(facets or {}, "")
                    if found:
                        names.add(found[0])
        self.generators = {g.name: g for g in Generator.objects.filter(name__in=list(names))}
        self.dirty_jobs: set[int] = set()
        self.dirty_runs: set[int] = set()
        self.dirty_datasets: set[int] = set()
        self.protection: dict[int, dict] = {}
        self.outputs: dict[int, tuple[LineageDataset, Generator | None, str]] = {}
        self.edges: dict[tuple[str, str], LineageRun | None] = {}

    def dataset_merge(self, sent: dict) -> LineageDataset:
        row = self.datasets[_key(sent)]
        merged = _merge_facets(row.facets, sent.get("facets"))
        if merged != row.facets:
            row.facets = merged
            row.sha256 = _sha256_of(merged, "facets") or row.sha256
            column = merged.get("columnLineage")
            row.column_lineage = column.get("fields", {}) if isinstance(column, dict) else {}
            row.updated_at = self.now
            self.dirty_datasets.add(row.pk)
        protection = (sent.get("facets") or {}).get(PROTECTION_FACET)
        if isinstance(protection, dict):
            self.protection[row.pk] = _protection_values(protection, "")
        return row

    def apply(self, a: _Accepted) -> None:
        if a.kind == "DatasetEvent":
            self.dataset_merge(a.event["dataset"])
            return
        sent_job = a.event["job"]
        job = self.jobs[_key(sent_job)]
        merged = _merge_facets(job.facets, sent_job.get("facets"))
        if merged != job.facets:
            job.facets, job.updated_at = merged, self.now
            self.dirty_jobs.add(job.pk)
        run = None
        run_facets: dict = {}
        if a.kind == "RunEvent":
            run_id = a.event["run"]["runId"].lower()
            run = self.runs.get(run_id)
            if run is None:
                # Runs first seen in this batch are inserted once, in their final state.
                run = LineageRun(
                    run_id=run_id, job=job, state="", event_time=a.time, facets={}, first_seen_at=self.now
                )
                self.runs[run_id] = run
                self.new_runs.append(run)
            elif run.pk is not None:
                self.dirty_runs.add(run.pk)
            run.facets = _merge_facets(run.facets, a.event["run"].get("facets"))
            state = a.event.get("eventType", "")
            if state and (not run.state or a.time >= run.event_time):
                run.state, run.event_time = state, a.time
            run_facets = run.facets
        named = _generator_facet(run_facets, "") or _generator_facet(job.facets, "")
        generator_name, role = named or (job.name, "training")
        generator = self.generators.get(generator_name)
        if generator is not None and job.generator_id != generator.pk:
            job.generator = generator
            self.dirty_jobs.add(job.pk)
        for sent in a.event.get("inputs") or []:
            self._edge(self.dataset_merge(sent).node, job.node, run)
        for sent in a.event.get("outputs") or []:
            row = self.dataset_merge(sent)
            self._edge(job.node, row.node, run)
            self.outputs[row.pk] = (row, generator, role)
        if generator is not None:
            generator_node = node_key(NodeKind.GENERATOR, generator.pk)
            if role == "training":
                self._edge(job.node, generator_node, run)
            else:
                self._edge(generator_node, job.node, run)

    def _edge(self, source: str, target: str, run: LineageRun | None) -> None:
        if source != target:
            self.edges.setdefault((source, target), run)

    def map_outputs(self) -> None:
        """Link output datasets to registered synthetic datasets and generation records (by name or
        SHA-256), with the edges that follow: record → dataset, or its generator → dataset."""
        outputs = list(self.outputs.values())
        if not outputs:
            return
        names = [row.name for row, _, _ in outputs]
        digests = [row.sha256 for row, _, _ in outputs if row.sha256]
        synthetic = {d.name: d for d in SyntheticDataset.objects.filter(name__in=names)}
        by_version = {
            v.sha256: v.dataset
            for v in DatasetVersion.objects.filter(sha256__in=digests).select_related("dataset")
        }
        records: dict[str, GenerationRecord] = {}
        for record in GenerationRecord.objects.filter(output_sha256__in=digests).order_by("id"):
            records.setdefault(record.output_sha256, record)
        for row, generator, role in outputs:
            dataset = by_version.get(row.sha256) or synthetic.get(row.name)
            record = records.get(row.sha256)
            record_id = record.pk if record else (dataset.generation_record_id if dataset else None)
            if dataset is not None and row.synthetic_dataset_id != dataset.pk:
                row.synthetic_dataset = dataset
                self.dirty_datasets.add(row.pk)
            if record_id is not None and row.generation_record_id != record_id:
                row.generation_record_id = record_id
                self.dirty_datasets.add(row.pk)
            if record_id is not None:
                self._edge(node_key(NodeKind.RECORD, record_id), row.node, None)
            elif dataset is not None:
                self._edge(node_key(NodeKind.GENERATOR, dataset.generator_id), row.node, None)
            elif generator is not None and role == "generation":
                self._edge(node_key(NodeKind.GENERATOR, generator.pk), row.node, None)

    def write(self) -> None:
        if self.new_runs:
            LineageRun.objects.bulk_create(self.new_runs, batch_size=500)
            if any(run.pk is None for run in self.new_runs):  # a database that returns no ids
                ids = dict(
                    LineageRun.objects.filter(run_id__in=[r.run_id for r in self.new_runs]).values_list(
                        "run_id", "pk"
                    )
                )
                for run in self.new_runs:
                    run.pk = ids[run.run_id]
        jobs = [job for job in self.jobs.values() if job.pk in self.dirty_jobs]
        LineageJob.objects.bulk_update(jobs, ["facets", "updated_at", "generator"], batch_size=500)
        runs = [run for run in self.runs.values() if run.pk in self.dirty_runs]
        LineageRun.objects.bulk_update(runs, ["facets", "state", "event_time"], batch_size=500)
        datasets = [row for row in self.datasets.values() if row.pk in self.dirty_datasets]
        fields = [
            "facets",
            "sha256",
            "column_lineage",
            "updated_at",
            "synthetic_dataset",
            "generation_record",
        ]
        LineageDataset.objects.bulk_update(datasets, fields, batch_size=500)
        LineageEdge.objects.bulk_create(
            [
                LineageEdge(source=s, target=t, run=run, created_at=self.now)
                for (s, t), run in self.edges.items()
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        if self.protection:
            self._protection_write()

    def _protection_write(self) -> None:
        """Facet entries replace facet entries; an entry edited in the admin is left as it is."""
        existing = {
            e.dataset_id: e for e in DataProtection.objects.filter(dataset_id__in=list(self.protection))
        }
        for dataset_id, values in self.protection.items():
            entry = existing.get(dataset_id)
            if entry is None:
                DataProtection.objects.create(
                    dataset_id=dataset_id, source="facet", updated_at=self.now, **values
                )
            elif entry.source == "facet":
                for name, value in values.items():
                    setattr(entry, name, value)
                entry.updated_at = self.now
                entry.save(update_fields=[*values, "updated_at"])


def _key(sent: dict) -> tuple[str, str]:
    return sent["namespace"], sent["name"]


def _load(model, keys: set[tuple[str, str]]) -> dict:
    """Rows of ``model`` for ``(namespace, name)`` keys, the missing ones created first."""
    if not keys:
        return {}

    def fetch() -> dict:
        namespaces = list({namespace for namespace, _ in keys})
        names = list({name for _, name in keys})
        rows = {}
        for start in range(0, len(names), 2000):
            # Both columns, so the (namespace, name) unique index answers.
            found = model.objects.filter(namespace__in=namespaces, name__in=names[start : start + 2000])
            for row in found:
                if (row.namespace, row.name) in keys:
                    rows[(row.namespace, row.name)] = row
        return rows

    rows = fetch()
    missing = [model(namespace=ns, name=name) for ns, name in keys if (ns, name) not in rows]
    if missing:
        model.objects.bulk_create(missing, ignore_conflicts=True, batch_size=2000)
        rows = fetch()
    return rows


def lineage_events_ingest(*, events: list, client: str = "") -> list[IngestResult]:
    """Validate and store OpenLineage events, in order, in one transaction; one result per event.

    An invalid event (schema, or a malformed ``provenant_*`` facet) is reported in its result and
    stores nothing; the others land. A re-sent event, or one sent twice in the batch, is ``replayed``
    and changes nothing.
    """
    results: list[IngestResult | None] = [None] * len(events)
    accepted: list[_Accepted] = []
    seen: set[str] = set()
    for index, event in enumerate(events):
        try:
            kind, digest, time = _check(event)
        except EventInvalid as exc:
            results[index] = IngestResult(status="invalid", error=exc)
            continue
        if digest in seen:
            results[index] = IngestResult(status="replayed", sha256=digest, event_type=kind)
            continue
        seen.add(digest)
        accepted.append(_Accepted(index=index, event=event, kind=kind, sha256=digest, time=time))
    stored = set(
        LineageEvent.objects.filter(sha256__in=[a.sha256 for a in accepted]).values_list("sha256", flat=True)
    )
    fresh = [a for a in accepted if a.sha256 not in stored]
    for a in accepted:
        if a.sha256 in stored:
            results[a.index] = IngestResult(status="replayed", sha256=a.sha256, event_type=a.kind)
    if fresh:
        now = timezone.now()
        try:
            with transaction.atomic():
                LineageEvent.objects.bulk_create(
                    [
                        LineageEvent(
                            sha256=a.sha256,
                            event_type=a.kind,
                            run_state=a.event.get("eventType", "") if a.kind == "RunEvent" else "",
                            event_time=a.time,
                            body=a.event,
                            client=client,
                            received_at=now,
                        )
                        for a in fresh
                    ],
                    batch_size=500,
                )
                rows = _Rows(fresh, now)
                for a in fresh:
                    rows.apply(a)
                rows.map_outputs()
                rows.write()
        except IntegrityError:
            # A concurrent request stored some of these events first: answer against what is stored now.
            if not LineageEvent.objects.filter(sha256__in=[a.sha256 for a in fresh]).exists():
                raise
            return lineage_events_ingest(events=events, client=client)
        for a in fresh:
            results[a.index] = IngestResult(status="created", sha256=a.sha256, event_type=a.kind)
    return results  # type: ignore[return-value]


def lineage_event_ingest(*, event: object, client: str = "") -> IngestResult:
    """Validate and store one OpenLineage event; raises :class:`EventInvalid` (nothing stored)."""
    (result,) = lineage_events_ingest(events=[event], client=client)
    if result.error is not None:
        raise result.error
    return result
