"""The transparency log in the database: appends (services) and roots, proofs and pages (selectors).

RFC 9162 Merkle tree over :class:`~provenance.models.LogEntry` leaves, with the interior hashes kept
in the stored-hash layout of Go's ``golang.org/x/mod/sumdb/tlog`` (:mod:`provenance.standards.merkle`): an
append writes the new leaf hash and the roots of the complete subtrees it closes, reading only the
O(log n) hashes on the tree's right edge; a root or proof of any size reads O(log n) rows.

Entries are RFC 8785 canonical JSON of ``{"kind": ..., "time": ..., **payload}``. Payloads carry
hashes and identifiers, never raw prompts, content or personal data: the log is public.

Writers are serialised by a row lock on :class:`~provenance.models.LogHead`, held until the
caller's transaction ends, so call :func:`log_append` / :func:`log_append_many` late in that
transaction. Indexes are assigned under the lock and never rewritten; a rollback leaves no trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from provenance.models import LogEntry, LogHash, LogHead
from provenance.rows import row_first
from provenance.standards import merkle
from provenance.standards.canonical import CanonicalJsonError, canonical_json

__all__ = [
    "ENTRIES_PAGE_LIMIT",
    "ITEM_KINDS",
    "LogError",
    "LogIntegrityError",
    "LogNotInTransactionError",
    "LogPayloadError",
    "LogRangeError",
    "log_append",
    "log_append_many",
    "log_consistency_proof",
    "log_entries",
    "log_head_lock",
    "log_inclusion_proof",
    "log_read_hashes",
    "log_root",
    "log_size",
]

ENTRIES_PAGE_LIMIT = 1000
ITEM_KINDS = frozenset({"item.added", "item.changed", "item.removed", "item.origin"})
"""Kinds of the entries that record a registry item; their payload is ``store_code``, ``surface``,
``magento_id``, ``part_key`` and, as known, ``content_sha256``, ``origin``, ``state_sha256``."""
RESERVED_KEYS = frozenset({"kind", "time"})
_KIND = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
_KIND_MAX_LENGTH = 64
_STATEMENT_BYTES = 1_000_000
_SAFE_LITERAL = re.compile(r"[0-9:. +-]+")


class LogError(Exception):
    """Base class of the log's errors."""


class LogNotInTransactionError(LogError, RuntimeError):
    """An append was attempted outside ``transaction.atomic()``."""


class LogPayloadError(LogError, ValueError):
    """A kind or payload cannot be logged (bad kind, reserved key, no canonical JSON form)."""


class LogRangeError(LogError, ValueError):
    """An index or tree size is out of range for the log; ``field`` names the argument."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class LogIntegrityError(LogError):
    """Stored hashes the log needs are missing: the database was damaged or tampered with."""


# --- Services -------------------------------------------------------------------------------------


def log_append(*, kind: str, payload: dict) -> LogEntry:
    """Append one entry; see :func:`log_append_many`."""
    return log_append_many(entries=[(kind, payload)])[0]


def log_append_many(*, entries: Sequence[tuple[str, dict]]) -> list[LogEntry]:
    """Append entries ``(kind, payload)`` in order, inside the caller's ``transaction.atomic()``.

    ``kind`` is a dotted lower-case name such as ``item.added``; ``payload`` a dict that has an
    RFC 8785 form, without the reserved keys ``kind`` and ``time``. Each entry's leaf bytes are the
    canonical JSON of ``{"kind", "time", **payload}``, ``time`` being the append time in UTC.

    Takes the log's writer lock until the caller's transaction ends and returns the saved entries
    with their indexes. Raises :class:`LogNotInTransactionError` outside a transaction and
    :class:`LogPayloadError` for an entry that cannot be logged (nothing is written then).
    """
    using = router.db_for_write(LogEntry)
    connection = connections[using]
    if not connection.in_atomic_block:
        raise LogNotInTransactionError(
            "log_append must run inside the caller's transaction.atomic(), so the entries commit or "
            "roll back with the changes they record"
        )
    for kind, payload in entries:
        _check_entry(kind, payload)
    if not entries:
        return []

    head = log_head_lock(using)
    now = timezone.now()
    time = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    start = head.size

    rows: list[LogEntry] = []
    for offset, (kind, payload) in enumerate(entries):
        data = _leaf_bytes(kind, time, payload)
        # As loaded from the database: positional values in field order, saved state.
        rows.append(LogEntry.from_db(using, None, (start + offset, kind, data, merkle.hash_leaf(data), now)))

    stored = _stored_hashes_for_batch(using, start, [entry.leaf_hash for entry in rows])
    _insert(using, rows, stored)
    _update_head(connections[using], start + len(rows), now)
    return rows


def _check_entry(kind: object, payload: object) -> None:
    if not isinstance(kind, str) or len(kind) > _KIND_MAX_LENGTH or not _KIND.fullmatch(kind):
        raise LogPayloadError(
            f"log entry kind must be a dotted lower-case name of at most {_KIND_MAX_LENGTH} characters, "
            f"got {kind!r}"
        )
    if not isinstance(payload, dict):
        raise LogPayloadError(f"log entry payload must be a dict, got {type(payload).__name__}")
    reserved = RESERVED_KEYS.intersection(payload)
    if reserved:
        raise LogPayloadError(f"log entry payload must not set the reserved keys {sorted(reserved)}")


def _leaf_bytes(kind: str, time: str, payload: dict) -> bytes:
    try:
        return canonical_json({**payload, "kind": kind, "time": time})
    except CanonicalJsonError as exc:
        raise LogPayloadError(f"log entry {kind!r} has no canonical JSON form: {exc}") from None


def log_head_lock(using: str) -> LogHead:
    """Lock the log's head row until the current transaction ends (the one-writer lock) and return it
    (its ``id`` and ``size``; the rest deferred).

    On MySQL/MariaDB a writer waits at most ``PROVENANT_LOG_LOCK_WAIT_SECONDS`` for the lock (a large
    sync holds it until it commits); the ingest API turns the timeout into 503 with Retry-After.
    Every append takes this lock, so it is one plain statement (:mod:`provenance.rows`).
    """
    connection = connections[using]
    if connection.vendor == "mysql":
        _set_lock_wait(connection, settings.LOG_LOCK_WAIT_SECONDS)
    lookup = ("{id} = %s", [LogHead.SINGLETON_ID])
    head = row_first(LogHead, *lookup, only=("id", "size"), locking=True, using=using)
    if head is None:
        _create_head(using)
        head = row_first(LogHead, *lookup, only=("id", "size"), locking=True, using=using)
    return head


def _set_lock_wait(connection, seconds: int) -> None:
    """``innodb_lock_wait_timeout`` for this session, set once per database connection and value."""
    connection.ensure_connection()
    raw = connection.connection
    if getattr(raw, "_provenant_lock_wait", None) == seconds:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = %s", [seconds])
    try:
        raw._provenant_lock_wait = seconds
    except AttributeError:  # a driver connection without attributes: set it every time
        pass


def _update_head(connection, size: int, now) -> None:
    qn = connection.ops.quote_name
    sql = (
        f"UPDATE {qn(LogHead._meta.db_table)} SET {qn('size')} = %s, {qn('updated_at')} = %s "
        f"WHERE {qn('id')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [size, connection.ops.adapt_datetimefield_value(now), LogHead.SINGLETON_ID])


def _create_head(using: str) -> None:
    """Insert the head row unless a concurrent first writer did; that one is waited for.

    On MariaDB/MySQL an upsert, not ``INSERT IGNORE``: the latter leaves waiting writers with
    shared locks that deadlock when each then asks for the exclusive lock.
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    table, pk, size, updated_at = (qn(LogHead._meta.db_table), qn("id"), qn("size"), qn("updated_at"))
    values = f"INSERT INTO {table} ({pk}, {size}, {updated_at}) VALUES (%s, 0, %s)"
    if connection.vendor == "mysql":
        sql = f"{values} ON DUPLICATE KEY UPDATE {pk} = {pk}"
    else:
        sql = f"{values} ON CONFLICT ({pk}) DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, [LogHead.SINGLETON_ID, connection.ops.adapt_datetimefield_value(timezone.now())])


def _right_edge_indexes(size: int) -> list[int]:
    """Stored indexes of the complete subtrees that make up the tree of ``size`` leaves, largest first.

    Every hash an append combines with is one of these or was written by the same batch.
    """
    indexes = []
    lo = 0
    while lo < size:
        level = (size - lo).bit_length() - 1
        indexes.append(merkle.stored_hash_index(level, lo >> level))
        lo += 1 << level
    return indexes


def _stored_hashes_for_batch(using: str, start: int, leaf_hashes: list[bytes]) -> list[tuple[int, bytes]]:
    """The ``(stored index, hash)`` pairs that appending ``leaf_hashes`` at ``start`` adds.

    The hashes and order of :func:`provenance.standards.merkle.stored_hashes_for_record_hash` (record n stores
    its leaf hash, then one hash per complete subtree it closes), computed over the tree's right
    edge: the O(log n) stored subtree roots read in one query, then kept in memory for the batch.
    """
    edge = log_read_hashes(_right_edge_indexes(start), using=using) if start else []
    added: list[tuple[int, bytes]] = []
    next_index = merkle.stored_hash_count(start)
    hash_children = merkle.hash_children
    for n, leaf_hash in enumerate(leaf_hashes, start=start):
        added.append((next_index, leaf_hash))
        next_index += 1
        h = leaf_hash
        # Each trailing one bit of n closes a subtree with the smallest one on the edge.
        while n & 1:
            h = hash_children(edge.pop(), h)
            added.append((next_index, h))
            next_index += 1
            n >>= 1
        edge.append(h)
    return added


def _insert(using: str, rows: list[LogEntry], stored: list[tuple[int, bytes]]) -> None:
    connection = connections[using]
    qn = connection.ops.quote_name
    created_at = connection.ops.adapt_datetimefield_value(rows[0].created_at)
    entry_sql = "INSERT INTO {} ({}, {}, {}, {}, {}) VALUES ".format(
        qn(LogEntry._meta.db_table), qn("index"), qn("kind"), qn("data"), qn("leaf_hash"), qn("created_at")
    )
    hash_sql = "INSERT INTO {} ({}, {}) VALUES ".format(qn(LogHash._meta.db_table), qn("index"), qn("hash"))
    with connection.cursor() as cursor:
        if connection.vendor not in ("mysql", "sqlite") or not _SAFE_LITERAL.fullmatch(str(created_at)):
            cursor.executemany(
                entry_sql + "(%s, %s, %s, %s, %s)",
                [(e.index, e.kind, e.data, e.leaf_hash, created_at) for e in rows],
            )
            cursor.executemany(hash_sql + "(%s, %s)", stored)
            return
        # Multi-row statements of literals: every value is an integer, a validated kind, a fixed
        # timestamp or bytes written as hex (X'..' is a blob in MariaDB/MySQL and SQLite). Escaping
        # each parameter through the driver costs more than the database's work on the insert.
        _execute_values(
            cursor,
            entry_sql,
            (f"({e.index},'{e.kind}',X'{e.data.hex()}',X'{e.leaf_hash.hex()}','{created_at}')" for e in rows),
        )
        _execute_values(cursor, hash_sql, (f"({int(i)},X'{h.hex()}')" for i, h in stored))


def _execute_values(cursor, sql: str, values: Iterable[str]) -> None:
    """Run ``sql`` + the value tuples, in statements of at most about a megabyte."""
    chunk: list[str] = []
    length = 0
    for value in values:
        chunk.append(value)
        length += len(value) + 1
        if length >= _STATEMENT_BYTES:
            cursor.execute(sql + ",".join(chunk))
            chunk, length = [], 0
    if chunk:
        cursor.execute(sql + ",".join(chunk))


# --- Selectors ------------------------------------------------------------------------------------


def log_size() -> int:
    """The number of entries in the log (as of the last committed append)."""
    size = LogHead.objects.filter(pk=LogHead.SINGLETON_ID).values_list("size", flat=True).first()
    return size or 0


def log_read_hashes(indexes: Sequence[int], *, using: str | None = None) -> list[bytes]:
    """The stored hashes at these stored-hash indexes, in order, in one query.

    Raises :class:`LogIntegrityError` when one is missing.
    """
    found = _fetch_hashes(set(indexes), using)
    missing = [i for i in indexes if i not in found]
    if missing:
        raise LogIntegrityError(f"stored log hashes missing at indexes {missing[:10]}")
    return [found[i] for i in indexes]


# A stored hash index is a signed 64-bit column: a larger index cannot exist, so it is never queried
# (SQLite refuses such a parameter outright), and a proof that needs one finds the log too small.
_MAX_STORED_INDEX = 2**63 - 1


def _fetch_hashes(indexes: set[int], using: str | None) -> dict[int, bytes]:
    indexes = {index for index in indexes if 0 <= index <= _MAX_STORED_INDEX}
    if not indexes:
        return {}
    # Proofs are the hot read path: one plain statement, no queryset machinery.
    connection = connections[using or router.db_for_read(LogHash)]
    qn = connection.ops.quote_name
    sql = "SELECT {}, {} FROM {} WHERE {} IN ({})".format(
        qn("index"), qn("hash"), qn(LogHash._meta.db_table), qn("index"), ", ".join(["%s"] * len(indexes))
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(indexes))
        rows = cursor.fetchall()
    found = {}
    for index, value in rows:
        if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != merkle.HASH_SIZE:
            # Hand-edited rows (SQLite string functions turn a BLOB into TEXT): never served as a proof.
            raise LogIntegrityError(f"stored log hash {index} is not a {merkle.HASH_SIZE}-byte hash")
        found[index] = bytes(value)
    return found


class _TreeReader:
    """Reads stored hashes for a tree of ``size`` entries, proving in the same query that the log has
    that many: the last entry's stored leaf hash is fetched along (it exists only once appended)."""

    def __init__(self, size: int, field: str) -> None:
        self.size = size
        self.field = field
        self.used = False

    def __call__(self, indexes: list[int]) -> list[bytes]:
        self.used = True
        sentinel = merkle.stored_hash_index(0, self.size - 1)
        found = _fetch_hashes({*indexes, sentinel}, None)
        if sentinel not in found:
            raise LogRangeError(
                f"{self.field} {self.size} is larger than the log ({log_size()} entries)", field=self.field
            )
        missing = [i for i in indexes if i not in found]
        if missing:
            raise LogIntegrityError(f"stored log hashes missing at indexes {missing[:10]}")
        return [found[i] for i in indexes]

    def confirm(self) -> None:
        """Check the size when the proof needed no hashes at all."""
        if self.size and not self.used:
            self([])


def _check_count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LogRangeError(f"{field} must be a non-negative integer, got {value!r}", field=field)
    return value


def log_root(size: int) -> bytes:
    """The RFC 9162 root hash of the tree of the first ``size`` entries (one query of O(log n) rows)."""
    reader = _TreeReader(_check_count(size, "size"), "size")
    root = merkle.tree_hash(size, reader)
    reader.confirm()
    return root


def log_inclusion_proof(index: int, size: int) -> list[bytes]:
    """The RFC 9162 audit path of entry ``index`` in the tree of ``size`` entries, leaf to root.

    One query of O(log n) rows. Raises :class:`LogRangeError` (with ``field``) when ``index`` is not
    below ``size`` or the log is smaller than ``size``.
    """
    reader = _TreeReader(_check_count(size, "size"), "size")
    if _check_count(index, "index") >= size:
        raise LogRangeError(f"index {index} is not below the tree size {size}", field="index")
    proof = merkle.prove_record(size, index, reader)
    reader.confirm()
    return proof


def log_consistency_proof(old: int, new: int) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of ``old`` entries to the tree of ``new`` entries.

    One query of O(log n) rows. Raises :class:`LogRangeError` (with ``field``) when ``old`` is larger
    than ``new`` or the log is smaller than ``new``.
    """
    reader = _TreeReader(_check_count(new, "new"), "new")
    if _check_count(old, "old") > new:
        raise LogRangeError(f"old size {old} is larger than the new size {new}", field="old")
    proof = merkle.prove_tree(new, old, reader)
    reader.confirm()
    return proof


def log_entries(
    start: int, end: int, limit: int = ENTRIES_PAGE_LIMIT, *, size: int | None = None
) -> list[LogEntry]:
    """Entries with ``start <= index < end`` that the log holds, at most ``limit``, in index order.

    ``size`` is the log size the caller already read (default: read it).
    """
    stop = min(end, start + limit, log_size() if size is None else size)
    if stop <= start:
        return []
    page = list(LogEntry.objects.filter(index__gte=start, index__lt=stop).order_by("index"))
    for entry in page:
        if not isinstance(entry.data, (bytes, bytearray, memoryview)) or not isinstance(
            entry.leaf_hash, (bytes, bytearray, memoryview)
        ):
            raise LogIntegrityError(f"log entry {entry.index} is not stored as bytes")
    return page
