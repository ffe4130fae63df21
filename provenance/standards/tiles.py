"""A transparency log published as static tiles (C2SP tlog-tiles) over an RFC 9162 Merkle tree.

Tile height 8: a full tile holds 256 hashes (8,192 bytes). A tile at level ``L`` and index ``N``
holds the hashes of tree level ``8 L``, indexes ``256 N`` to ``256 N + W - 1``: level 0 the leaf
hashes, level ``L ≥ 1`` the roots of the *full* tiles of level ``L - 1``. A partial tile (width
``W`` from 1 to 255) is served for a tree size whose hashes at that level do not fill the tile; it
is never hashed upward. Paths, relative to the log's prefix::

    tile/<L>/<N>[.p/<W>]            hash tiles
    tile/entries/<N>[.p/<W>]        entry bundles: each entry as a big-endian uint16 length + bytes

``N`` is written as 3-digit path elements, all but the last prefixed ``x`` (1234067 is
``x001/x234/067``). These are the tiles of Go's ``golang.org/x/mod/sumdb/tlog`` without the height
element of its paths (``tile/8/...`` there).

The readers here are pure: :func:`tile_hash_reader` turns tiles into a
:data:`provenance.standards.merkle.HashReader` (roots and proofs of any size up to the tiles'),
:func:`verify_tiles` checks that a set of tiles is consistent with a checkpoint's root and
:func:`root_from_bundles` recomputes the root from the entry bundles alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from provenance.standards import merkle

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "BundleError",
    "Tile",
    "TileError",
    "TileMissingError",
    "TileVerificationError",
    "decode_bundle",
    "decode_tile",
    "encode_bundle",
    "encode_index",
    "encode_tile",
    "new_tiles",
    "parse_index",
    "parse_tile_path",
    "read_tile_data",
    "root_from_bundles",
    "tile_hash_reader",
    "tile_indexes",
    "tiles_for_size",
    "verify_tiles",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_ENTRY_BYTES = 0xFFFF
_HASH = merkle.HASH_SIZE
_ELEMENT = re.compile(r"[0-9]{3}")
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


class TileError(ValueError):
    """A tile path, tile or bundle does not follow C2SP tlog-tiles."""


class BundleError(TileError):
    """An entry bundle is malformed (truncated, too many or too few entries, an entry too long)."""


class TileMissingError(TileError):
    """A tile the reader needs is not available; ``path`` names it."""

    def __init__(self, path: str) -> None:
        super().__init__(f"tile {path} is missing")
        self.path = path


class TileVerificationError(TileError):
    """Tiles do not hash to the checkpoint's root, or a full tile disagrees with the tile above it."""


@dataclass(frozen=True, order=True)
class Tile:
    """A tile's coordinates: ``level`` (``-1`` for an entry bundle), ``index`` and ``width`` (1-256)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not -1 <= self.level <= MAX_LEVEL:
            raise TileError(f"tile level must be from 0 to {MAX_LEVEL} (or -1 for entries), got {self.level}")
        if self.index < 0:
            raise TileError(f"tile index must be non-negative, got {self.index}")
        if not 1 <= self.width <= TILE_WIDTH:
            raise TileError(f"tile width must be from 1 to {TILE_WIDTH}, got {self.width}")

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def is_entries(self) -> bool:
        return self.level == -1

    @property
    def path(self) -> str:
        level = "entries" if self.is_entries else str(self.level)
        partial = "" if self.full else f".p/{self.width}"
        return f"tile/{level}/{encode_index(self.index)}{partial}"

    def hash_level(self) -> int:
        """The tree level of the hashes in this tile (0 for entry bundles, whose hashes are leaves)."""
        return 0 if self.is_entries else self.level * TILE_HEIGHT

    def first(self) -> int:
        """The index, at :meth:`hash_level`, of the tile's first hash (or first entry)."""
        return self.index * TILE_WIDTH


def encode_index(n: int) -> str:
    """``N`` as path elements: 3 digits each, all but the last prefixed ``x`` (``x001/x234/067``)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise TileError(f"a tile index is a non-negative integer, got {n!r}")
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    elements = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{e}" for e in elements[:-1]), elements[-1]])


def parse_index(path: str) -> int:
    """The inverse of :func:`encode_index`, strictly (no extra leading ``x000`` element)."""
    elements = path.split("/")
    *upper, last = elements
    if not _ELEMENT.fullmatch(last) or any(not (e[:1] == "x" and _ELEMENT.fullmatch(e[1:])) for e in upper):
        raise TileError(f"not a tile index path: {path!r}")
    if upper and upper[0] == "x000":
        raise TileError(f"not a canonical tile index path: {path!r}")
    return int("".join(e.removeprefix("x") for e in elements))


def parse_tile_path(path: str) -> Tile:
    """The :class:`Tile` of ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``."""
    if not path.startswith("tile/"):
        raise TileError(f"not a tile path: {path!r}")
    level_text, _, rest = path.removeprefix("tile/").partition("/")
    if level_text == "entries":
        level = -1
    elif _LEVEL.fullmatch(level_text) and int(level_text) <= MAX_LEVEL:
        level = int(level_text)
    else:
        raise TileError(f"not a tile level: {level_text!r}")
    width = TILE_WIDTH
    index_text, dot, width_text = rest.partition(".p/")
    if dot:
        if not _WIDTH.fullmatch(width_text) or int(width_text) >= TILE_WIDTH:
            raise TileError(f"a partial tile's width is from 1 to {TILE_WIDTH - 1}, got {width_text!r}")
        width = int(width_text)
    return Tile(level, parse_index(index_text), width)


def _level_count(size: int, level: int) -> int:
    """How many complete hashes a tree of ``size`` leaves has at tile level ``level``."""
    return size >> (level * TILE_HEIGHT)


def tiles_for_size(size: int) -> list[Tile]:
    """Every hash tile and entry bundle of the tree of ``size`` leaves, bottom level first."""
    return new_tiles(0, size)


def new_tiles(old_size: int, new_size: int) -> list[Tile]:
    """The tiles that publishing ``new_size`` adds to a publication of ``old_size``.

    Full tiles completed since ``old_size`` and, per level, the partial tile of ``new_size`` unless
    ``old_size`` already had the same one. Entry bundles first (level -1), then levels upward.
    """
    if not 0 <= old_size <= new_size:
        raise TileError(f"old size {old_size} is not between 0 and the new size {new_size}")
    out: list[Tile] = []
    for kind, level in _levels(new_size):
        shift = 0 if kind == -1 else level
        old_count, new_count = _level_count(old_size, shift), _level_count(new_size, shift)
        tile_level = -1 if kind == -1 else level
        out.extend(Tile(tile_level, n) for n in range(old_count // TILE_WIDTH, new_count // TILE_WIDTH))
        width = new_count % TILE_WIDTH
        if width and new_count != old_count:
            out.append(Tile(tile_level, new_count // TILE_WIDTH, width))
    return out


def _levels(size: int) -> Iterator[tuple[int, int]]:
    if size:
        yield -1, 0
    level = 0
    while _level_count(size, level):
        yield 0, level
        level += 1


def encode_tile(hashes: Iterable[bytes]) -> bytes:
    return b"".join(hashes)


def tile_indexes(tile: Tile) -> list[int]:
    """The stored hash indexes (:func:`provenance.standards.merkle.stored_hash_index`) of a hash tile."""
    if tile.is_entries:
        raise TileError("an entry bundle holds entries, not stored hashes")
    level = tile.hash_level()
    return [merkle.stored_hash_index(level, tile.first() + i) for i in range(tile.width)]


def read_tile_data(tile: Tile, read_hashes: merkle.HashReader) -> bytes:
    """A hash tile's bytes from the stored hashes (as ``tlog.ReadTileData`` in Go)."""
    hashes = list(read_hashes(tile_indexes(tile)))
    if len(hashes) != tile.width:
        raise TileError(f"read {len(hashes)} hashes for tile {tile.path} of width {tile.width}")
    return encode_tile(hashes)


def decode_tile(data: bytes, tile: Tile) -> list[bytes]:
    """The hashes in a hash tile; its length must be exactly ``32 × width``."""
    if len(data) != _HASH * tile.width:
        raise TileError(f"tile {tile.path} is {len(data)} bytes, expected {_HASH * tile.width}")
    return [data[i : i + _HASH] for i in range(0, len(data), _HASH)]


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry as its big-endian uint16 length and its bytes."""
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise BundleError(
                f"an entry of {len(entry)} bytes does not fit a bundle (at most {MAX_ENTRY_BYTES})"
            )
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(bytes(entry))
    return b"".join(parts)


def decode_bundle(data: bytes, tile: Tile | None = None) -> list[bytes]:
    """The entries of a bundle; with ``tile``, exactly ``tile.width`` of them."""
    entries = []
    view = memoryview(data)
    offset = 0
    while offset < len(view):
        if offset + 2 > len(view):
            raise BundleError("entry bundle is truncated inside a length prefix")
        length = int.from_bytes(view[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(view):
            raise BundleError(f"entry bundle is truncated inside entry {len(entries)}")
        entries.append(bytes(view[offset : offset + length]))
        offset += length
    if tile is not None and len(entries) != tile.width:
        raise BundleError(f"entry bundle {tile.path} holds {len(entries)} entries, expected {tile.width}")
    return entries


def root_from_bundles(size: int, read_bundle: Callable[[Tile], bytes]) -> bytes:
    """The RFC 9162 root of the tree of ``size`` leaves, recomputed from its entry bundles alone.

    Streams: O(log n) memory whatever the size.
    """

    def leaf_hashes() -> Iterator[bytes]:
        for tile in new_tiles(0, size):
            if tile.is_entries:
                for entry in decode_bundle(read_bundle(tile), tile):
                    yield merkle.hash_leaf(entry)

    return merkle.root_from_leaf_hashes(leaf_hashes())


def tile_hash_reader(size: int, read_tile: Callable[[Tile], bytes]) -> merkle.HashReader:
    """A :data:`~provenance.standards.merkle.HashReader` over the tiles of the tree of ``size``.

    A stored hash at tree level ``h`` comes from the tile at level ``h // 8``; when ``h`` is not a
    multiple of 8 it is recomputed from the ``2^(h mod 8)`` hashes below it in that tile. Tiles are
    read through ``read_tile`` (which raises :class:`TileMissingError` or returns the bytes) once
    each and cached. The hashes are not verified here: use :func:`verify_tiles` first.
    """
    cache: dict[Tile, list[bytes]] = {}

    def tile_hashes(level: int, start: int, count: int) -> list[bytes]:
        """``count`` hashes from index ``start`` at tile level ``level`` (within one tile)."""
        index = start // TILE_WIDTH
        width = min(TILE_WIDTH, _level_count(size, level) - index * TILE_WIDTH)
        if width <= 0 or start + count > index * TILE_WIDTH + width:
            raise TileError(
                f"hashes {start}+{count} at tile level {level} are beyond the tree of size {size}"
            )
        tile = Tile(level, index, width)
        if tile not in cache:
            cache[tile] = decode_tile(read_tile(tile), tile)
        offset = start - index * TILE_WIDTH
        return cache[tile][offset : offset + count]

    def read(indexes: list[int]) -> list[bytes]:
        out = []
        for stored in indexes:
            h, n = merkle.split_stored_hash_index(stored)
            level, below = divmod(h, TILE_HEIGHT)
            span = 1 << below
            hashes = tile_hashes(level, n * span, span)
            out.append(merkle.root_from_leaf_hashes(hashes) if span > 1 else hashes[0])
        return out

    return read


def verify_tiles(size: int, root: bytes, read_tile: Callable[[Tile], bytes]) -> None:
    """Check that the tiles of the tree of ``size`` are those of the tree with ``root``.

    Every tile of :func:`tiles_for_size` is read: every full hash tile must hash to its entry in
    the tile above, the tree's root from the tiles must equal ``root``, and every entry bundle must
    hash to its level-0 tile. Streams: one tile and its parent in memory at a time. Raises
    :class:`TileVerificationError` (or :class:`TileError` for a malformed tile,
    :class:`TileMissingError` for a missing one).
    """
    tiles = tiles_for_size(size)

    def width_at(level: int, index: int) -> int:
        return min(TILE_WIDTH, _level_count(size, level) - index * TILE_WIDTH)

    def hashes_of(tile: Tile) -> list[bytes]:
        return decode_tile(read_tile(tile), tile)

    computed = merkle.tree_hash(size, tile_hash_reader(size, read_tile))
    if computed != root:
        raise TileVerificationError(
            f"the tiles of size {size} hash to {computed.hex()}, not the checkpoint's root {root.hex()}"
        )
    parent: tuple[Tile, list[bytes]] | None = None
    for tile in tiles:
        if tile.is_entries:
            continue
        content = hashes_of(tile)
        if not tile.full:
            continue
        above_index, offset = divmod(tile.index, TILE_WIDTH)
        above = Tile(tile.level + 1, above_index, width_at(tile.level + 1, above_index))
        if parent is None or parent[0] != above:
            parent = (above, hashes_of(above))
        if merkle.root_from_leaf_hashes(content) != parent[1][offset]:
            raise TileVerificationError(f"tile {tile.path} does not hash to its entry in the tile above")
    for tile in tiles:
        if tile.is_entries:
            level0 = Tile(0, tile.index, tile.width)
            leaves = [merkle.hash_leaf(e) for e in decode_bundle(read_tile(tile), tile)]
            if leaves != hashes_of(level0):
                raise TileVerificationError(f"entry bundle {tile.path} does not hash to tile {level0.path}")
