"""C2SP tlog-tiles: paths, tile contents against Go's sumdb/tlog, rebuilding and verifying from tiles."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from provenance.standards import merkle
from provenance.standards import tiles as t
from tests.conftest import requirement_missing

GO_DIR = Path(__file__).parent / "go"


def entries(count: int) -> list[bytes]:
    return [f'{{"kind":"record.added","n":{k}}}'.encode() for k in range(count)]


def stored_tree(records: list[bytes]) -> merkle.StoredHashTree:
    tree = merkle.StoredHashTree()
    for record in records:
        tree.append(merkle.hash_leaf(record))
    return tree


def publish(records: list[bytes], size: int) -> dict[str, bytes]:
    tree = stored_tree(records)
    files = {}
    for tile in t.tiles_for_size(size):
        if tile.is_entries:
            files[tile.path] = t.encode_bundle(records[tile.first() : tile.first() + tile.width])
        else:
            files[tile.path] = t.read_tile_data(tile, tree.read_hashes)
    return files


def reader(files: dict[str, bytes]):
    def read(tile: t.Tile) -> bytes:
        if tile.path not in files:
            raise t.TileMissingError(tile.path)
        return files[tile.path]

    return read


@pytest.mark.parametrize(
    ("n", "path"),
    [
        (0, "000"),
        (5, "005"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (10**9, "x001/x000/x000/000"),
    ],
)
def test_indexes_are_written_as_the_spec_says(n, path):
    assert t.encode_index(n) == path
    assert t.parse_index(path) == n


@pytest.mark.parametrize(
    "bad", ["1", "0001", "x01/000", "001/000", "x000/001", "x001/", "", "abc", "x001/x234/67"]
)
def test_malformed_index_paths_are_refused(bad):
    with pytest.raises(t.TileError):
        t.parse_index(bad)


def test_tile_paths_round_trip_and_bad_ones_are_refused():
    for tile in [t.Tile(0, 0), t.Tile(1, 1234067, 7), t.Tile(-1, 3, 255), t.Tile(63, 0, 1)]:
        assert t.parse_tile_path(tile.path) == tile
    assert t.Tile(0, 1234067, 7).path == "tile/0/x001/x234/067.p/7"
    assert t.Tile(-1, 2).path == "tile/entries/002"
    for bad in [
        "tile/64/000",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
        "tile/01/000",
        "tiles/0/000",
        "tile/0/000.p/",
    ]:
        with pytest.raises(t.TileError):
            t.parse_tile_path(bad)


def test_new_tiles_adds_only_completed_full_tiles_and_the_new_partials():
    assert t.tiles_for_size(0) == []
    assert t.tiles_for_size(1) == [t.Tile(-1, 0, 1), t.Tile(0, 0, 1)]
    size = 256 * 256 + 3
    full = [tile for tile in t.tiles_for_size(size) if tile.full]
    assert len([x for x in full if x.level == 0]) == 256 and t.Tile(1, 0) in full
    assert t.Tile(2, 0, 1) in t.tiles_for_size(size)
    # From 300 to 600 entries: tile 1 of level 0 is completed, tile 2 partial, level 1 partial width 2.
    assert t.new_tiles(300, 600) == [
        t.Tile(-1, 1),
        t.Tile(-1, 2, 88),
        t.Tile(0, 1),
        t.Tile(0, 2, 88),
        t.Tile(1, 0, 2),
    ]
    assert t.new_tiles(600, 600) == []


def test_bundles_round_trip_and_truncation_is_refused():
    records = [b"", b"a", b"x" * 65535]
    bundle = t.encode_bundle(records)
    assert bundle[:2] == b"\x00\x00" and bundle[2:5] == b"\x00\x01a"
    assert t.decode_bundle(bundle, t.Tile(-1, 0, 3)) == records
    with pytest.raises(t.BundleError, match="truncated"):
        t.decode_bundle(bundle[:-1])
    with pytest.raises(t.BundleError, match="truncated inside a length"):
        t.decode_bundle(b"\x00")
    with pytest.raises(t.BundleError, match="expected 4"):
        t.decode_bundle(bundle, t.Tile(-1, 0, 4))
    with pytest.raises(t.BundleError, match="does not fit"):
        t.encode_bundle([b"x" * 65536])


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 512, 1000, 256 * 256, 256 * 256 + 257])
def test_the_tree_rebuilt_from_bundles_and_from_tiles_has_the_logs_root(size):
    records = entries(size)
    root = stored_tree(records).root()
    files = publish(records, size)
    read = reader(files)
    assert t.root_from_bundles(size, read) == root
    t.verify_tiles(size, root, read)
    hashes = t.tile_hash_reader(size, read)
    assert merkle.tree_hash(size, hashes) == root
    tree = stored_tree(records)
    for index in {0, size // 2, size - 1}:
        proof = merkle.prove_record(size, index, hashes)
        assert proof == tree.inclusion_proof(index)
        merkle.verify_inclusion(merkle.hash_leaf(records[index]), index, size, proof, root)
    assert merkle.prove_tree(size, size // 3, hashes) == tree.consistency_proof(size // 3)


def test_damaged_tiles_are_named():
    size = 600
    records = entries(size)
    root = stored_tree(records).root()
    files = publish(records, size)

    swapped = dict(files)
    swapped["tile/0/000"] = files["tile/0/001"]
    with pytest.raises(t.TileVerificationError, match="tile/0/000 does not hash"):
        t.verify_tiles(size, root, reader(swapped))

    wrong_partial = dict(files)
    data = bytearray(files["tile/0/002.p/88"])
    data[0] ^= 1
    wrong_partial["tile/0/002.p/88"] = bytes(data)
    with pytest.raises(t.TileVerificationError, match="not the checkpoint's root"):
        t.verify_tiles(size, root, reader(wrong_partial))

    truncated = dict(files)
    truncated["tile/1/000.p/2"] = files["tile/1/000.p/2"][:-1]
    with pytest.raises(t.TileError, match="expected 64"):
        t.verify_tiles(size, root, reader(truncated))

    reordered = dict(files)
    bundle = t.decode_bundle(files["tile/entries/001"])
    bundle[0], bundle[1] = bundle[1], bundle[0]
    reordered["tile/entries/001"] = t.encode_bundle(bundle)
    with pytest.raises(t.TileVerificationError, match="entry bundle tile/entries/001"):
        t.verify_tiles(size, root, reader(reordered))

    missing = dict(files)
    del missing["tile/1/000.p/2"]
    with pytest.raises(t.TileMissingError, match="tile/1/000.p/2"):
        t.verify_tiles(size, root, reader(missing))


def _go() -> str | None:
    go = shutil.which("go")
    if go is None or not Path("/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog").is_dir():
        requirement_missing(
            "go and golang.org/x/mod are not installed (Debian golang-go, golang-golang-x-mod-dev)"
        )
    return go


def go_env(tmp_path) -> dict[str, str]:
    """Go without modules, on Debian's golang.org/x/mod sources, with a cache of the test's own."""
    return {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": "/usr/share/gocode",
        "GOCACHE": str(tmp_path / "gocache"),
        "GOFLAGS": "",
    }


def test_tiles_match_gos_sumdb_tlog(tmp_path):
    go = _go()
    size = 256 * 256 + 300
    records = entries(size)
    result = subprocess.run(
        [go, "run", str(GO_DIR / "tiles.go")],
        input="".join(r.hex() + "\n" for r in records),
        capture_output=True,
        text=True,
        check=True,
        env=go_env(tmp_path),
        timeout=300,
    )
    go_tiles = {}
    go_root = None
    for line in result.stdout.splitlines():
        path, value = line.split(" ")
        if path == "root":
            go_root = bytes.fromhex(value)
        else:
            assert path.startswith("tile/8/")
            go_tiles["tile/" + path.removeprefix("tile/8/")] = bytes.fromhex(value)
    tree = stored_tree(records)
    assert go_root == tree.root()
    ours = publish(records, size)
    hash_tiles = {p: d for p, d in ours.items() if not p.startswith("tile/entries/")}
    # Go lists a partial tile for every width up to the size; ours are the published size's.
    assert set(hash_tiles) <= set(go_tiles)
    assert {p for p in go_tiles if ".p/" not in p} == {p for p in hash_tiles if ".p/" not in p}
    for path, data in go_tiles.items():
        assert t.read_tile_data(t.parse_tile_path(path), tree.read_hashes) == data, path
