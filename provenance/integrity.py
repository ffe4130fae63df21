"""Recompute the transparency log and the registry from the rows and name everything that disagrees.

One streaming pass over the entries and stored hashes in index order, in bounded chunks, keeps only
the tree's right edge in memory (O(log n)): every leaf hash is rebuilt from the entry's bytes, every
stored hash (the ``golang.org/x/mod/sumdb/tlog`` layout of :mod:`provenance.standards.merkle`) from the
rebuilt leaves, and every checkpoint's root from the tree at its size. Then the checkpoints'
signatures are checked against every key the log ever used, consecutive checkpoints are proven
consistent (RFC 9162 §2.1.4), and each registry row is compared with its latest log entry.

Findings name the row: an entry edited, deleted, inserted or moved to another index; a stored hash
edited or missing; a checkpoint forged, edited or not matching the entries; a registry row whose
content differs from what the log recorded. Memory stays bounded whatever the log's size: findings
beyond ``max_findings`` are counted, not kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db.models import QuerySet

from provenance.log import ITEM_KINDS, LogError, log_read_hashes
from provenance.models import Checkpoint, ContentItem, LogEntry, LogHash, LogHead, LogKey
from provenance.standards import merkle, notes

__all__ = ["Finding", "IntegrityReport", "integrity_check"]

Progress = Callable[[str, int, int], None]

_ZERO = bytes(32)
_ITEM_KEY_FIELDS = ("store_code", "surface", "magento_id", "part_key")
_ITEM_VALUE_FIELDS = ("content_sha256", "origin", "state_sha256")
_SUBJECT_ORDER = ("entry", "entries", "stored hash", "checkpoint", "log key", "content item")


@dataclass(frozen=True)
class Finding:
    """One thing that does not hold. ``subject`` names the row: ``entry 12``, ``checkpoint #3``…"""

    code: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message} [{self.code}]"

    @property
    def sort_key(self) -> tuple[int, int, str]:
        """Rows first (entries, stored hashes), then checkpoints, keys and registry rows; by number."""
        rank = next((r for r, prefix in enumerate(_SUBJECT_ORDER) if self.subject.startswith(prefix)), 9)
        digits = re.search(r"-?\d+", self.subject)
        return rank, int(digits.group()) if digits else 0, self.subject


@dataclass
class IntegrityReport:
    size: int = 0
    entries_checked: int = 0
    hashes_checked: int = 0
    checkpoints_checked: int = 0
    items_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    extra_checked: dict[str, int] = field(default_factory=dict)
    omitted: int = 0
    max_findings: int = 1000

    @property
    def ok(self) -> bool:
        return not self.findings and not self.omitted

    def add(self, code: str, subject: str, message: str) -> None:
        if len(self.findings) < self.max_findings:
            self.findings.append(Finding(code, subject, message))
        else:
            self.omitted += 1


def _stored_bytes(report: IntegrityReport, value: object, subject: str, column: str) -> bytes:
    """A binary column's value as bytes; any other stored type is a finding, read as its text.

    Hand-editing with SQL string functions turns a BLOB into TEXT (SQLite) or a value into a number;
    the check names the row and goes on instead of stopping at it.
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    report.add(
        "row.type",
        subject,
        f"{column} is stored as {type(value).__name__}, not bytes: the row was edited outside the log",
    )
    return _as_bytes(value)


def _as_bytes(value: object) -> bytes:
    """Any stored value as bytes, for comparing (a non-binary value never equals a real hash)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if value is None:
        return b""
    return str(value).encode("utf-8", "surrogateescape")


ExtraCheck = Callable[["IntegrityReport", int], int]
_EXTRA_CHECKS: dict[str, ExtraCheck] = {}


def integrity_register(name: str, check: ExtraCheck) -> None:
    """Add a check run by :func:`integrity_check` (and so ``provenance_verify``) for another app's data.

    ``check(report, chunk_size)`` adds findings with ``report.add`` and returns how many rows it
    checked; apps register from ``AppConfig.ready()`` (provenance imports none of them).
    """
    _EXTRA_CHECKS[name] = check


def integrity_check(
    *, chunk_size: int = 5000, max_findings: int = 1000, progress: Progress | None = None
) -> IntegrityReport:
    """Check the whole log and the registry against it; see the module docstring."""
    report = IntegrityReport(max_findings=max_findings)
    head = LogHead.objects.filter(pk=LogHead.SINGLETON_ID).first()
    report.size = head.size if head else 0
    checkpoints = list(Checkpoint.objects.order_by("id").values_list("id", "size", "root_hash"))
    _check_tree(report, checkpoints, chunk_size, progress)
    _check_checkpoints(report, chunk_size)
    _check_checkpoint_chain(report, checkpoints)
    _check_registry(report, chunk_size, progress)
    for name, check in _EXTRA_CHECKS.items():
        report.extra_checked[name] = check(report, chunk_size)
    report.findings.sort(key=lambda finding: finding.sort_key)
    return report


# --- Entries and stored hashes --------------------------------------------------------------------


def _stream(queryset: QuerySet, fields: tuple[str, ...], chunk_size: int, key: str = "index") -> Iterator:
    """Rows in ascending ``key`` order, read in keyset-paginated chunks (bounded memory on any driver)."""
    last = None
    while True:
        page = queryset if last is None else queryset.filter(**{f"{key}__gt": last})
        rows = list(page.order_by(key).values_list(*fields)[:chunk_size])
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


class _Peekable:
    def __init__(self, rows: Iterator) -> None:
        self._rows = rows
        self._next = next(rows, None)

    def peek(self):
        return self._next

    def pop(self):
        row = self._next
        self._next = next(self._rows, None)
        return row


@dataclass
class _Node:
    """A complete subtree on the tree's right edge while streaming."""

    level: int
    first: int  # first entry index it covers
    rebuilt: bytes  # hash rebuilt from the entries' bytes
    stored: bytes | None  # the stored hash at its position (None: missing)
    # Mismatches below, not yet explained: (0, entry index) for leaves, (1, stored index) for nodes.
    suspects: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class _NodeMismatch:
    span: str
    verdict: str = ""


@dataclass
class _LeafMismatch:
    index: int
    rebuilt: bytes
    column: bytes
    stored: bytes
    verdict: str = ""  # "stored" (stored leaf hash edited) or "data" (entry edited), when known


def _check_tree(
    report: IntegrityReport, checkpoints: list, chunk_size: int, progress: Progress | None
) -> None:
    size = report.size
    entries = _Peekable(_stream(LogEntry.objects.all(), ("index", "kind", "data", "leaf_hash"), chunk_size))
    hashes = _Peekable(_stream(LogHash.objects.all(), ("index", "hash"), chunk_size))
    roots_due = sorted(
        (cp_size, cp_id, _stored_bytes(report, root, f"checkpoint #{cp_id}", "root_hash"))
        for cp_id, cp_size, root in checkpoints
    )
    due = 0
    while due < len(roots_due) and roots_due[due][0] == 0:
        _compare_root(report, roots_due[due], merkle.EMPTY_ROOT)
        due += 1

    mismatches: dict[int, _LeafMismatch] = {}
    nodes: dict[int, _NodeMismatch] = {}
    mismatch_cap = max(report.max_findings, 1000)
    right_edge: list[_Node] = []

    def stored_at(index: int, what: str) -> bytes | None:
        while (row := hashes.peek()) is not None and row[0] < index:
            hashes.pop()
            report.add("hash.unexpected", f"stored hash {row[0]}", "row not at any position of the tree")
        row = hashes.peek()
        if row is not None and row[0] == index:
            hashes.pop()
            report.hashes_checked += 1
            return _stored_bytes(report, row[1], f"stored hash {index}", "hash")
        report.add("hash.missing", f"stored hash {index}", f"missing ({what})")
        return None

    # Entries with negative indexes sort first.
    while (row := entries.peek()) is not None and row[0] < 0:
        entries.pop()
        report.add("entry.inserted", f"entry {row[0]}", "row inserted at a negative index")

    for i in range(size):
        row = entries.peek()
        leaf_stored = stored_at(merkle.stored_hash_index(0, i), f"leaf hash of entry {i}")
        if row is not None and row[0] == i:
            entries.pop()
            report.entries_checked += 1
            _, kind, data, column = row
            data = _stored_bytes(report, data, f"entry {i}", "data")
            column = _stored_bytes(report, column, f"entry {i}", "leaf_hash")
            rebuilt = merkle.hash_leaf(data)
            _check_entry_data(report, i, kind, data)
            if leaf_stored is None:
                report.add(
                    "entry.inserted", f"entry {i}", "has no stored leaf hash: not appended through the log"
                )
                node = _Node(0, i, rebuilt, None)
            elif rebuilt != leaf_stored:
                if len(mismatches) < mismatch_cap:
                    mismatches[i] = _LeafMismatch(i, rebuilt, column, leaf_stored)
                else:
                    report.add("entry.edited", f"entry {i}", "data does not match the stored leaf hash")
                node = _Node(0, i, rebuilt, leaf_stored, [(0, i)])
            else:
                if column != rebuilt:
                    report.add(
                        "entry.leaf_hash", f"entry {i}", "leaf_hash column edited (data and log agree)"
                    )
                node = _Node(0, i, rebuilt, leaf_stored)
        else:
            report.add("entry.deleted", f"entry {i}", "missing: the row was deleted or moved")
            node = _Node(0, i, leaf_stored or _ZERO, leaf_stored)

        right_edge.append(node)
        count = i + 1
        while count & 1 == 0:
            right_edge.append(
                _merge(report, right_edge.pop(-2), right_edge.pop(), stored_at, mismatches, nodes)
            )
            count >>= 1

        while due < len(roots_due) and roots_due[due][0] == i + 1:
            _compare_root(report, roots_due[due], _fold(right_edge))
            due += 1
        if progress and i % 100_000 == 0:
            progress("entries", i, size)

    for row in iter(entries.pop, None):
        report.add("entry.inserted", f"entry {row[0]}", f"row inserted beyond the log's size {size}")
    expected_hashes = merkle.stored_hash_count(size)
    for row in iter(hashes.pop, None):
        if row[0] >= expected_hashes:
            report.add(
                "hash.unexpected",
                f"stored hash {row[0]}",
                f"row beyond the {expected_hashes} stored hashes of a log of size {size}",
            )
    for cp_size, cp_id, _ in roots_due[due:]:
        report.add(
            "checkpoint.beyond", f"checkpoint #{cp_id}", f"size {cp_size} is larger than the log ({size})"
        )
    _report_mismatches(report, mismatches, nodes)
    if progress:
        progress("entries", size, size)


def _merge(report, left: _Node, right: _Node, stored_at, mismatches, nodes) -> _Node:
    """Close the subtree of two siblings: compare its stored hash with the one rebuilt from the entries
    and with the one built from the stored children, which tells an edited stored hash (its parent
    still agrees with the entries) from entries rewritten together with their stored hashes (the
    parent still agrees with the old stored hashes)."""
    level = left.level + 1
    stored_index = merkle.stored_hash_index(level, left.first >> level)
    span = f"level {level}, entries {left.first}-{left.first + (1 << level) - 1}"
    stored = stored_at(stored_index, span)
    rebuilt = merkle.hash_children(left.rebuilt, right.rebuilt)
    suspects = left.suspects + right.suspects
    if stored is None or left.stored is None or right.stored is None:
        return _Node(level, left.first, rebuilt, stored, suspects[:64])
    if stored == rebuilt:
        _settle(suspects, "stored", mismatches, nodes)
        suspects = []
    elif stored == merkle.hash_children(left.stored, right.stored):
        _settle(suspects, "data", mismatches, nodes)
        suspects = []
    else:
        nodes[stored_index] = _NodeMismatch(span)
        suspects = [*suspects, (1, stored_index)]
    return _Node(level, left.first, rebuilt, stored, suspects[:64])


def _settle(suspects: list[tuple[int, int]], verdict: str, mismatches, nodes) -> None:
    for kind, ref in suspects:
        found = (mismatches if kind == 0 else nodes).get(ref)
        if found is not None and not found.verdict:
            found.verdict = verdict


def _report_mismatches(
    report: IntegrityReport, mismatches: dict[int, _LeafMismatch], nodes: dict[int, _NodeMismatch]
) -> None:
    by_stored = {m.stored: m.index for m in mismatches.values()}
    for m in sorted(mismatches.values(), key=lambda m: m.index):
        origin = by_stored.get(m.rebuilt)
        subject = f"entry {m.index}"
        if origin is not None and origin != m.index:
            report.add(
                "entry.reordered",
                subject,
                f"holds the data of entry {origin} (rows reordered or indexes swapped)",
            )
        elif m.verdict == "stored" or (not m.verdict and m.column == m.rebuilt):
            report.add(
                "hash.edited",
                f"stored hash {merkle.stored_hash_index(0, m.index)}",
                f"leaf hash of entry {m.index} edited (the entry agrees with the rest of the tree)"
                if m.verdict
                else f"leaf hash of entry {m.index} does not match the entry",
            )
        elif m.column == m.stored:
            report.add("entry.edited", subject, "data edited: it no longer matches its leaf hash")
        else:
            report.add(
                "entry.edited",
                subject,
                "data and leaf_hash rewritten (or a row inserted here): they no longer match the log's "
                "stored leaf hash",
            )
    for index, node in sorted(nodes.items()):
        if node.verdict == "data":
            report.add(
                "entry.edited",
                f"entries {node.span.partition('entries ')[2]}",
                f"rewritten together with their stored hashes (stored hash {index} over them still has "
                "the old value)",
            )
        else:
            report.add(
                "hash.edited", f"stored hash {index}", f"does not match the hashes below it ({node.span})"
            )


def _check_entry_data(report: IntegrityReport, index: int, kind: str, data: bytes) -> None:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        report.add("entry.malformed", f"entry {index}", "data is not JSON")
        return
    if not isinstance(value, dict) or value.get("kind") != kind or "time" not in value:
        report.add(
            "entry.malformed",
            f"entry {index}",
            f"data is not an entry of kind {kind!r} with a time (kind column edited?)",
        )


def _fold(right_edge: list[_Node]) -> bytes:
    root = right_edge[-1].rebuilt
    for node in reversed(right_edge[:-1]):
        root = merkle.hash_children(node.rebuilt, root)
    return root


def _compare_root(report: IntegrityReport, due: tuple[int, int, bytes], rebuilt: bytes) -> None:
    cp_size, cp_id, root = due
    if root != rebuilt:
        report.add(
            "checkpoint.root",
            f"checkpoint #{cp_id}",
            f"root of size {cp_size} does not match the tree rebuilt from the entries "
            f"(signed {root.hex()[:16]}…, rebuilt {rebuilt.hex()[:16]}…)",
        )


# --- Checkpoints ----------------------------------------------------------------------------------


def _verifiers(report: IntegrityReport) -> list[notes.NoteVerifier]:
    verifiers = []
    for key in LogKey.objects.order_by("id"):
        try:
            verifier = notes.NoteVerifier.from_key_string(key.verifier_key)
        except notes.InvalidKeyError as exc:
            report.add("key.malformed", f"log key #{key.pk}", f"verifier key is malformed: {exc}")
            continue
        if verifier.key_id.hex() != key.key_id or verifier.name != key.name:
            report.add("key.edited", f"log key #{key.pk}", "name or key ID column does not match the key")
        verifiers.append(verifier)
    return verifiers


def _check_checkpoints(report: IntegrityReport, chunk_size: int) -> None:
    verifiers = _verifiers(report)
    fields = ("id", "size", "root_hash", "origin", "note")
    for cp_id, size, root, origin, note in _stream(Checkpoint.objects.all(), fields, chunk_size, key="id"):
        report.checkpoints_checked += 1
        subject = f"checkpoint #{cp_id}"
        try:
            opened = notes.open_note(note, verifiers)
        except notes.InvalidSignatureError as exc:
            report.add("checkpoint.forged", subject, f"signature does not verify ({exc}): forged or edited")
            continue
        except notes.UnverifiedNoteError as exc:
            report.add("checkpoint.forged", subject, f"not signed by any key the log used ({exc})")
            continue
        except notes.InvalidNoteError as exc:
            report.add("checkpoint.forged", subject, f"not a well-formed signed note ({exc})")
            continue
        try:
            body = notes.Checkpoint.parse(opened.text)
        except notes.CheckpointError as exc:
            report.add("checkpoint.forged", subject, f"signed text is not a checkpoint ({exc})")
            continue
        if (body.origin, body.size, body.root_hash) != (origin, size, _as_bytes(root)):
            report.add(
                "checkpoint.edited", subject, "origin, size or root columns differ from the signed note"
            )


def _check_checkpoint_chain(report: IntegrityReport, checkpoints: list) -> None:
    for (a_id, a_size, a_root), (b_id, b_size, b_root) in zip(checkpoints, checkpoints[1:], strict=False):
        subject = f"checkpoint #{b_id}"
        if b_size < a_size:
            report.add(
                "checkpoint.inconsistent",
                subject,
                f"size {b_size} is smaller than checkpoint #{a_id}'s {a_size}",
            )
            continue
        if b_size > report.size:
            continue
        try:
            proof = merkle.prove_tree(b_size, a_size, lambda idx: log_read_hashes(idx))
            merkle.verify_consistency(a_size, b_size, _as_bytes(a_root), _as_bytes(b_root), proof)
        except (LogError, merkle.MerkleProofError) as exc:
            report.add(
                "checkpoint.inconsistent", subject, f"not proven consistent with checkpoint #{a_id}: {exc}"
            )


# --- Registry -------------------------------------------------------------------------------------


def _check_registry(report: IntegrityReport, chunk_size: int, progress: Progress | None) -> None:
    fields = ("pk", "latest_log_index", *_ITEM_KEY_FIELDS, *_ITEM_VALUE_FIELDS)
    items = ContentItem.objects.filter(latest_log_index__isnull=False)
    chunk: list[tuple] = []
    for row in _stream(items, fields, chunk_size, key="pk"):
        chunk.append(row)
        if len(chunk) >= chunk_size:
            _check_items(report, chunk)
            chunk = []
    if chunk:
        _check_items(report, chunk)


def _check_items(report: IntegrityReport, rows: list[tuple]) -> None:
    indexes = {row[1] for row in rows}
    found = dict(
        LogEntry.objects.filter(index__in=indexes, index__lt=report.size).values_list("index", "data")
    )
    for pk, index, *values in rows:
        report.items_checked += 1
        item = dict(zip((*_ITEM_KEY_FIELDS, *_ITEM_VALUE_FIELDS), values, strict=True))
        natural_key = "/".join(str(item[name]) for name in _ITEM_KEY_FIELDS)
        subject = f"content item #{pk} ({natural_key})"
        if index not in found:
            report.add("item.entry_missing", subject, f"its latest log entry {index} does not exist")
            continue
        try:
            entry = json.loads(_as_bytes(found[index]))
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or entry.get("kind") not in ITEM_KINDS:
            kind = entry.get("kind") if isinstance(entry, dict) else None
            report.add(
                "item.entry_kind", subject, f"its latest log entry {index} is not an item entry ({kind!r})"
            )
            continue
        for name in _ITEM_KEY_FIELDS:
            if name in entry and entry[name] != item[name]:
                report.add(
                    "item.key", subject, f"log entry {index} is about another item ({name} {entry[name]!r})"
                )
                break
        for name in _ITEM_VALUE_FIELDS:
            if name in entry and entry[name] != item[name]:
                report.add(
                    "item.changed",
                    subject,
                    f"{name} is {item[name]!r} but its latest log entry {index} says {entry[name]!r}",
                )
