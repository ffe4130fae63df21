"""Writes of the consent room: recording consent events.

Each new event is one row of the append-only ledger and one ``consent.event`` entry of the
transparency log (RFC 9162 leaf over RFC 8785 canonical JSON ``{"event": <sha256>}``: the event's
hash, nothing about the subject), and moves the subject's current state for the purpose when it
is later than the state's event (:func:`consent.subjects.event_rank`). All of it in one
transaction; the cached answers of the subjects touched are dropped after it commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router, transaction
from django.utils import timezone

from consent.models import ConsentEvent, CurrentConsent
from consent.selectors import consent_cache_forget
from consent.subjects import event_rank, event_sha256, subject_hash
from provenance.log import log_append_many, log_head_lock

__all__ = [
    "CONSENT_EVENT_KIND",
    "ConsentEventInput",
    "ConsentNotConfigured",
    "RecordedEvent",
    "consent_events_record",
    "consent_subject_hash",
]

CONSENT_EVENT_KIND = "consent.event"


class ConsentNotConfigured(ImproperlyConfigured):
    """``PROVENANT_CONSENT_SUBJECT_KEY`` is not set: subjects cannot be hashed, so nothing is kept."""


@dataclass(frozen=True)
class ConsentEventInput:
    """A validated event as the consent platform sent it (``subject`` still the raw id)."""

    subject: str
    purpose: str
    state: str
    policy_version: str
    source: str
    occurred_at: datetime


@dataclass(frozen=True)
class RecordedEvent:
    sha256: str
    created: bool
    log_index: int


def consent_subject_hash(subject: str) -> str:
    """The keyed hash of a raw subject id under ``PROVENANT_CONSENT_SUBJECT_KEY``."""
    key = settings.CONSENT_SUBJECT_KEY
    if not key:
        raise ConsentNotConfigured("PROVENANT_CONSENT_SUBJECT_KEY is not set")
    return subject_hash(subject, key.encode("utf-8"))


def consent_events_record(*, events: Sequence[ConsentEventInput], client: str) -> list[RecordedEvent]:
    """Record ``events`` in order, in one transaction; answer each with its hash and whether it is new.

    A replay (an event stored before, or earlier in ``events``) changes nothing and answers the
    stored event's log index. Writers are serialised by the log's writer lock, taken first, so two
    requests carrying the same new event cannot both store it.
    """
    prepared = []
    for event in events:
        hashed = consent_subject_hash(event.subject)
        fields = {
            "subject_hash": hashed,
            "purpose": event.purpose,
            "state": event.state,
            "policy_version": event.policy_version,
            "source": event.source,
            "occurred_at": event.occurred_at,
        }
        prepared.append((event_sha256(**fields), fields))
    if not prepared:
        return []
    using = router.db_for_write(ConsentEvent)
    now = timezone.now()
    with transaction.atomic(using=using):
        log_head_lock(using)
        stored = dict(
            ConsentEvent.objects.using(using)
            .filter(sha256__in={sha for sha, _ in prepared})
            .values_list("sha256", "log_index")
        )
        new: dict[str, dict] = {}
        for sha, fields in prepared:
            if sha not in stored and sha not in new:
                new[sha] = fields
        rows = []
        if new:
            entries = log_append_many(entries=[(CONSENT_EVENT_KIND, {"event": sha}) for sha in new])
            for (sha, fields), entry in zip(new.items(), entries, strict=True):
                rows.append(
                    ConsentEvent(sha256=sha, client=client, log_index=entry.index, received_at=now, **fields)
                )
            ConsentEvent.objects.using(using).bulk_create(rows)
            # bulk_create sets primary keys on MariaDB only for single rows; read them back by hash.
            ids = dict(
                ConsentEvent.objects.using(using).filter(sha256__in=list(new)).values_list("sha256", "id")
            )
            _current_upsert(using, rows, ids, now)
        logged = {row.sha256: row.log_index for row in rows}
        subjects = {fields["subject_hash"] for sha, fields in prepared if sha in logged}
        # Dropped now and again after commit: a lookup between the two may have cached the old state.
        consent_cache_forget(subjects)
        transaction.on_commit(lambda: consent_cache_forget(subjects), using=using)
    results = []
    seen: set[str] = set()
    for sha, _ in prepared:
        created = sha in logged and sha not in seen
        seen.add(sha)
        results.append(RecordedEvent(sha256=sha, created=created, log_index=logged.get(sha, stored.get(sha))))
    return results


def _current_upsert(using: str, rows: list[ConsentEvent], ids: dict[str, int], now: datetime) -> None:
    """Move each (subject, purpose) to its latest event, in one statement that compares ranks in the
    database, so an earlier event arriving later (or concurrently) never overwrites a later one."""
    latest: dict[tuple[str, str], tuple[str, ConsentEvent]] = {}
    for row in rows:
        rank = event_rank(occurred_at=row.occurred_at, state=row.state, sha256=row.sha256)
        key = (row.subject_hash, row.purpose)
        if key not in latest or rank > latest[key][0]:
            latest[key] = (rank, row)
    connection = connections[using]
    ops = connection.ops
    qn = ops.quote_name
    table = qn(CurrentConsent._meta.db_table)
    columns = ["subject_hash", "purpose", "state", "policy_version", "occurred_at", "event_id", "sort_key"]
    columns.append("updated_at")
    updated_at = ops.adapt_datetimefield_value(now)
    values = []
    for rank, row in latest.values():
        occurred = ops.adapt_datetimefield_value(row.occurred_at)
        values.append(
            (row.subject_hash, row.purpose, row.state, row.policy_version, occurred, ids[row.sha256], rank)
            + (updated_at,)
        )
    moved = ["state", "policy_version", "occurred_at", "event_id", "updated_at"]
    rank_col = qn("sort_key")
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    insert = f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}) VALUES "
    if connection.vendor == "mysql":
        # Assignments run left to right and see the columns already assigned: the key goes last.
        newer = f"VALUES({rank_col}) > {rank_col}"
        sets = [f"{qn(c)} = IF({newer}, VALUES({qn(c)}), {qn(c)})" for c in moved]
        sets.append(f"{rank_col} = IF({newer}, VALUES({rank_col}), {rank_col})")
        tail = " ON DUPLICATE KEY UPDATE " + ", ".join(sets)
    elif connection.vendor in ("sqlite", "postgresql"):
        sets = [f"{qn(c)} = excluded.{qn(c)}" for c in (*moved, "sort_key")]
        tail = (
            f" ON CONFLICT ({qn('subject_hash')}, {qn('purpose')}) DO UPDATE SET {', '.join(sets)}"
            f" WHERE excluded.{rank_col} > {table}.{rank_col}"
        )
    else:  # pragma: no cover - the supported databases are above
        raise ImproperlyConfigured(f"consent state upsert is not written for {connection.vendor}")
    with connection.cursor() as cursor:
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            params = [value for row in chunk for value in row]
            cursor.execute(insert + ", ".join([placeholders] * len(chunk)) + tail, params)
