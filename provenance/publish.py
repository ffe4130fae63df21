"""Publish the transparency log as static files (C2SP tlog-tiles) into ``PROVENANT_LOG_PUBLISH_DIR``.

After each checkpoint: the hash tiles and entry bundles the new size adds
(:func:`provenance.standards.tiles.new_tiles` from the size last published), then the checkpoint's
signed note with the witnesses' cosignatures as ``checkpoint``, written last, so a reader never
sees a checkpoint whose tiles are missing. Before the checkpoint is written, its root is
recomputed from the tiles on disk.

Full tiles and bundles are immutable: written once (temporary file, fsync, rename), never again.
Partial tiles are written for every published size and kept, so a reader holding an older
checkpoint still finds its tiles. Bundles hold each entry's exact leaf bytes, as the log hashes
them. With witnesses configured, the checkpoint file is replaced only once the quorum cosigned.
Publications are serialised by a lock file in the directory.
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

from provenance.checkpoints import checkpoint_latest
from provenance.log import LogError, log_read_hashes
from provenance.models import Checkpoint, LogEntry
from provenance.standards import merkle, notes
from provenance.standards import tiles as tlog_tiles
from provenance.witnessing import WitnessReport, checkpoint_cosigned_note, witness_submit_all

__all__ = ["PublishError", "PublishResult", "log_publish", "log_publish_pending", "publish_tiles"]

logger = logging.getLogger(__name__)

CHECKPOINT_FILE = "checkpoint"
_LOCK_FILE = ".publish.lock"
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


def _published_size(directory: Path, origin: str) -> int:
    """The size of the checkpoint already published there (0 when none, or another log's)."""
    try:
        note = (directory / CHECKPOINT_FILE).read_text(encoding="utf-8")
        body = notes.Checkpoint.parse(note[: note.index("\n\n") + 1])
    except (OSError, ValueError):
        return 0
    return body.size if body.origin == origin else 0


def _write_atomic(path: Path, data: bytes) -> None:
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
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / _LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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


def publish_tiles(checkpoint: Checkpoint, directory: Path) -> tuple[int, int]:
    """Write the tiles and bundles that ``checkpoint``'s size adds; ``(written, kept)``.

    A full tile already on disk (a publication stopped before its checkpoint, or the checkpoint
    file was removed) is kept when it holds the same bytes, and refused otherwise. Then checks that
    the tiles on disk give the checkpoint's root. The caller holds the directory's lock.
    """
    old = _published_size(directory, checkpoint.origin)
    if old > checkpoint.size:
        raise PublishError(
            f"a checkpoint of size {old} is already published in {directory}; refusing to publish the "
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
            path = directory / tile.path
            if tile.full and path.exists():
                # Left by a publication that stopped before its checkpoint: immutable, so it must match.
                if path.read_bytes() != data:
                    raise PublishError(f"{path} differs from the log: a tile on disk was changed")
                kept += 1
                continue
            _write_atomic(path, data)
            written += 1
    except tlog_tiles.BundleError as exc:
        raise PublishError(f"cannot publish the entries as tiles: {exc}") from None

    def read(tile: tlog_tiles.Tile) -> bytes:
        try:
            return (directory / tile.path).read_bytes()
        except FileNotFoundError:
            raise tlog_tiles.TileMissingError(tile.path) from None

    try:
        root = merkle.tree_hash(checkpoint.size, tlog_tiles.tile_hash_reader(checkpoint.size, read))
    except tlog_tiles.TileError as exc:
        raise PublishError(f"the published tiles are unusable: {exc}") from None
    if root != bytes(checkpoint.root_hash):
        raise PublishError(
            f"the tiles in {directory} hash to {root.hex()}, not checkpoint #{checkpoint.pk}'s root: "
            "a tile on disk was changed"
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
    target = directory or settings.LOG_PUBLISH_DIR
    if not target:
        return result
    directory = Path(target)
    with _locked(directory):
        result.tiles_written, result.tiles_kept = publish_tiles(checkpoint, directory)
        if result.witnesses is not None and not result.witnesses.ok:
            result.errors.append(
                f"{len(result.witnesses.cosigned)} of the {result.witnesses.quorum} cosignatures needed: the "
                f"checkpoint of size {checkpoint.size} is not published"
            )
            logger.error("Log checkpoint of size %d not published: %s", checkpoint.size, result.errors[-1])
            return result
        if _published_size(directory, checkpoint.origin) > checkpoint.size:
            return result
        _write_atomic(directory / CHECKPOINT_FILE, checkpoint_cosigned_note(checkpoint).encode("utf-8"))
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
    directory = settings.LOG_PUBLISH_DIR
    behind = bool(directory) and _published_size(Path(directory), latest.origin) != latest.size
    if not lacking and not behind:
        return None
    return log_publish(latest)
