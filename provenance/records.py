"""Generation records: submitting them (logged, idempotent) and what they prove about registry content.

A record says "generator G, version V, given a prompt and inputs with these SHA-256s and these
parameters, produced output with this SHA-256". It is appended to the transparency log as a
``generation_record`` entry holding hashes only. A registry item whose ``content_sha256`` equals a
record's ``output_sha256`` is synthetic beyond doubt: the record is conclusive evidence. That holds
whichever comes first: :func:`generation_record_submit` updates items already in the registry, and
the sync asks :func:`origin_from_records` about items it is about to write.

Staff decisions (``OriginSource.MANUAL``) are never overridden.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from provenance.checkpoints import checkpoint_latest
from provenance.item_log import ORIGIN_FIELDS, item_origin_payload, item_row_state
from provenance.log import log_append_many, log_inclusion_proof
from provenance.models import (
    ApiClient,
    Checkpoint,
    ContentItem,
    GenerationRecord,
    Generator,
    Origin,
    OriginSource,
)
from provenance.rows import row_exists, rows_insert
from provenance.standards.canonical import canonical_json
from provenance.standards.media_marks import (
    TRAINED_ALGORITHMIC_MEDIA,
    is_generative,
    normalise_digital_source_type,
)

__all__ = [
    "GENERATION_RECORD_KIND",
    "ITEM_ORIGIN_KIND",
    "TRAINED_ALGORITHMIC_MEDIA",
    "RecordConflict",
    "RecordProof",
    "RecordSubmission",
    "generation_record_get",
    "generation_record_payload",
    "generation_record_proof",
    "generation_record_submit",
    "generation_records_submit_many",
    "item_origin_payload",  # built in provenance.item_log with the other item payloads
    "origin_from_records",
    "parameters_sha256",
    "record_origin",
]

GENERATION_RECORD_KIND = "generation_record"
ITEM_ORIGIN_KIND = "item.origin"
EVIDENCE_KIND = "generation_record"
# Evidence a record replaces: an earlier record's, and a rule's declaration (weaker than proof).
_SUPERSEDED_EVIDENCE = frozenset({EVIDENCE_KIND, "source_rule"})
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Bounds the query text of one lookup; a sync batch fits in one.
_LOOKUP_CHUNK = 5000
# A batch re-reads what is stored and tries again this often when concurrent submissions collide.
_BATCH_ATTEMPTS = 3


class RecordConflict(Exception):
    """The client already used this external id for a different submission."""

    def __init__(self, record: GenerationRecord):
        self.record = record
        super().__init__(
            f"external id {record.external_id!r} was already used for a different record (id {record.pk})"
        )


@dataclass(frozen=True)
class RecordSubmission:
    """The outcome of a submission: the record, whether this call created it, and items it marked."""

    record: GenerationRecord
    created: bool
    items_matched: int = 0


@dataclass(frozen=True)
class RecordProof:
    """An RFC 9162 inclusion proof of a record's log entry in the tree of a signed checkpoint."""

    checkpoint: Checkpoint
    hashes: list[bytes]


def parameters_sha256(parameters: dict) -> str:
    """SHA-256 of the parameters' RFC 8785 canonical JSON."""
    return hashlib.sha256(canonical_json(parameters)).hexdigest()


def datetime_in_range(moment: datetime) -> bool:
    """Whether an aware ``moment`` converts to UTC within the years 1970 to 9999 (a record's time)."""
    try:
        year = moment.astimezone(UTC).year
    except (OverflowError, ValueError):
        return False
    return 1970 <= year <= 9999


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fingerprint(values: dict[str, object]) -> str:
    return hashlib.sha256(canonical_json(values)).hexdigest()


def _submitted_values(
    *,
    generator: Generator,
    generator_version: str,
    prompt_sha256: str,
    input_sha256s: Sequence[str],
    parameters_digest: str,
    output_sha256: str,
    output_media_type: str,
    generated_at: datetime,
    pipeline_run_id: str,
    digital_source_type: str = "",
) -> dict[str, object]:
    values: dict[str, object] = {
        "generator": generator.name,
        "generator_version": generator_version,
        "prompt_sha256": prompt_sha256,
        "input_sha256s": list(input_sha256s),
        "parameters_sha256": parameters_digest,
        "output_sha256": output_sha256,
        "output_media_type": output_media_type,
        "generated_at": _utc(generated_at),
        "pipeline_run_id": pipeline_run_id,
    }
    if digital_source_type:  # absent when not declared, so earlier fingerprints stay the same
        values["digital_source_type"] = digital_source_type
    return values


def generation_record_payload(record: GenerationRecord) -> dict[str, object]:
    """The ``generation_record`` log payload: hashes and identifiers, never prompts or parameters.

    The record is found from its entry by ``(client, external_id)``, and from the row by ``log_index``.
    """
    payload: dict[str, object] = {
        "generator": record.generator.name,
        "generator_version": record.generator_version,
        "prompt_sha256": record.prompt_sha256,
        "input_sha256s": list(record.input_sha256s),
        "parameters_sha256": record.parameters_sha256,
        "output_sha256": record.output_sha256,
        "output_media_type": record.output_media_type,
        "generated_at": _utc(record.generated_at),
        "pipeline_run_id": record.pipeline_run_id,
        "client": record.client.name,
        "external_id": record.external_id,
    }
    if record.digital_source_type:  # only when declared: entries logged before it are unchanged
        payload["digital_source_type"] = record.digital_source_type
    return payload


def record_origin(
    record: GenerationRecord, *, previous_evidence: Iterable[dict] = (), declared_source_type: str = ""
) -> dict[str, object]:
    """The origin fields (``origin``, ``origin_source``, ``origin_evidence``, ``digital_source_type``)
    of content that ``record`` generated. Evidence other than a rule's or an earlier record's is kept
    after the record's. The digital source type is the generative IPTC term the content's own marks
    declare (``declared_source_type``, e.g. ``compositeWithTrainedAlgorithmicMedia`` for an AI edit,
    disclosed as "AI-modified"), else the one the record declares, else ``trainedAlgorithmicMedia``.
    The content's marks win: they travel with it, a record may describe a step before an edit."""
    evidence = {
        "kind": EVIDENCE_KIND,
        "strength": "conclusive",
        "record_id": record.pk,
        "generator": record.generator.name,
        "generator_version": record.generator_version,
        "detail": (
            f"The content's SHA-256 equals the output of generation record #{record.pk} "
            f"({record.generator.name} {record.generator_version}, external id {record.external_id!r} "
            f"from {record.client.name})"
        ),
    }
    kept = [e for e in previous_evidence if e.get("kind") not in _SUPERSEDED_EVIDENCE]
    return {
        "origin": Origin.SYNTHETIC,
        "origin_source": OriginSource.DETECTOR,
        "origin_evidence": [evidence, *kept],
        "digital_source_type": (
            normalise_digital_source_type(declared_source_type)
            if declared_source_type and is_generative(declared_source_type)
            else record.digital_source_type or TRAINED_ALGORITHMIC_MEDIA
        ),
    }


def _proven_by_record(item: ContentItem) -> bool:
    return (
        item.origin == Origin.SYNTHETIC
        and item.origin_source == OriginSource.DETECTOR
        and any(e.get("kind") == EVIDENCE_KIND for e in item.origin_evidence or [])
    )


# --- Services -------------------------------------------------------------------------------------


def generation_record_submit(
    *,
    generator: Generator,
    generator_version: str,
    prompt_sha256: str,
    input_sha256s: Sequence[str],
    parameters: dict,
    output_sha256: str,
    output_media_type: str,
    generated_at: datetime,
    pipeline_run_id: str = "",
    external_id: str,
    actor: ApiClient,
    image_marks: Mapping[str, str] | None = None,
    digital_source_type: str = "",
) -> RecordSubmission:
    """Record what ``generator`` produced, as submitted by the client ``actor``, and log it.

    ``image_marks`` (from image marking: the watermark's short id and the ISCC Image-Code) enters
    the record's log entry as ``image_marks``; entries without it are unchanged.
    ``digital_source_type``: the generative IPTC term the producer declares (``""``: not declared,
    ``trainedAlgorithmicMedia`` is assumed); ``compositeWithTrainedAlgorithmicMedia`` makes the
    content it matches "AI-modified".

    Idempotent on ``(actor, external_id)``: submitting the same values again returns the existing
    record with ``created=False``; different values under a used external id raise
    :class:`RecordConflict`. In the same transaction the record is appended to the log and every
    registry item with ``content_sha256 == output_sha256`` (except staff decisions) becomes
    synthetic with the record as evidence, each change logged as ``item.origin``.
    Hashes are lower-case hex SHA-256; ``generated_at`` must be aware.
    """
    record = _prepared_record(
        generator=generator,
        generator_version=generator_version,
        prompt_sha256=prompt_sha256,
        input_sha256s=input_sha256s,
        parameters=parameters,
        output_sha256=output_sha256,
        output_media_type=output_media_type,
        generated_at=generated_at,
        pipeline_run_id=pipeline_run_id,
        external_id=external_id,
        actor=actor,
        digital_source_type=digital_source_type,
    )
    existing = _record_by_external_id(actor, external_id)
    if existing is not None:
        return _replayed(existing, record.submission_sha256)
    try:
        with transaction.atomic():
            (matched,) = _log_save_and_match([record], [image_marks])
    except IntegrityError:
        # A concurrent submission of the same external id committed first: a replay or a conflict.
        existing = _record_by_external_id(actor, external_id)
        if existing is None:
            raise
        return _replayed(existing, record.submission_sha256)
    return RecordSubmission(record=record, created=True, items_matched=matched)


def generation_records_submit_many(
    *, submissions: Sequence[dict], actor: ApiClient
) -> list[RecordSubmission | RecordConflict]:
    """Submit many records at once: :func:`generation_record_submit`'s rules, one transaction.

    ``submissions`` are keyword arguments of :func:`generation_record_submit` (without ``actor``).
    Returns one outcome per submission, in order: a :class:`RecordSubmission` (``created`` or a
    replay of a record stored before or earlier in the same batch) or a :class:`RecordConflict`
    (the external id names a different record). All new records are logged under one hold of the
    log's writer lock and commit together; a concurrent submission of one of their external ids
    makes the batch re-read what is stored and try again, so nothing is stored twice.
    """
    prepared = [_prepared_record(**values, actor=actor) for values in submissions]
    for attempt in range(_BATCH_ATTEMPTS):
        stored = _records_by_external_ids(actor, {record.external_id for record in prepared})
        earlier: dict[str, GenerationRecord] = dict(stored)
        fresh: list[tuple[int, GenerationRecord]] = []
        for position, record in enumerate(prepared):
            if record.external_id not in earlier:
                earlier[record.external_id] = record
                fresh.append((position, record))
        try:
            with transaction.atomic():
                matched = _log_save_and_match([record for _, record in fresh])
        except IntegrityError:
            if attempt == _BATCH_ATTEMPTS - 1:
                raise
            continue
        created = {position: count for (position, _), count in zip(fresh, matched, strict=True)}
        outcomes: list[RecordSubmission | RecordConflict] = []
        for position, record in enumerate(prepared):
            if position in created:
                outcomes.append(
                    RecordSubmission(record=record, created=True, items_matched=created[position])
                )
                continue
            first = earlier[record.external_id]
            try:
                outcomes.append(_replayed(first, record.submission_sha256))
            except RecordConflict as conflict:
                outcomes.append(conflict)
        return outcomes
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _prepared_record(
    *,
    generator: Generator,
    generator_version: str,
    prompt_sha256: str,
    input_sha256s: Sequence[str],
    parameters: dict,
    output_sha256: str,
    output_media_type: str,
    generated_at: datetime,
    pipeline_run_id: str = "",
    external_id: str,
    actor: ApiClient,
    digital_source_type: str = "",
) -> GenerationRecord:
    """The unsaved record of a submission, with its fingerprint (``submission_sha256``)."""
    for name, value in (("prompt_sha256", prompt_sha256), ("output_sha256", output_sha256)):
        if not _SHA256.fullmatch(value):
            raise ValueError(f"{name} must be 64 lower-case hex digits")
    if not all(isinstance(h, str) and _SHA256.fullmatch(h) for h in input_sha256s):
        raise ValueError("input_sha256s must be 64 lower-case hex digits each")
    if timezone.is_naive(generated_at):
        raise ValueError("generated_at must carry a time zone")
    if not datetime_in_range(generated_at):
        raise ValueError("generated_at must lie in the years 1970 to 9999 once converted to UTC")
    digest = parameters_sha256(parameters)
    fingerprint = _fingerprint(
        _submitted_values(
            generator=generator,
            generator_version=generator_version,
            prompt_sha256=prompt_sha256,
            input_sha256s=input_sha256s,
            parameters_digest=digest,
            output_sha256=output_sha256,
            output_media_type=output_media_type,
            generated_at=generated_at,
            pipeline_run_id=pipeline_run_id,
            digital_source_type=digital_source_type,
        )
    )
    return GenerationRecord(
        generator=generator,
        generator_version=generator_version,
        prompt_sha256=prompt_sha256,
        input_sha256s=list(input_sha256s),
        parameters=parameters,
        parameters_sha256=digest,
        output_sha256=output_sha256,
        output_media_type=output_media_type,
        generated_at=generated_at,
        pipeline_run_id=pipeline_run_id,
        client=actor,
        external_id=external_id,
        submission_sha256=fingerprint,
        digital_source_type=digital_source_type,
    )


def _records_with_names():
    # The generator's and client's names, not their model cards and notes.
    return GenerationRecord.objects.select_related("generator", "client").defer(
        *(f"generator__{f.name}" for f in Generator._meta.concrete_fields if f.name not in ("id", "name")),
        *(f"client__{f.name}" for f in ApiClient._meta.concrete_fields if f.name not in ("id", "name")),
    )


def _record_by_external_id(client: ApiClient, external_id: str) -> GenerationRecord | None:
    # Nearly every submission is new: a one-statement probe answers that, the queryset loads a replay.
    if not row_exists(GenerationRecord, "{client} = %s AND {external_id} = %s", [client.pk, external_id]):
        return None
    return _records_with_names().filter(client=client, external_id=external_id).first()


def _records_by_external_ids(client: ApiClient, external_ids: set[str]) -> dict[str, GenerationRecord]:
    wanted = sorted(external_ids)
    found: dict[str, GenerationRecord] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        records = _records_with_names().filter(client=client, external_id__in=chunk)
        found.update((record.external_id, record) for record in records)
    return found


def _replayed(record: GenerationRecord, fingerprint: str) -> RecordSubmission:
    if record.submission_sha256 != fingerprint:
        raise RecordConflict(record)
    return RecordSubmission(record=record, created=False)


def _log_save_and_match(
    records: Sequence[GenerationRecord], image_marks: Sequence[Mapping[str, str] | None] | None = None
) -> list[int]:
    """Log and save ``records``, then mark the registry items they generated.

    Returns, per record, how many items it changed (an item whose content several of the records
    produced is credited to the first). The log's writer lock comes first and the items' row locks
    second, the order the sync takes them in, so the two never wait on each other in a cycle. The
    records are saved with their log indexes: a row never exists without its entry.
    """
    if not records:
        return []
    payloads = [generation_record_payload(record) for record in records]
    for payload, marks in zip(payloads, image_marks or [None] * len(records), strict=True):
        if marks:  # from image marking: the watermark's short id and the ISCC Image-Code
            payload["image_marks"] = dict(marks)
    entries = log_append_many(entries=[(GENERATION_RECORD_KIND, payload) for payload in payloads])
    for record, entry in zip(records, entries, strict=True):
        record.log_index = entry.index
    rows_insert(records)
    _fill_primary_keys(records)
    first_by_output: dict[str, GenerationRecord] = {}
    for record in records:
        first_by_output.setdefault(record.output_sha256, record)
    outputs = sorted(first_by_output)
    items: list[ContentItem] = []
    for start in range(0, len(outputs), _LOOKUP_CHUNK):
        chunk = outputs[start : start + _LOOKUP_CHUNK]
        # Most records match nothing in the registry (yet): a locking one-statement probe tells.
        # Finding nothing, it locks nothing, as the queryset would not (READ COMMITTED takes no gap
        # locks); the log's writer lock, held since the append above, keeps a sync out meanwhile.
        marks = ", ".join(["%s"] * len(chunk))
        if not row_exists(ContentItem, f"{{content_sha256}} IN ({marks})", chunk, locking=True):
            continue
        items.extend(
            ContentItem.objects.select_for_update()
            .filter(content_sha256__in=chunk)
            .exclude(origin_source=OriginSource.MANUAL)
            .order_by("id")
        )
    changed = [item for item in items if not _proven_by_record(item)]
    counts = {record.pk: 0 for record in records}
    if not changed:
        return [counts[record.pk] for record in records]
    now = timezone.now()
    for item in changed:
        record = first_by_output[item.content_sha256]
        counts[record.pk] += 1
        origin = record_origin(
            record,
            previous_evidence=item.origin_evidence or [],
            declared_source_type=item.digital_source_type,
        )
        for name, value in origin.items():
            setattr(item, name, value)
        item.state_sha256 = item_row_state(item)  # the sync's marker: the next sync sees no change
        item.changed_at = now
    entries = log_append_many(entries=[(ITEM_ORIGIN_KIND, item_origin_payload(item)) for item in changed])
    for item, entry in zip(changed, entries, strict=True):
        item.latest_log_index = entry.index
    ContentItem.objects.bulk_update(
        changed, [*ORIGIN_FIELDS, "state_sha256", "changed_at", "latest_log_index"], batch_size=200
    )
    return [counts[record.pk] for record in records]


def _fill_primary_keys(records: Sequence[GenerationRecord]) -> None:
    # Backends that cannot return ids from a multi-row INSERT leave them unset: read them back.
    missing = [record for record in records if record.pk is None]
    if not missing:
        return
    ids = dict(
        GenerationRecord.objects.filter(log_index__in=[record.log_index for record in missing]).values_list(
            "log_index", "id"
        )
    )
    for record in missing:
        record.pk = ids[record.log_index]


# --- Selectors ------------------------------------------------------------------------------------


def origin_from_records(content_sha256s: set[str]) -> dict[str, GenerationRecord]:
    """The generation record that produced each of these content hashes, where one did.

    Maps ``content_sha256`` to the earliest record with that ``output_sha256`` (generator and
    client loaded), in one query for up to 5,000 hashes. Pair with :func:`record_origin` for the
    fields to write and :func:`item_origin_payload` for the ``item.origin`` log entry.
    """
    wanted = sorted(h for h in content_sha256s if h)
    found: dict[str, GenerationRecord] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        records = (
            _records_with_names()
            .filter(output_sha256__in=wanted[start : start + _LOOKUP_CHUNK])
            .order_by("id")
        )
        for record in records:
            found.setdefault(record.output_sha256, record)
    return found


def generation_record_get(*, client: ApiClient, record_id: int) -> GenerationRecord | None:
    """The record ``record_id`` if ``client`` submitted it."""
    return _records_with_names().filter(pk=record_id, client=client).first()


def generation_record_proof(record: GenerationRecord) -> RecordProof | None:
    """The inclusion proof of ``record``'s entry in the latest signed checkpoint, once one covers it."""
    if record.log_index is None:
        return None
    checkpoint = checkpoint_latest()
    if checkpoint is None or checkpoint.size <= record.log_index:
        return None
    return RecordProof(checkpoint=checkpoint, hashes=log_inclusion_proof(record.log_index, checkpoint.size))
