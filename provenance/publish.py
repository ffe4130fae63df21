"""Publish the transparency log as static files (C2SP tlog-tiles) into ``PROVENANT_LOG_PUBLISH_DIR``,
or into an S3-compatible bucket (``PROVENANT_LOG_PUBLISH_S3_BUCKET``) for a CDN to serve.

After each checkpoint: the hash tiles and entry bundles the new size adds
(:func:`provenance.standards.tiles.new_tiles` from the size last published), then the checkpoint's
signed note with the witnesses' cosignatures as ``checkpoint``, written last, so a reader never
sees a checkpoint whose tiles are missing. Before the checkpoint is written, its root is
recomputed from the tiles on disk.

Full tiles and bundles are immutable: written once (temporary file, fsync, rename; in a bucket one
PUT, with ``Cache-Control: public, max-age=31536000, immutable``), never again; the checkpoint
object is ``no-cache``.
Partial tiles are written for every published size and kept, so a reader holding an older
checkpoint still finds its tiles. Bundles hold each entry's exact leaf bytes, as the log hashes
them. With witnesses configured, the checkpoint file is replaced only once the quorum cosigned.
Publications are serialised by a lock file in the directory; for a bucket, which has no locks, by
the database (MariaDB's ``GET_LOCK``, a lock file beside the SQLite database otherwise), so any
number of workers may publish.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections, router

from provenance.checkpoints import checkpoint_latest
from provenance.log import LogError, log_read_hashes
from provenance.models import Checkpoint, LogEntry
from provenance.standards import merkle, notes
from provenance.standards import tiles as tlog_tiles
from provenance.views import IMMUTABLE
from provenance.witnessing import WitnessReport, checkpoint_cosigned_note, witness_submit_all
from sidecar.s3 import bucket_storage

__all__ = ["PublishError", "PublishResult", "log_publish", "log_publish_pending", "publish_tiles"]

logger = logging.getLogger(__name__)

CHECKPOINT_FILE = "checkpoint"
_LOCK_FILE = ".publish.lock"
_DATABASE_LOCK = "provenant.log_publish"
_DATABASE_LOCK_WAIT_SECONDS = 60
_HASHES_PER_QUERY = 8192
_ENTRIES_PER_QUERY = 4096


class PublishError(LogError):
    """The log could not be published; what was written stays valid (tiles first, checkpoint last)."""


@dataclass
class PublishResult:
    size: int
    tiles_written: int = 0
    tiles_kept: int = 0
    checkpoint_written: bool = False
    witnesses: WitnessReport | None = None
    errors: list[str] = field(default_factory=list)


class _Directory:
    """A local directory a web server serves."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        self.where = "on disk"

    def read(self, name: str) -> bytes | None:
        try:
            return (self.path / name).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, name: str, data: bytes) -> None:
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.path / _LOCK_FILE):
            yield


def _object_parameters(name: str) -> dict:
    if name.rsplit("/", 1)[-1] == CHECKPOINT_FILE:
        return {"CacheControl": "no-cache", "ContentType": "text/plain; charset=utf-8"}
    return {"CacheControl": IMMUTABLE, "ContentType": "application/octet-stream"}


class _Bucket:
    """An S3-compatible bucket (:mod:`sidecar.s3`), each object with its cache headers."""

    def __init__(self, storage) -> None:
        self.storage = storage
        self.label = f"s3://{storage.bucket_name}/{storage.location}".rstrip("/")
        self.where = "in the bucket"

    def read(self, name: str) -> bytes | None:
        try:
            with self.storage.open(name, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def write(self, name: str, data: bytes) -> None:
        from django.core.files.base import ContentFile

        saved = self.storage.save(name, ContentFile(data))
        if saved != name:  # pragma: no cover - the storage overwrites; a new name would be a bug
            raise PublishError(f"the bucket stored {name} as {saved}")

    def locked(self):
        return _database_lock()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _database_lock() -> Iterator[None]:
    """One publisher at a time across hosts: a named lock on MariaDB/MySQL, else a lock file
    beside the SQLite database (one host)."""
    connection = connections[router.db_for_write(LogEntry)]
    if connection.vendor != "mysql":
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        with _file_lock(Path(settings.VAR_DIR) / ".log-publish.lock"):
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, %s)", [_DATABASE_LOCK, _DATABASE_LOCK_WAIT_SECONDS])
        (got,) = cursor.fetchone()
    if got != 1:
        raise PublishError("another publication holds the lock; it is retried on the next run")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [_DATABASE_LOCK])


def _target(directory: str | Path | None):
    """Where to publish: ``directory``, else the configured directory or bucket; ``None`` for none."""
    if directory:
        return _Directory(Path(directory))
    if settings.LOG_PUBLISH_DIR:
        return _Directory(Path(settings.LOG_PUBLISH_DIR))
    if settings.LOG_PUBLISH_S3.bucket:
        storage = bucket_storage(
            settings.LOG_PUBLISH_S3,
            setting="PROVENANT_LOG_PUBLISH_S3_BUCKET",
            overwrite=True,
            object_parameters=_object_parameters,
        )
        return _Bucket(storage)
    return None


def _published_size(target, origin: str) -> int:
    """The size of the checkpoint already published there (0 when none, or another log's)."""
    try:
        note = (target.read(CHECKPOINT_FILE) or b"").decode("utf-8")
        body = notes.Checkpoint.parse(note[: note.index("\n\n") + 1])
    except (OSError, ValueError):
        return 0
    return body.size if body.origin == origin else 0


def _hash_tile_data(tiles: list[tlog_tiles.Tile]) -> Iterator[tuple[tlog_tiles.Tile, bytes]]:
    """Tile bytes from the stored hashes, a few thousand hashes a query."""
    batch: list[tlog_tiles.Tile] = []
    count = 0
    for tile in [*tiles, None]:
        if tile is not None:
            batch.append(tile)
            count += tile.width
        if batch and (tile is None or count >= _HASHES_PER_QUERY):
            indexes = [i for t in batch for i in tlog_tiles.tile_indexes(t)]
            hashes = log_read_hashes(indexes)
            offset = 0
            for t in batch:
                yield t, tlog_tiles.encode_tile(hashes[offset : offset + t.width])
                offset += t.width
            batch, count = [], 0


def _bundle_data(bundles: list[tlog_tiles.Tile]) -> Iterator[tuple[tlog_tiles.Tile, bytes]]:
    """Entry bundles from the entries' stored bytes, a few thousand entries a query."""
    batch: list[tlog_tiles.Tile] = []
    count = 0
    for bundle in [*bundles, None]:
        if bundle is not None:
            batch.append(bundle)
            count += bundle.width
        if batch and (bundle is None or count >= _ENTRIES_PER_QUERY):
            wanted = {i for b in batch for i in range(b.first(), b.first() + b.width)}
            rows = dict(
                LogEntry.objects.filter(index__gte=min(wanted), index__lte=max(wanted))
                .order_by("index")
                .values_list("index", "data")
            )
            for b in batch:
                try:
                    data = [bytes(rows[i]) for i in range(b.first(), b.first() + b.width)]
                except KeyError as exc:
                    raise PublishError(
                        f"log entry {exc.args[0]} is missing: the log's rows are damaged"
                    ) from None
                yield b, tlog_tiles.encode_bundle(data)
            batch, count = [], 0


def publish_tiles(checkpoint: Checkpoint, target) -> tuple[int, int]:
    """Write the tiles and bundles that ``checkpoint``'s size adds to ``target`` (a directory path,
    or a target of this module); ``(written, kept)``.

    A full tile already there (a publication stopped before its checkpoint, or the checkpoint
    file was removed) is kept when it holds the same bytes, and refused otherwise. Then checks that
    the tiles there give the checkpoint's root. The caller holds the target's lock.
    """
    if isinstance(target, str | Path):
        target = _Directory(Path(target))
    old = _published_size(target, checkpoint.origin)
    if old > checkpoint.size:
        raise PublishError(
            f"a checkpoint of size {old} is already published in {target.label}; refusing to publish the "
            f"smaller size {checkpoint.size}"
        )
    needed = tlog_tiles.new_tiles(old, checkpoint.size)
    written = kept = 0
    try:
        produced = (
            *_bundle_data([t for t in needed if t.is_entries]),
            *_hash_tile_data([t for t in needed if not t.is_entries]),
        )
        for tile, data in produced:
            if tile.full and (there := target.read(tile.path)) is not None:
                # Left by a publication that stopped before its checkpoint: immutable, so it must match.
                if there != data:
                    raise PublishError(
                        f"{target.label}/{tile.path} differs from the log: a tile {target.where} was changed"
                    )
                kept += 1
                continue
            target.write(tile.path, data)
            written += 1
    except tlog_tiles.BundleError as exc:
        raise PublishError(f"cannot publish the entries as tiles: {exc}") from None

    def read(tile: tlog_tiles.Tile) -> bytes:
        data = target.read(tile.path)
        if data is None:
            raise tlog_tiles.TileMissingError(tile.path)
        return data

    try:
        root = merkle.tree_hash(checkpoint.size, tlog_tiles.tile_hash_reader(checkpoint.size, read))
    except tlog_tiles.TileError as exc:
        raise PublishError(f"the published tiles are unusable: {exc}") from None
    if root != bytes(checkpoint.root_hash):
        raise PublishError(
            f"the tiles in {target.label} hash to {root.hex()}, not checkpoint #{checkpoint.pk}'s root: "
            f"a tile {target.where} was changed"
        )
    return written, kept


def log_publish(
    checkpoint: Checkpoint | None = None, *, directory: str | Path | None = None
) -> PublishResult | None:
    """Cosign and publish ``checkpoint`` (default: the latest one) with its tiles.

    Submits the checkpoint to the configured witnesses, writes its tiles (when a publish directory
    is configured), then the checkpoint file with the cosignatures when the quorum is met.
    Returns ``None`` when there is no checkpoint. Raises :class:`PublishError` when the tiles
    cannot be written; a missed quorum is reported in the result (the old checkpoint stays).
    """
    checkpoint = checkpoint or checkpoint_latest()
    if checkpoint is None:
        return None
    result = PublishResult(size=checkpoint.size)
    if settings.LOG_WITNESSES:
        result.witnesses = witness_submit_all(checkpoint)
        result.errors.extend(result.witnesses.errors.values())
    target = _target(directory)
    if target is None:
        return result
    with target.locked():
        result.tiles_written, result.tiles_kept = publish_tiles(checkpoint, target)
        if result.witnesses is not None and not result.witnesses.ok:
            result.errors.append(
                f"{len(result.witnesses.cosigned)} of the {result.witnesses.quorum} cosignatures needed: the "
                f"checkpoint of size {checkpoint.size} is not published"
            )
            logger.error("Log checkpoint of size %d not published: %s", checkpoint.size, result.errors[-1])
            return result
        if _published_size(target, checkpoint.origin) > checkpoint.size:
            return result
        target.write(CHECKPOINT_FILE, checkpoint_cosigned_note(checkpoint).encode("utf-8"))
        result.checkpoint_written = True
    logger.info(
        "Published the log of size %d: %d tiles written, %d kept",
        checkpoint.size,
        result.tiles_written,
        result.tiles_kept,
    )
    return result


def log_publish_pending() -> PublishResult | None:
    """Publish the latest checkpoint again if it lacks the witness quorum or is not the published one.

    For the schedule: a checkpoint a witness could not cosign, or a publication that failed, is
    retried on the next run even when the log did not grow. ``None`` when nothing is pending.
    """
    latest = checkpoint_latest()
    if latest is None:
        return None
    quorum = settings.LOG_WITNESS_QUORUM if settings.LOG_WITNESSES else 0
    names = [w.name for w in settings.LOG_WITNESSES]
    lacking = quorum and latest.cosignatures.filter(witness__in=names).count() < quorum
    target = _target(None)
    behind = target is not None and _published_size(target, latest.origin) != latest.size
    if not lacking and not behind:
        return None
    return log_publish(latest)
