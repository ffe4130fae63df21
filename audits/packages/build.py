"""Audit packages: a ZIP of compliance documents and provenance evidence an auditor checks offline.

:func:`audits.packages.request.audit_package_request` records a package and queues its build
(admin); :func:`audit_package_run` builds it (Celery task, ``audit_package`` command), records its
SHA-256 and logs it (``audit.package`` in the transparency log, ``audit.package_built`` in the audit
trail).

The evidence is the latest signed checkpoint (a C2SP signed note, Ed25519), the verifier keys, the
included log entries (exact leaf bytes) each with its RFC 9162 inclusion proof against that checkpoint,
and an RFC 9162 consistency proof from the previous package's checkpoint. ``verify.py`` in the ZIP
checks all of it with the standard library and ``cryptography`` only.

Scale: rows are streamed (``.iterator``), the tree's leaf hashes are loaded once and every proof is read
from in-memory level arrays (:mod:`audits.packages.evidence`), files are staged on disk and copied
into the ZIP in chunks, so memory stays flat in the number of registry items.

Other features add files through :func:`package_file_provider_register`.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import logging
import os
import shutil
import socket
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.utils import timezone

from audits import events
from audits.models import AuditPackage, AuditPackageStatus, Review
from audits.packages import documents
from audits.packages.evidence import LevelTree
from consent.selectors import consent_evidence, declaration_rows
from datasets.selectors import datasets_for_package
from disclosure.selectors import BadgeCoverage, item_shown, store_state_load
from magento_bridge.locks import LockHolder
from provenance.checkpoints import CheckpointError, checkpoint_latest, checkpoint_sign, log_verifier_keys
from provenance.log import ITEM_KINDS, log_append, log_consistency_proof, log_read_hashes
from provenance.models import Checkpoint, ContentItem, GenerationRecord, Generator, LogEntry, Origin
from provenance.services import registry_store_codes
from provenance.standards import merkle
from provenance.standards import monitor as tlog_monitor
from provenance.standards import tiles as tlog_tiles

__all__ = [
    "AuditPackageError",
    "FileProvider",
    "audit_package_build",
    "audit_package_run",
    "package_file_provider_register",
    "package_file_providers",
    "package_store_code",
]

logger = logging.getLogger(__name__)

FileProvider = Callable[..., dict[str, bytes]]
"""``fn(*, store_code: str, since: date | None) -> {relative path: bytes}``."""

_PROVIDERS: list[FileProvider] = []
CHUNK = 1 << 20
ROW_CHUNK = 5000
TILES_DIR = "provenance/tiles"
_TILES_PER_QUERY = 32  # 8,192 stored hashes a query
PACKAGE_KIND = "audit.package"
STAGING_PREFIX = ".audit-package-"
# Entries included by kind (subject to --store / --since); entries the registers cite are always in.
_ALWAYS_KINDS = frozenset({"classification.approved", "audit.anchor", PACKAGE_KIND})
_STORE_KINDS = frozenset({"disclosure.policy", "disclosure.switch"})
_RESERVED_PREFIXES = (
    "provenance/",
    "registers/",
    "manifest.json",
    "index.html",
    "verify.py",
    "annex-iv.html",
    "datasets/",
)

Progress = Callable[[int, str], None]


class AuditPackageError(Exception):
    """The package cannot be built (no signed checkpoint, a log that disagrees with it, bad input)."""


def package_file_provider_register(fn: FileProvider) -> FileProvider:
    """Add files to every package: ``fn(*, store_code, since)`` returns ``{relative path: bytes}``.

    Paths are POSIX, relative, under a folder of the provider's own (e.g. ``simulation/``); they go into
    the ZIP, ``manifest.json`` and ``index.html`` like every other file. Usable as a decorator.
    """
    if fn not in _PROVIDERS:
        _PROVIDERS.append(fn)
    return fn


def package_file_providers() -> list[FileProvider]:
    return list(_PROVIDERS)


# --- Services ---------------------------------------------------------------------------------------


def audit_package_run(
    *, package_id: int, out: Path | str | None = None, progress: Progress | None = None
) -> AuditPackage:
    """Build package ``package_id`` (queued or failed before) into ``out`` (default: the package dir).

    Idempotent: a package already built is returned as it is. A failure is recorded on the package
    (``status`` failed, ``error``) and raised as :class:`AuditPackageError`.
    """
    package = AuditPackage.objects.get(pk=package_id)
    if package.status == AuditPackageStatus.DONE:
        return package
    out = Path(out) if out is not None else Path(settings.AUDIT_PACKAGE_DIR) / package.file_name
    audit_packages_orphaned_fail()
    _update(
        package,
        status=AuditPackageStatus.RUNNING,
        started_at=timezone.now(),
        progress=0,
        error="",
        builder=f"{socket.gethostname()}:{os.getpid()}",
    )

    def report(percent: int, note: str) -> None:
        _update(package, progress=max(0, min(99, percent)), progress_note=note[:200])
        if progress is not None:
            progress(percent, note)

    try:
        if getattr(settings, "LOG_SIGNING_KEY", ""):
            try:
                checkpoint_sign()  # prove against the log as it is now
            except CheckpointError as exc:
                logger.warning("Audit package %s: could not sign a fresh checkpoint: %s", package.pk, exc)
        previous = (
            AuditPackage.objects.filter(status=AuditPackageStatus.DONE, checkpoint_size__isnull=False)
            .exclude(pk=package.pk)
            .order_by("-finished_at", "-id")
            .first()
        )
        result = audit_package_build(
            out=out,
            store_code=package.store_code,
            since=package.since,
            allow_empty=package.allow_empty,
            previous_note=previous.checkpoint_note if previous else "",
            package_id=package.pk,
            progress=report,
        )
    except Exception as exc:
        _update(
            package,
            status=AuditPackageStatus.FAILED,
            error=str(exc)[:2000] or type(exc).__name__,
            finished_at=timezone.now(),
        )
        if isinstance(exc, AuditPackageError):
            raise
        raise AuditPackageError(f"building the package failed: {exc}") from exc

    with transaction.atomic(using=router.db_for_write(AuditPackage)):
        _update(
            package,
            status=AuditPackageStatus.DONE,
            progress=100,
            progress_note="Ready",
            file_path=str(out),
            size=result.size,
            sha256=result.sha256,
            manifest_sha256=result.manifest_sha256,
            checkpoint_size=result.checkpoint.size,
            checkpoint_root=bytes(result.checkpoint.root_hash).hex(),
            checkpoint_note=result.checkpoint.note,
            entry_count=result.entry_count,
            item_count=result.item_count,
            finished_at=timezone.now(),
        )
        event = events.audit_package_built(
            actor=package.requested_by or "system:audit_package",
            package=package,
            sha256=result.sha256,
            size=result.size,
            checkpoint_size=result.checkpoint.size,
        )
        entry = log_append(
            kind=PACKAGE_KIND,
            payload={
                "package": package.pk,
                "sha256": result.sha256,
                "manifest_sha256": result.manifest_sha256,
                "checkpoint_size": result.checkpoint.size,
                "checkpoint_root": bytes(result.checkpoint.root_hash).hex(),
                "entries": result.entry_count,
                "items": result.item_count,
                "audit_seq": event.seq,
                "audit_hash": event.hash,
            },
        )
        _update(package, log_index=entry.index)
    return package


def audit_packages_orphaned_fail() -> list[int]:
    """Mark failed the packages left ``running`` by a build process on this host that no longer exists
    (``kill -9``, an OOM kill, a deploy); returns their ids. Builds on other hosts are left alone."""
    failed = []
    for package in AuditPackage.objects.filter(status=AuditPackageStatus.RUNNING).exclude(builder=""):
        holder = LockHolder.parse(package.builder)
        if holder.alive() is False:
            _update(
                package,
                status=AuditPackageStatus.FAILED,
                error=f"the process building it ({holder}) ended before it finished",
                finished_at=timezone.now(),
            )
            logger.warning("Audit package %s: its build process %s died; marked failed", package.pk, holder)
            failed.append(package.pk)
    return failed


def _staging_leftovers_remove(directory: Path) -> None:
    """Remove the staging folders of builds that are no longer running (a killed build leaves one)."""
    for leftover in directory.glob(f"{STAGING_PREFIX}*"):
        package_id = leftover.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if not package_id.isdigit() or not leftover.is_dir():
            continue
        if not AuditPackage.objects.filter(pk=int(package_id), status=AuditPackageStatus.RUNNING).exists():
            shutil.rmtree(leftover, ignore_errors=True)


def _update(package: AuditPackage, **fields) -> None:
    for name, value in fields.items():
        setattr(package, name, value)
    AuditPackage.objects.filter(pk=package.pk).update(**fields)


def package_store_code(store_code: str) -> str:
    """The store view code, stripped; raises :class:`AuditPackageError` for something that is not one."""
    store_code = (store_code or "").strip()
    if len(store_code) > 32 or any(ch < " " for ch in store_code):
        raise AuditPackageError(f"store code {store_code!r} is not a store view code")
    if store_code:
        known = registry_store_codes()
        if store_code not in known:
            listed = ", ".join(known) or "no store view yet"
            raise AuditPackageError(f"unknown store code {store_code!r}: the registry knows {listed}")
    return store_code


def package_scope_check(*, store_code: str, since: date | None, allow_empty: bool = False) -> int:
    """The number of registry items in the scope; raises :class:`AuditPackageError` when there are none
    and ``allow_empty`` is not set, so a typo in the scope cannot yield a clean-looking empty audit."""
    since_at = datetime.combine(since, time.min, tzinfo=UTC) if since else None
    scope = _Scope(store_code=package_store_code(store_code), since=since, since_at=since_at, package_id=None)
    count = _items(scope).count()
    if count == 0 and not allow_empty:
        raise AuditPackageError(f"{EMPTY_REFUSAL}: {_scope_text(scope)}")
    return count


EMPTY_REFUSAL = "no registry item is in the package's scope, so it would be empty"


def _scope_text(scope: _Scope) -> str:
    where = f"store view {scope.store_code!r}" if scope.store_code else "every store view"
    when = f", changed on or after {scope.since.isoformat()}" if scope.since else ""
    return f"{where}{when}; build it anyway only with --allow-empty (the package is then stamped EMPTY)"


# --- The builder ------------------------------------------------------------------------------------


@dataclass
class BuildResult:
    path: Path
    size: int
    sha256: str
    manifest_sha256: str
    checkpoint: Checkpoint
    entry_count: int
    item_count: int


@dataclass
class _Scope:
    store_code: str
    since: date | None
    since_at: datetime | None
    package_id: int | None
    generated_at: datetime = field(default_factory=timezone.now)


class _Staging:
    """A folder the package's files are written into before they are zipped."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        target = self.root.joinpath(*name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, name: str, data: bytes | str) -> None:
        self.path(name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    def names(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())


def audit_package_build(
    *,
    out: Path | str,
    store_code: str = "",
    since: date | None = None,
    previous_note: str = "",
    package_id: int | None = None,
    progress: Progress | None = None,
    allow_empty: bool = False,
) -> BuildResult:
    """Write the package ZIP to ``out`` and return its size, SHA-256 and the checkpoint it proves against.

    ``previous_note`` is the signed checkpoint of the previous package (for the consistency proof).
    Raises :class:`AuditPackageError` when there is no signed checkpoint, the log disagrees with it,
    or no registry item is in scope and ``allow_empty`` is not set.
    """
    report = progress or (lambda percent, note: None)
    store_code = package_store_code(store_code)
    since_at = datetime.combine(since, time.min, tzinfo=UTC) if since else None
    scope = _Scope(store_code=store_code, since=since, since_at=since_at, package_id=package_id)
    checkpoint = checkpoint_latest()
    if checkpoint is None:
        raise AuditPackageError(
            "the log has no signed checkpoint yet: configure PROVENANT_LOG_KEY and run "
            "`python manage.py provenance_checkpoint`"
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _staging_leftovers_remove(out.parent)
    # The package id in the name lets a later build recognise the folder of one that was killed.
    prefix = f"{STAGING_PREFIX}{package_id}-" if package_id is not None else STAGING_PREFIX
    with tempfile.TemporaryDirectory(prefix=prefix, dir=out.parent) as tmp:
        staging = _Staging(Path(tmp) / "files")
        staging.root.mkdir()
        report(2, "Loading the log's leaf hashes")
        tree = _load_tree(checkpoint)
        report(15, "Writing the registers")
        registers = _write_registers(staging, scope, checkpoint.size)
        if registers["item_count"] == 0 and not allow_empty:
            raise AuditPackageError(f"{EMPTY_REFUSAL}: {_scope_text(scope)}")
        report(40, "Writing log entries and inclusion proofs")
        evidence = _write_evidence(staging, scope, checkpoint, tree, registers, previous_note)
        del tree
        report(70, "Writing the documents")
        docs = _write_documents(staging, scope, registers)
        provided = _write_provided(staging, scope)
        staging.write("verify.py", verifier_source())
        summary = {
            "scope": scope,
            "checkpoint": checkpoint,
            "registers": registers,
            "evidence": evidence,
            "documents": docs,
            "provided": provided,
        }
        staging.write("annex-iv.html", documents.annex_iv_html(summary))
        sizes = {name: staging.path(name).stat().st_size for name in staging.names()}
        staging.write("index.html", documents.index_html(summary, sizes))
        report(85, "Hashing and zipping")
        manifest = _manifest(staging)
        staging.write("manifest.json", manifest)
        _zip(staging, out, partial=Path(tmp) / "package.zip.partial")
    size, sha256 = _file_digest(out)
    report(99, "Done")
    return BuildResult(
        path=out,
        size=size,
        sha256=sha256,
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        checkpoint=checkpoint,
        entry_count=evidence["entry_count"],
        item_count=registers["item_count"],
    )


def _load_tree(checkpoint: Checkpoint) -> LevelTree:
    rows = (
        LogEntry.objects.filter(index__lt=checkpoint.size)
        .order_by("index")
        .values_list("index", "leaf_hash")
        .iterator(chunk_size=20000)
    )
    leaves = []
    for expected, (index, leaf_hash) in enumerate(rows):
        if index != expected:
            raise AuditPackageError(
                f"log entry {expected} is missing; run `python manage.py provenance_verify`"
            )
        leaves.append(bytes(leaf_hash))
    if len(leaves) != checkpoint.size:
        raise AuditPackageError(
            f"the log holds {len(leaves)} of the checkpoint's {checkpoint.size} entries; "
            "run `python manage.py provenance_verify`"
        )
    tree = LevelTree(leaves)
    if tree.root != bytes(checkpoint.root_hash):
        raise AuditPackageError(
            f"the log's entries do not rebuild the root of checkpoint #{checkpoint.pk}; "
            "run `python manage.py provenance_verify`"
        )
    return tree


_ITEM_COLUMNS = (
    "id",
    "store_code",
    "surface",
    "magento_id",
    "part_key",
    "sku",
    "identifier",
    "file_path",
    "title",
    "origin",
    "origin_source",
    "digital_source_type",
    "content_sha256",
    "state_sha256",
    "is_enabled",
    "is_hidden",
    "first_seen_at",
    "changed_at",
    "removed_at",
    "latest_log_index",
)
REGISTRY_HEADER = [*_ITEM_COLUMNS[:-1], "log_index"]
DISCLOSURE_HEADER = [
    "item_id",
    "store_code",
    "surface",
    "ref",
    "file_path",
    "origin",
    "badge_shown",
    "badge_kind",
    "badge_label",
    "policy_version",
    "review_status",
    "proposed_by",
    "proposed_at",
    "decided_by",
    "decided_at",
    "log_index",
]
RECORD_HEADER = [
    "id",
    "generator",
    "generator_version",
    "output_sha256",
    "output_media_type",
    "generated_at",
    "pipeline_run_id",
    "log_index",
]


def _iso(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _items(scope: _Scope):
    items = ContentItem.objects.all()
    if scope.store_code:
        items = items.filter(store_code=scope.store_code)
    if scope.since_at:
        items = items.filter(changed_at__gte=scope.since_at)
    return items


@dataclass
class _Tally:
    """What the registers pass hands on: the log indexes the registers cite, the item ids and content
    hashes in scope (for the evidence pass and the generation records) and the documents' counts."""

    size: int
    cited: set[int] = field(default_factory=set)
    item_ids: set[int] = field(default_factory=set)
    content_hashes: set[str] = field(default_factory=set)
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    badges: dict[str, int] = field(default_factory=dict)
    coverage: BadgeCoverage = field(default_factory=BadgeCoverage)
    item_count: int = 0
    synthetic_count: int = 0
    record_count: int = 0
    after_checkpoint: int = 0

    def cite(self, log_index: int | None) -> int | None:
        """The log index as a register cites it: ``None`` if logged after the checkpoint."""
        if log_index is None or log_index >= self.size:
            return None
        self.cited.add(log_index)
        return log_index

    def item(self, item: dict) -> int | None:
        """Count a registry item; returns the log index its rows cite."""
        self.item_count += 1
        self.item_ids.add(item["id"])
        if item["content_sha256"]:
            self.content_hashes.add(item["content_sha256"])
        key = (item["store_code"], item["surface"], item["origin"])
        self.counts[key] = self.counts.get(key, 0) + 1
        log_index = item["latest_log_index"]
        if log_index is not None and log_index >= self.size:
            self.after_checkpoint += 1  # logged after the checkpoint: cannot be proven against it yet
        return self.cite(log_index)

    def badge(self, shown: str) -> None:
        self.synthetic_count += 1
        self.badges[shown] = self.badges.get(shown, 0) + 1

    def summary(self, stores: list[str]) -> dict:
        return {
            "item_count": self.item_count,
            "synthetic_count": self.synthetic_count,
            "record_count": self.record_count,
            "after_checkpoint": self.after_checkpoint,
            "counts": self.counts,
            "badges": self.badges,
            "coverage": self.coverage,
            "stores": stores or sorted({k[0] for k in self.counts}),
            "cited": self.cited,
            "item_ids": self.item_ids,
        }


def _write_registers(staging: _Staging, scope: _Scope, size: int) -> dict:
    """registry.csv (every item in scope), disclosure.csv (synthetic items), generation records.

    Returns what the evidence pass needs (cited log indexes, item ids) and the documents' counts.
    """
    tally = _Tally(size=size)
    states = _write_items(staging, scope, tally)
    _write_generation_records(staging, scope, tally)
    _write_datasets(staging, scope, tally)
    _write_consent(staging, scope)
    return tally.summary(stores=sorted(states))


def _write_items(staging: _Staging, scope: _Scope, tally: _Tally) -> dict[str, object]:
    """registry.csv and disclosure.csv in one pass over the items; returns the store states it loaded."""
    usernames = _usernames()
    reviews = _item_reviews(scope)
    states: dict[str, object] = {}
    with (
        staging.path("registers/registry.csv").open("w", newline="", encoding="utf-8") as registry_file,
        staging.path("registers/disclosure.csv").open("w", newline="", encoding="utf-8") as disclosure_file,
    ):
        registry = csv.writer(registry_file)
        disclosure = csv.writer(disclosure_file)
        registry.writerow(REGISTRY_HEADER)
        disclosure.writerow(DISCLOSURE_HEADER)
        rows = _items(scope).order_by("id").values_list(*_ITEM_COLUMNS).iterator(chunk_size=ROW_CHUNK)
        for row in rows:
            item = dict(zip(_ITEM_COLUMNS, row, strict=True))
            log_index = tally.item(item)
            registry.writerow(
                [*(documents.csv_cell(_iso(item[c])) for c in _ITEM_COLUMNS[:-1]), _iso(log_index)]
            )
            if item["origin"] not in (Origin.SYNTHETIC, Origin.SUSPECTED):
                continue
            store_code = item["store_code"]
            if store_code not in states:
                states[store_code] = store_state_load(store_code)
            # What a shopper sees, as the public badge API resolves the policies and the audit switch.
            shown = item_shown(item, states[store_code])
            badge = (shown.shown, shown.kind, shown.policy.get("label", ""), shown.policy.get("version", ""))
            tally.badge(shown.shown)
            if item["origin"] == Origin.SYNTHETIC:
                tally.coverage.count(item["id"], shown)
            cells = _disclosure_row(item, badge, reviews.get(item["id"]), usernames, log_index)
            disclosure.writerow(documents.csv_cell(_iso(v)) for v in cells)
    return states


def _usernames() -> dict[int, str]:
    users = get_user_model().objects.values_list("pk", "username")
    return dict(users.iterator(chunk_size=ROW_CHUNK))


def _item_reviews(scope: _Scope) -> dict[int, tuple]:
    """Per content item id: (status, proposed_by id, proposed_at, decided_by id, decided_at)."""
    rows = Review.objects.filter(content_item__isnull=False).values_list(
        "content_item_id", "status", "proposed_by_id", "proposed_at", "decided_by_id", "decided_at"
    )
    if scope.store_code:
        rows = rows.filter(content_item__store_code=scope.store_code)
    return {row[0]: row[1:] for row in rows.iterator(chunk_size=ROW_CHUNK)}


def _disclosure_row(
    item: dict, badge: tuple, review: tuple | None, usernames: dict[int, str], log_index: int | None
) -> tuple:
    """One disclosure.csv row (:data:`DISCLOSURE_HEADER`) of a synthetic or suspected item."""
    shown, kind, label, version = badge
    status, proposed_by, proposed_at, decided_by, decided_at = review or ("no review", None, None, None, None)
    ref = item["sku"] or item["identifier"] or str(item["magento_id"])
    return (
        item["id"],
        item["store_code"],
        item["surface"],
        ref,
        item["file_path"],
        item["origin"],
        shown,
        kind,
        label,
        version,
        status,
        usernames.get(proposed_by, ""),
        proposed_at,
        usernames.get(decided_by, ""),
        decided_at,
        log_index,
    )


def _write_generation_records(staging: _Staging, scope: _Scope, tally: _Tally) -> None:
    """generation-records.csv: with a store view, only the records whose output is one of its items."""
    records = GenerationRecord.objects.select_related("generator").order_by("id")
    if scope.since_at:
        records = records.filter(created_at__gte=scope.since_at)
    fields = ("id", "generator__name", "generator_version", "output_sha256", "output_media_type")
    rows = records.values_list(*fields, "generated_at", "pipeline_run_id", "log_index")
    with staging.path("registers/generation-records.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(RECORD_HEADER)
        for row in rows.iterator(chunk_size=ROW_CHUNK):
            if scope.store_code and row[3] not in tally.content_hashes:
                continue
            log_index = tally.cite(row[7])
            tally.record_count += 1
            writer.writerow(documents.csv_cell(_iso(v)) for v in (*row[:7], log_index))
    tally.content_hashes.clear()  # only the records needed them


def _write_datasets(staging: _Staging, scope: _Scope, tally: _Tally) -> None:
    """datasets.csv: every synthetic dataset version (registered since the scope's date), which are
    not store-specific, citing its ``dataset.version`` log entry."""
    rows = documents.dataset_rows(datasets_for_package(since=scope.since_at), tally.cite)
    staging.write("registers/datasets.csv", documents.dataset_csv(rows))


def _write_consent(staging: _Staging, scope: _Scope) -> None:
    """consent.csv (counts per purpose and policy version, events since the scope's date; the
    ledger is not store-specific) and profiling-surfaces.csv (the scope's store, or every store)."""
    staging.write("registers/consent.csv", documents.consent_csv(consent_evidence(since=scope.since_at)))
    rows = declaration_rows(store_code=scope.store_code or None)
    staging.write("registers/profiling-surfaces.csv", documents.profiling_csv(rows))


def _write_evidence(
    staging: _Staging,
    scope: _Scope,
    checkpoint: Checkpoint,
    tree: LevelTree,
    registers: dict,
    previous_note: str,
) -> dict:
    """checkpoint, keys, every included entry with its inclusion proof, the consistency proof."""
    size = checkpoint.size
    kinds, decisions, included = _write_entries(staging, scope, tree, size, registers)
    _write_review_decisions(staging, decisions)
    tile_count = _write_tiles(staging, checkpoint, tree, included)
    staging.write("provenance/checkpoint.txt", checkpoint.note)
    staging.write("provenance/keys.txt", "".join(f"{key}\n" for key in log_verifier_keys()))
    previous_size, consistency_hashes = _write_consistency(staging, previous_note, size)
    references = {
        "columns": {
            "registers/registry.csv": ["log_index"],
            "registers/disclosure.csv": ["log_index"],
            "registers/generation-records.csv": ["log_index"],
            "registers/datasets.csv": ["log_index"],
            "registers/review-decisions.csv": ["log_index"],
        }
    }
    staging.write("provenance/references.json", json.dumps(references, indent=1) + "\n")
    return {
        "entry_count": sum(kinds.values()),
        "kinds": kinds,
        "decision_count": len(decisions),
        "previous_size": previous_size,
        "consistency_hashes": consistency_hashes,
        "tile_count": tile_count,
    }


def _write_entries(
    staging: _Staging, scope: _Scope, tree: LevelTree, size: int, registers: dict
) -> tuple[dict[str, int], list[tuple[int, dict]], list[int]]:
    """entries.jsonl: every included entry (exact leaf bytes) with its RFC 9162 inclusion proof.

    Returns the entry count per kind, the review decisions (index, payload) among them and the
    included indexes.
    """
    cited: set[int] = registers["cited"]
    kinds: dict[str, int] = {}
    decisions = []
    included: list[int] = []
    b64 = base64.b64encode
    rows = (
        LogEntry.objects.filter(index__lt=size)
        .order_by("index")
        .values_list("index", "kind", "data", "created_at")
    )
    with staging.path("provenance/entries.jsonl").open("w", encoding="ascii") as handle:
        for index, kind, data, created_at in rows.iterator(chunk_size=ROW_CHUNK):
            data = bytes(data)
            if index not in cited and not _in_scope(scope, kind, data, created_at, registers["item_ids"]):
                continue
            if merkle.hash_leaf(data) != tree.leaf_hash(index):
                raise AuditPackageError(
                    f"log entry {index}: its data do not hash to its stored leaf hash; "
                    "run `python manage.py provenance_verify`"
                )
            if kind == "review.decision":
                decisions.append((index, json.loads(data)))
            proof = ",".join(f'"{b64(h).decode()}"' for h in tree.inclusion_proof(index))
            handle.write(
                f'{{"index":{index},"kind":"{kind}","data":"{b64(data).decode()}","proof":[{proof}]}}\n'
            )
            kinds[kind] = kinds.get(kind, 0) + 1
            included.append(index)
    return kinds, decisions, included


def _write_tiles(staging: _Staging, checkpoint: Checkpoint, tree: LevelTree, included: list[int]) -> int:
    """provenance/tiles/: the C2SP tlog-tiles hash tiles that prove the checkpoint's root and each
    included entry (:func:`provenance.standards.monitor.tiles_needed`), so the package verifies from
    tiles alone. Each is copied from the published log (``PROVENANT_LOG_PUBLISH_DIR``) when it is
    there, else made from the log's stored hashes; the set is checked before it is shipped. Entry
    bundles are not shipped: they hold other entries than the package's."""
    size = checkpoint.size
    needed = tlog_monitor.tiles_needed(size, included)
    published = Path(settings.LOG_PUBLISH_DIR) if settings.LOG_PUBLISH_DIR else None
    for start in range(0, len(needed), _TILES_PER_QUERY):
        batch = needed[start : start + _TILES_PER_QUERY]
        made = [t for t in batch if published is None or not (published / t.path).is_file()]
        hashes = iter(log_read_hashes([i for t in made for i in tlog_tiles.tile_indexes(t)]) if made else [])
        for tile in batch:
            if tile in made:
                data = b"".join(next(hashes) for _ in range(tile.width))
            else:
                data = (published / tile.path).read_bytes()
            staging.write(f"{TILES_DIR}/{tile.path}", data)

    def read(tile: tlog_tiles.Tile) -> bytes:
        path = staging.root.joinpath(*TILES_DIR.split("/"), *tile.path.split("/"))
        if not path.is_file():
            raise tlog_tiles.TileMissingError(tile.path)
        return path.read_bytes()

    items = [tlog_monitor.Item(i, tree.leaf_hash(i), f"entry {i}") for i in included]
    try:
        tlog_monitor.verify_items_from_tiles(size, bytes(checkpoint.root_hash), read, items)
    except tlog_monitor.MonitorError as exc:
        raise AuditPackageError(
            f"the log's tiles do not give checkpoint #{checkpoint.pk}'s root ({exc}); "
            "run `python manage.py provenance_verify`"
        ) from None
    return len(needed)


def _in_scope(scope: _Scope, kind: str, data: bytes, created_at: datetime, item_ids: set[int]) -> bool:
    """Whether an entry no register cites belongs in the package: by kind, store view and date."""
    store = scope.store_code
    if scope.since_at and created_at < scope.since_at:
        return False
    if kind in ITEM_KINDS:
        return not store or json.loads(data).get("store_code") == store
    if kind == "generation_record":
        return not store
    if kind == "review.decision":
        payload = json.loads(data)
        return not (
            store and payload.get("subject") == "content_item" and payload.get("subject_id") not in item_ids
        )
    if kind in _STORE_KINDS:
        return not store or json.loads(data).get("store_code") in ("", store)
    return kind in _ALWAYS_KINDS


def _write_review_decisions(staging: _Staging, decisions: list[tuple[int, dict]]) -> None:
    fields = ("review", "subject", "subject_id", "status", "version", "audit_seq")
    with staging.path("registers/review-decisions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*fields, "log_index"])
        for index, payload in decisions:
            writer.writerow([*(documents.csv_cell(str(payload.get(k, ""))) for k in fields), index])


def _write_consistency(staging: _Staging, previous_note: str, size: int) -> tuple[int | None, int]:
    """consistency.json (and the previous checkpoint): RFC 9162 consistency proof from the previous
    package's checkpoint. Returns (previous size or ``None`` for a first package, number of hashes)."""
    if not previous_note:
        consistency: dict = {"old": None, "new": size, "hashes": []}
        staging.write("provenance/consistency.json", json.dumps(consistency, indent=1) + "\n")
        return None, 0
    previous_size = _note_size(previous_note)
    if previous_size is None or previous_size > size:
        # A smaller tree than one already handed to auditors means the log lost entries.
        raise AuditPackageError(
            f"the previous package's checkpoint (size {previous_size}) is not a prefix of the latest "
            f"checkpoint (size {size}); run `python manage.py provenance_verify`"
        )
    staging.write("provenance/previous-checkpoint.txt", previous_note)
    hashes = [base64.b64encode(h).decode() for h in log_consistency_proof(previous_size, size)]
    consistency = {"old": previous_size, "new": size, "hashes": hashes}
    staging.write("provenance/consistency.json", json.dumps(consistency, indent=1) + "\n")
    return previous_size, len(hashes)


def _note_size(note: str) -> int | None:
    lines = note.split("\n")
    try:
        return int(lines[1])
    except (IndexError, ValueError):
        return None


def _write_documents(staging: _Staging, scope: _Scope, registers: dict) -> dict:
    generators = list(Generator.objects.order_by("name"))
    cards = documents.model_cards(generators)
    for name, data in cards.items():
        staging.write(name, data)
    matrix_rows = documents.risk_rows()
    staging.write("risk/risk-matrix.csv", documents.risk_csv(matrix_rows))
    staging.write("risk/risk-matrix.html", documents.risk_html(matrix_rows))
    incidents = documents.incident_rows()
    staging.write("incidents/incident-register.csv", documents.incident_csv(incidents))
    staging.write("incidents/incident-register.html", documents.incident_html(incidents))
    datasets = datasets_for_package(since=scope.since_at)
    for name, data in documents.dataset_cards(datasets, generators).items():
        staging.write(name, data)
    staging.write("registers/record-of-processing.csv", documents.ropa_csv())
    flow = documents.data_flow(generators, registers)
    staging.write("data-flow.svg", flow)
    return {
        "generators": generators,
        "model_cards": sorted(cards),
        "dataset_count": len(datasets),
        "risk_rows": matrix_rows,
        "incidents": incidents,
    }


def _write_provided(staging: _Staging, scope: _Scope) -> dict[str, list[str]]:
    """Files from the registered providers, by provider name."""
    provided: dict[str, list[str]] = {}
    for provider in _PROVIDERS:
        name = getattr(provider, "__qualname__", repr(provider))
        files = provider(store_code=scope.store_code, since=scope.since) or {}
        written = []
        for path, data in sorted(files.items()):
            clean = _provided_path(path)
            if clean.startswith(_RESERVED_PREFIXES) or (staging.root / clean).exists():
                raise AuditPackageError(f"package file provider {name} may not write {path!r}")
            staging.write(clean, data)
            written.append(clean)
        provided[name] = written
    return provided


def _provided_path(path: str) -> str:
    parts = path.replace("\\", "/").split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or ":" in path:
        raise AuditPackageError(f"package file path {path!r} is not a plain relative path")
    return "/".join(parts)


_EMBEDDED = ("merkle", "notes", "tiles", "witness", "monitor")


def verifier_source() -> str:
    """``verify.py``: the verifier template with ``provenance/standards/{merkle,notes,tiles,witness,
    monitor}.py`` embedded."""
    template = Path(__file__).resolve().with_name("verifier.py").read_text(encoding="utf-8")
    standards = Path(merkle.__file__).resolve().parent
    sources = {name: (standards / f"{name}.py").read_text(encoding="utf-8") for name in _EMBEDDED}
    marker = "_SOURCES: dict = {}"
    if template.count(marker) != 1:
        raise AuditPackageError("the verifier template has no single _SOURCES marker")
    embedded = "_SOURCES: dict = {\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in sources.items()) + "}"
    return template.replace(marker, embedded)


def _manifest(staging: _Staging) -> bytes:
    files = {}
    for name in staging.names():
        size, sha256 = _file_digest(staging.path(name))
        files[name] = {"sha256": sha256, "size": size}
    return (json.dumps({"algorithm": "sha256", "files": files}, indent=1, sort_keys=True) + "\n").encode()


def _file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _zip(staging: _Staging, out: Path, *, partial: Path) -> None:
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name in staging.names():
            with staging.path(name).open("rb") as source, archive.open(name, "w", force_zip64=True) as target:
                shutil.copyfileobj(source, target, CHUNK)
    partial.replace(out)
