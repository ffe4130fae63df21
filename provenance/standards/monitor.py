"""A monitor of a transparency log published as C2SP tlog-tiles, with C2SP tlog-checkpoint notes,
C2SP tlog-cosignature witness cosignatures and RFC 9162 Merkle trees.

:func:`monitor_check` fetches the log's ``checkpoint`` and tiles through a :class:`Source` (a
directory or a base URL) and checks, raising a :class:`MonitorError` subclass with a ``code``:

1. the checkpoint's signature with the pinned log keys (``checkpoint.signature``);
2. the cosignatures of the pinned witness keys (``cosignature.invalid``) and the quorum
   (``cosignature.quorum``);
3. against what the monitor saw before (:class:`MonitorState`): a smaller size is a rollback
   (``log.rollback``); the same size with another root, or a larger tree that does not extend the
   old one, is a fork (``log.fork``), reported with both signed checkpoints as evidence;
4. the tiles: the tree's root from the hash tiles equals the checkpoint's, every new full tile
   hashes to its entry in the tile above and every new level-0 tile holds the leaf hashes of the
   entries in its bundle (``tile.hash``; ``tile.malformed``, ``tile.missing``);
5. the root recomputed from the entry bundles the monitor has not read yet, appended to the
   compact range (the right border of the tree, O(log n) hashes) kept in the state: incremental;
6. optionally, the inclusion of given entries (leaf bytes or leaf hashes at their index), with an
   RFC 9162 inclusion proof built from the tiles (``item.missing``).

The state holds the last verified checkpoint note and the compact range; :func:`state_save`
writes it atomically (temporary file, fsync, rename). Django-free: the audit package's offline
verifier embeds this module.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from provenance.standards import merkle, notes, tiles, witness

__all__ = [
    "EXIT_CODES",
    "CheckpointSignatureError",
    "CompactRange",
    "CosignatureInvalidError",
    "DirectorySource",
    "ForkError",
    "HttpSource",
    "Item",
    "ItemMissingError",
    "MonitorError",
    "MonitorReport",
    "MonitorState",
    "QuorumError",
    "RollbackError",
    "Source",
    "StateError",
    "TileHashError",
    "TileMalformedError",
    "TileMissingError",
    "UnreachableError",
    "items_parse",
    "monitor_check",
    "state_load",
    "state_save",
    "tiles_write",
]

CHECKPOINT_PATH = "checkpoint"
MAX_CHECKPOINT_BYTES = 1 << 20
MAX_TILE_BYTES = tiles.TILE_WIDTH * (2 + tiles.MAX_ENTRY_BYTES)


class MonitorError(Exception):
    """The log failed a check; ``code`` names the check, ``evidence`` holds what shows it."""

    code = "monitor.error"
    exit_code = 1

    def __init__(self, message: str, *, evidence: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = evidence or {}


class ForkError(MonitorError):
    """Two signed checkpoints of the log that cannot both be true: a split view."""

    code, exit_code = "log.fork", 3


class RollbackError(MonitorError):
    """The log shows a smaller tree than one the monitor already verified."""

    code, exit_code = "log.rollback", 4


class TileHashError(MonitorError):
    """A tile or entry bundle does not hash to the tree of the signed checkpoint."""

    code, exit_code = "tile.hash", 5


class TileMalformedError(MonitorError):
    """A tile or bundle is truncated, too long, or not in the tlog-tiles format."""

    code, exit_code = "tile.malformed", 6


class TileMissingError(MonitorError):
    """A tile the checkpoint's tree needs is not published."""

    code, exit_code = "tile.missing", 6


class CheckpointSignatureError(MonitorError):
    """The checkpoint is not signed by a pinned log key, or is not a checkpoint."""

    code, exit_code = "checkpoint.signature", 7


class CosignatureInvalidError(MonitorError):
    """A cosignature claims a pinned witness's key and does not verify."""

    code, exit_code = "cosignature.invalid", 8


class QuorumError(MonitorError):
    """Fewer pinned witnesses cosigned the checkpoint than the quorum asks."""

    code, exit_code = "cosignature.quorum", 9


class UnreachableError(MonitorError):
    """The log's checkpoint or a tile could not be fetched."""

    code, exit_code = "log.unreachable", 10


class ItemMissingError(MonitorError):
    """A given entry is not in the log at its index (or beyond the checkpoint's size)."""

    code, exit_code = "item.missing", 11


class StateError(MonitorError):
    """The state file cannot be read or is for another log."""

    code, exit_code = "state.invalid", 12


EXIT_CODES = {
    cls.code: cls.exit_code
    for cls in (
        ForkError,
        RollbackError,
        TileHashError,
        TileMalformedError,
        TileMissingError,
        CheckpointSignatureError,
        CosignatureInvalidError,
        QuorumError,
        UnreachableError,
        ItemMissingError,
        StateError,
    )
}


# --- Sources ------------------------------------------------------------------------------------


class Source:
    """Where the published log is read from: ``fetch(path)`` returns the bytes of a file.

    Raises :class:`tiles.TileMissingError` for a file that is not there and
    :class:`UnreachableError` when the source cannot answer.
    """

    def fetch(self, path: str, limit: int) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class DirectorySource(Source):
    """A local copy of the published directory (or the tile files shipped in an audit package)."""

    def __init__(self, directory: str, read: Callable[[str], bytes] | None = None) -> None:
        self.directory = directory
        self._read = read

    def fetch(self, path: str, limit: int) -> bytes:
        if self._read is not None:
            return self._read(path)
        full = os.path.join(self.directory, *path.split("/"))
        try:
            with open(full, "rb") as handle:
                data = handle.read(limit + 1)
        except FileNotFoundError:
            raise tiles.TileMissingError(path) from None
        except OSError as exc:
            raise UnreachableError(f"cannot read {full}: {exc}") from None
        if len(data) > limit:
            raise TileMalformedError(f"{path} is larger than {limit} bytes")
        return data


class HttpSource(Source):
    """A published log over http(s): ``<base URL>/<path>``, with a timeout and a size limit."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, transport=None) -> None:
        import httpx  # only the HTTP monitor needs it

        self._httpx = httpx
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True)

    def fetch(self, path: str, limit: int) -> bytes:
        url = f"{self.base_url}/{path}"
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code == 404:
                    raise tiles.TileMissingError(path)
                if response.status_code != 200:
                    raise UnreachableError(f"GET {url} answered {response.status_code}")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise TileMalformedError(f"{url} is larger than {limit} bytes")
                return bytes(data)
        except self._httpx.HTTPError as exc:
            raise UnreachableError(f"GET {url}: {exc.__class__.__name__}: {exc}") from None

    def close(self) -> None:
        self._client.close()


# --- State --------------------------------------------------------------------------------------


class CompactRange:
    """The roots of the perfect subtrees of a tree's left-to-right decomposition (RFC 9162)."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != bin(size).count("1"):
            raise ValueError(f"a compact range of size {size} holds {bin(size).count('1')} hashes")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf_hash: bytes) -> None:
        self.hashes.append(leaf_hash)
        self.size += 1
        n = self.size
        while not n & 1:  # each trailing zero of the new size merges two equal subtrees
            right = self.hashes.pop()
            self.hashes[-1] = merkle.hash_children(self.hashes[-1], right)
            n >>= 1

    def root(self) -> bytes:
        if not self.hashes:
            return merkle.EMPTY_ROOT
        h = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            h = merkle.hash_children(left, h)
        return h


@dataclass
class MonitorState:
    """What the monitor verified last: the log's origin, its signed checkpoint note, size, root and
    the compact range of the tree rebuilt from the entry bundles."""

    origin: str
    size: int
    root: bytes
    note: str
    compact: CompactRange

    def to_json(self) -> dict:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": base64.b64encode(self.root).decode("ascii"),
            "note": self.note,
            "compact_range": [base64.b64encode(h).decode("ascii") for h in self.compact.hashes],
        }

    @classmethod
    def from_json(cls, value) -> MonitorState:
        try:
            size = value["size"]
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise ValueError(f"bad size {size!r}")
            root = base64.b64decode(value["root"], validate=True)
            compact = CompactRange(size, [base64.b64decode(h, validate=True) for h in value["compact_range"]])
            if len(root) != merkle.HASH_SIZE or compact.root() != root:
                raise ValueError("the compact range does not give the root")
            if not isinstance(value["origin"], str) or not isinstance(value["note"], str):
                raise ValueError("origin and note are strings")
            return cls(value["origin"], size, root, value["note"], compact)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise StateError(f"the monitor state is not usable: {exc}") from None


def state_load(path: str) -> MonitorState | None:
    """The state in ``path``; ``None`` when the file does not exist yet."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"cannot read the monitor state {path}: {exc}") from None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise StateError(f"the monitor state {path} is not JSON: {exc}") from None
    return MonitorState.from_json(value)


def state_save(path: str, state: MonitorState) -> None:
    """Write the state atomically: a temporary file in the same directory, fsync, rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".monitor-state-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state.to_json(), handle, indent=1, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --- Items --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """An entry to find in the log: its index and its leaf hash (from its bytes or given)."""

    index: int
    leaf_hash: bytes
    label: str


def items_parse(text: str) -> list[Item]:
    """JSON lines ``{"index": n, "data": base64 leaf bytes}`` (an audit package's entries.jsonl) or
    ``{"index": n, "leaf_hash": hex}``. Raises ValueError naming the line."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            index = row["index"]
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise ValueError(f"bad index {index!r}")
            if "data" in row:
                leaf = merkle.hash_leaf(base64.b64decode(row["data"], validate=True))
            else:
                leaf = bytes.fromhex(row["leaf_hash"])
                if len(leaf) != merkle.HASH_SIZE:
                    raise ValueError("a leaf hash is 32 bytes in hex")
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ValueError(f"items line {number}: {exc}") from None
        out.append(Item(index, leaf, str(row.get("label", f"entry {index}"))))
    return out


# --- The check ----------------------------------------------------------------------------------


@dataclass
class MonitorReport:
    """What one check verified."""

    origin: str
    size: int
    root: bytes
    previous_size: int
    entries_read: int
    tiles_read: int
    bundles_read: list[str] = field(default_factory=list)
    cosigned: dict[str, int] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "ok": True,
            "origin": self.origin,
            "size": self.size,
            "root": base64.b64encode(self.root).decode("ascii"),
            "previous_size": self.previous_size,
            "entries_read": self.entries_read,
            "tiles_read": self.tiles_read,
            "bundles_read": self.bundles_read,
            "cosigned": self.cosigned,
            "items": self.items,
        }


def _open_checkpoint(note: str, log_keys: Sequence[notes.NoteVerifier]) -> notes.Checkpoint:
    try:
        opened = notes.open_note(note, log_keys)
        return notes.Checkpoint.parse(opened.text)
    except notes.UnverifiedNoteError:
        raise CheckpointSignatureError("the checkpoint carries no signature by a pinned log key") from None
    except (notes.InvalidNoteError, notes.CheckpointError) as exc:
        raise CheckpointSignatureError(f"the checkpoint does not verify: {exc}") from None


def _cosignatures(note: str, witnesses: Sequence[witness.CosignatureVerifier], quorum: int) -> dict[str, int]:
    if not witnesses and not quorum:
        return {}
    try:
        body, lines = witness.note_signature_lines(note)
        found = witness.verify_cosignatures(body, lines, witnesses)
    except witness.CosignatureError as exc:
        raise CosignatureInvalidError(str(exc)) from None
    cosigned = {name: c.timestamp for name, c in sorted(found.items())}
    if len(cosigned) < quorum:
        missing = sorted({w.name for w in witnesses} - set(cosigned))
        raise QuorumError(
            f"{len(cosigned)} of the {quorum} cosignatures needed"
            + (f" (none by {', '.join(missing)})" if missing else "")
        )
    return cosigned


class _Reader:
    """Reads tiles through a source once each, mapping tile errors to named monitor errors."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.paths: set[str] = set()

    def __call__(self, tile: tiles.Tile) -> bytes:
        self.paths.add(tile.path)
        return self.source.fetch(tile.path, MAX_TILE_BYTES)


def _named(exc: tiles.TileError) -> MonitorError:
    if isinstance(exc, tiles.TileMissingError):
        return TileMissingError(str(exc), evidence={"tile": exc.path})
    if isinstance(exc, tiles.TileVerificationError):
        return TileHashError(str(exc))
    return TileMalformedError(str(exc))


def _tile_width(size: int, level: int, index: int) -> int:
    return min(tiles.TILE_WIDTH, (size >> (level * tiles.TILE_HEIGHT)) - index * tiles.TILE_WIDTH)


def _check_new_tiles(
    old_size: int, size: int, root: bytes, read: Callable[[tiles.Tile], bytes], compact: CompactRange
) -> int:
    """Steps 4 and 5 for the entries from ``old_size`` (whose compact range is ``compact``) to
    ``size``; returns the number of entries read. Tile errors propagate as :class:`tiles.TileError`."""
    cache: dict[tiles.Tile, bytes] = {}

    def cached(tile: tiles.Tile) -> bytes:
        if tile not in cache:
            cache[tile] = read(tile)
        return cache[tile]

    hash_reader = tiles.tile_hash_reader(size, cached)
    from_tiles = merkle.tree_hash(size, hash_reader)
    if from_tiles != root:
        raise tiles.TileVerificationError(
            f"the tiles of size {size} hash to {from_tiles.hex()}, not the checkpoint's root {root.hex()}"
        )
    entries_read = 0
    for tile in tiles.new_tiles(old_size, size):
        if tile.is_entries:
            continue  # read with its level-0 tile below
        hashes = tiles.decode_tile(cached(tile), tile)
        if tile.level == 0:
            bundle = tiles.Tile(-1, tile.index, tile.width)
            leaves = [merkle.hash_leaf(e) for e in tiles.decode_bundle(read(bundle), bundle)]
            if leaves != hashes:
                raise tiles.TileVerificationError(
                    f"entry bundle {bundle.path} does not hash to tile {tile.path}"
                )
            for n, leaf in enumerate(leaves):
                if tile.first() + n >= compact.size:
                    compact.append(leaf)
                    entries_read += 1
        if tile.full:
            above_index, offset = divmod(tile.index, tiles.TILE_WIDTH)
            above = tiles.Tile(tile.level + 1, above_index, _tile_width(size, tile.level + 1, above_index))
            if merkle.root_from_leaf_hashes(hashes) != tiles.decode_tile(cached(above), above)[offset]:
                raise tiles.TileVerificationError(
                    f"tile {tile.path} does not hash to its entry in the tile above"
                )
        cache.pop(tile, None)
    if compact.size != size:
        raise tiles.TileVerificationError(f"the entry bundles hold {compact.size} entries, not {size}")
    rebuilt = compact.root()
    if rebuilt != root:
        raise tiles.TileVerificationError(
            f"the entry bundles rebuild the root {rebuilt.hex()}, not the checkpoint's {root.hex()}"
        )
    return entries_read


def monitor_check(
    source: Source,
    *,
    log_keys: Sequence[notes.NoteVerifier],
    witnesses: Sequence[witness.CosignatureVerifier] = (),
    quorum: int | None = None,
    state: MonitorState | None = None,
    items: Iterable[Item] = (),
) -> tuple[MonitorReport, MonitorState]:
    """Check the published log against ``state`` (``None``: first check, from the empty tree).

    Returns the report and the new state (the caller saves it); raises a :class:`MonitorError`.
    ``quorum`` defaults to every pinned witness.
    """
    quorum = len(witnesses) if quorum is None else quorum
    if quorum > len(witnesses):
        raise QuorumError(f"a quorum of {quorum} needs at least {quorum} pinned witness keys")
    try:
        raw = source.fetch(CHECKPOINT_PATH, MAX_CHECKPOINT_BYTES)
    except tiles.TileMissingError:
        raise UnreachableError("the log publishes no checkpoint") from None
    try:
        note = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointSignatureError("the checkpoint is not UTF-8") from None
    checkpoint = _open_checkpoint(note, log_keys)
    if state is not None and state.origin != checkpoint.origin:
        raise StateError(f"the state is for the log {state.origin!r}, not {checkpoint.origin!r}")
    cosigned = _cosignatures(note, witnesses, quorum)
    evidence = {"previous": state.note, "current": note} if state else {}
    if state is not None and checkpoint.size < state.size:
        raise RollbackError(
            f"the log shows size {checkpoint.size}, smaller than the size {state.size} already verified",
            evidence=evidence,
        )
    if state is not None and checkpoint.size == state.size and checkpoint.root_hash != state.root:
        raise ForkError(
            f"two signed checkpoints of size {checkpoint.size} with different roots: a split view",
            evidence=evidence,
        )
    read = _Reader(source)
    old_size = state.size if state else 0
    compact = CompactRange(state.compact.size, state.compact.hashes) if state else CompactRange()
    try:
        if state is not None and old_size:
            # The tiles of the new tree must hold the old tree as a prefix.
            proof = merkle.prove_tree(
                checkpoint.size, old_size, tiles.tile_hash_reader(checkpoint.size, read)
            )
            try:
                merkle.verify_consistency(old_size, checkpoint.size, state.root, checkpoint.root_hash, proof)
            except merkle.MerkleProofError as exc:
                raise ForkError(
                    f"the tree of size {checkpoint.size} does not extend the verified tree of size "
                    f"{old_size}: {exc}",
                    evidence=evidence,
                ) from None
        entries_read = _check_new_tiles(old_size, checkpoint.size, checkpoint.root_hash, read, compact)
        found = _check_items(checkpoint, items, read)
    except tiles.TileError as exc:
        raise _named(exc) from None
    report = MonitorReport(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=checkpoint.root_hash,
        previous_size=old_size,
        entries_read=entries_read,
        tiles_read=len(read.paths),
        bundles_read=sorted(p for p in read.paths if p.startswith("tile/entries/")),
        cosigned=cosigned,
        items=found,
    )
    return report, MonitorState(checkpoint.origin, checkpoint.size, checkpoint.root_hash, note, compact)


def _check_items(
    checkpoint: notes.Checkpoint, items: Iterable[Item], read: Callable[[tiles.Tile], bytes]
) -> list[str]:
    hash_reader = tiles.tile_hash_reader(checkpoint.size, read)
    found = []
    for item in items:
        if item.index >= checkpoint.size:
            raise ItemMissingError(
                f"{item.label}: index {item.index} is beyond the checkpoint's size {checkpoint.size}"
            )
        proof = merkle.prove_record(checkpoint.size, item.index, hash_reader)
        try:
            merkle.verify_inclusion(item.leaf_hash, item.index, checkpoint.size, proof, checkpoint.root_hash)
        except merkle.MerkleProofError:
            raise ItemMissingError(
                f"{item.label}: the log holds another entry at index {item.index}"
            ) from None
        found.append(item.label)
    return found


# --- A few tiles: what an audit package ships ---------------------------------------------------


def tiles_needed(size: int, indexes: Iterable[int]) -> list[tiles.Tile]:
    """The hash tiles that prove the tree's root and each entry at ``indexes`` in the tree of ``size``:
    the tiles the root and the RFC 9162 inclusion proofs are read from, and each entry's level-0 tile."""
    needed: set[tiles.Tile] = set()

    def record(tile: tiles.Tile) -> bytes:
        needed.add(tile)
        return bytes(merkle.HASH_SIZE * tile.width)

    reader = tiles.tile_hash_reader(size, record)
    merkle.tree_hash(size, reader)
    for index in indexes:
        if not 0 <= index < size:
            raise ValueError(f"entry {index} is not in the tree of size {size}")
        merkle.prove_record(size, index, reader)
        tile_index = index // tiles.TILE_WIDTH
        needed.add(tiles.Tile(0, tile_index, _tile_width(size, 0, tile_index)))
    return sorted(needed)


def verify_items_from_tiles(
    size: int, root: bytes, read: Callable[[tiles.Tile], bytes], items: Iterable[Item]
) -> list[str]:
    """Check from (a few) hash tiles alone that the tree of ``size`` has ``root`` and holds each item:
    its leaf hash in its level-0 tile, and the inclusion proof built from the tiles. Returns the
    items' labels; raises a :class:`MonitorError`."""
    checkpoint = notes.Checkpoint("tiles", size, root)
    try:
        from_tiles = merkle.tree_hash(size, tiles.tile_hash_reader(size, read))
        if from_tiles != root:
            raise TileHashError(
                f"the tiles hash to {from_tiles.hex()}, not the checkpoint's root {root.hex()}"
            )
        items = list(items)
        for item in items:
            if item.index >= size:
                raise ItemMissingError(f"{item.label}: index {item.index} is beyond the tree's size {size}")
            tile_index, offset = divmod(item.index, tiles.TILE_WIDTH)
            level0 = tiles.Tile(0, tile_index, _tile_width(size, 0, tile_index))
            if tiles.decode_tile(read(level0), level0)[offset] != item.leaf_hash:
                raise ItemMissingError(
                    f"{item.label}: tile {level0.path} holds another leaf hash at its index"
                )
        return _check_items(checkpoint, items, read)
    except tiles.TileError as exc:
        raise _named(exc) from None


# --- Writing tiles (a log's publisher, tests and the audit package) -----------------------------


def tiles_write(entries: Sequence[bytes], size: int, write: Callable[[str, bytes], None]) -> bytes:
    """Write every tile and bundle of the tree of the first ``size`` ``entries``; returns its root."""
    tree = merkle.StoredHashTree()
    for entry in entries[:size]:
        tree.append(merkle.hash_leaf(entry))
    for tile in tiles.tiles_for_size(size):
        if tile.is_entries:
            write(tile.path, tiles.encode_bundle(entries[tile.first() : tile.first() + tile.width]))
        else:
            write(tile.path, tiles.read_tile_data(tile, tree.read_hashes))
    return tree.root()
