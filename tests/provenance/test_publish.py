"""Publishing the log as C2SP tlog-tiles after each checkpoint: what is written, incrementally, safely."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from provenance.checkpoints import checkpoint_sign
from provenance.log import log_append_many, log_entries, log_root
from provenance.publish import PublishError, log_publish
from provenance.standards import notes
from provenance.standards import tiles as t
from provenance.tasks import checkpoint_sign_task

# What the log of 600 entries is published as.
PUBLISHED_AT_600 = [
    "checkpoint",
    "tile/0/000",
    "tile/0/001",
    "tile/0/002.p/88",
    "tile/1/000.p/2",
    "tile/entries/000",
    "tile/entries/001",
    "tile/entries/002.p/88",
]


def append(count: int, start: int = 0) -> None:
    with transaction.atomic():
        log_append_many(entries=[("record.added", {"n": k}) for k in range(start, start + count)])


def reader(directory: Path):
    def read(tile: t.Tile) -> bytes:
        path = directory / tile.path
        if not path.exists():
            raise t.TileMissingError(tile.path)
        return path.read_bytes()

    return read


@pytest.fixture
def publish_dir(settings, tmp_path, log_key):
    settings.LOG_PUBLISH_DIR = str(tmp_path / "log")
    settings.LOG_WITNESSES = []
    settings.LOG_WITNESS_QUORUM = 0
    return tmp_path / "log"


def test_the_checkpoint_task_publishes_tiles_from_which_the_tree_is_rebuilt(db, publish_dir, log_key):
    append(600)
    checkpoint_sign_task()
    note = (publish_dir / "checkpoint").read_text()
    opened = notes.open_note(note, [log_key.verifier()])
    body = notes.Checkpoint.parse(opened.text)
    assert body.size == 600 and body.root_hash == log_root(600)
    read = reader(publish_dir)
    # From the bundles alone, without the database or the hash tiles:
    assert t.root_from_bundles(600, read) == body.root_hash
    t.verify_tiles(600, body.root_hash, read)
    # The bundles hold the exact bytes the log hashed.
    bundle = t.decode_bundle(read(t.Tile(-1, 2, 88)), t.Tile(-1, 2, 88))
    assert bundle == [bytes(e.data) for e in log_entries(512, 600)]
    assert sorted(str(p.relative_to(publish_dir)) for p in publish_dir.rglob("*") if p.is_file()) == [
        ".publish.lock",
        *PUBLISHED_AT_600,
    ]


def test_publishing_a_larger_size_writes_only_the_new_tiles_and_keeps_the_old_ones(db, publish_dir):
    append(600)
    checkpoint = checkpoint_sign()
    first = log_publish(checkpoint)
    assert first.tiles_written == len(t.tiles_for_size(600)) and first.checkpoint_written
    full = publish_dir / "tile/0/000"
    before = full.stat()

    append(300, start=600)
    second = log_publish(checkpoint_sign())
    assert second.tiles_written == len(t.new_tiles(600, 900)) == 5
    assert full.stat().st_ino == before.st_ino and full.stat().st_mtime_ns == before.st_mtime_ns
    # The partial tiles of the earlier size stay for readers holding that checkpoint.
    assert (publish_dir / "tile/0/002.p/88").exists() and (publish_dir / "tile/0/003.p/132").exists()
    t.verify_tiles(900, log_root(900), reader(publish_dir))
    t.verify_tiles(600, log_root(600), reader(publish_dir))

    again = log_publish()
    assert again.tiles_written == 0


def test_a_changed_tile_on_disk_stops_publication_before_the_checkpoint(db, publish_dir):
    append(300)
    log_publish(checkpoint_sign())
    (publish_dir / "checkpoint").unlink()
    (publish_dir / "tile/0/000").write_bytes(bytes(8192))
    append(300, start=300)
    with pytest.raises(PublishError, match="a tile on disk was changed"):
        log_publish(checkpoint_sign())
    assert not (publish_dir / "checkpoint").exists()


def test_a_rebuilt_directory_reuses_the_full_tiles_it_finds(db, publish_dir):
    append(513)
    log_publish(checkpoint_sign())
    (publish_dir / "checkpoint").unlink()
    result = log_publish()
    assert result.tiles_kept == 4 and result.tiles_written == len(t.tiles_for_size(513)) - 4
    assert result.checkpoint_written


def test_publishing_is_off_without_a_directory(db, settings, log_key, tmp_path):
    settings.LOG_PUBLISH_DIR = ""
    settings.LOG_WITNESSES = []
    append(3)
    result = log_publish(checkpoint_sign())
    assert result is not None and not result.checkpoint_written
    assert not list(tmp_path.iterdir())


def test_the_checkpoint_command_publishes(db, publish_dir):
    append(5)
    out = StringIO()
    call_command("provenance_checkpoint", stdout=out)
    assert "Published the log of size 5: 2 tiles written" in out.getvalue()
    assert (publish_dir / "tile/entries/000.p/5").exists()
    out = StringIO()
    append(1, start=5)
    call_command("provenance_checkpoint", "--no-publish", stdout=out)
    assert "Published" not in out.getvalue()
    assert not (publish_dir / "tile/entries/000.p/6").exists()
