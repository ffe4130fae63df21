"""Publishing the log's tiles into an S3-compatible bucket (django-storages against moto's S3): the
same tiles as on disk, each object with its cache headers, incremental, refusing a changed tile, and
one publisher at a time through the database."""

from __future__ import annotations

import boto3
import pytest
from django.db import connections
from moto import mock_aws

from provenance import publish
from provenance.checkpoints import checkpoint_sign
from provenance.log import log_root
from provenance.publish import IMMUTABLE, PublishError, log_publish, log_publish_pending
from provenance.standards import notes
from provenance.standards import tiles as t
from sidecar.s3 import BucketSettings
from tests.provenance.test_publish import PUBLISHED_AT_600, append

BUCKET = "provenant-log"
PREFIX = "log-tiles"


@pytest.fixture
def bucket(settings, log_key, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings.VAR_DIR = tmp_path / "var"
    settings.LOG_PUBLISH_DIR = ""
    settings.LOG_PUBLISH_S3 = BucketSettings(
        bucket=BUCKET,
        prefix=PREFIX,
        region="eu-west-1",
        access_key_id="test-access-key",
        secret_access_key="test-secret-key",
    )
    settings.LOG_WITNESSES = []
    settings.LOG_WITNESS_QUORUM = 0
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client


def objects(client) -> dict[str, dict]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + "/").get("Contents", [])
    return {o["Key"][len(PREFIX) + 1 :]: client.head_object(Bucket=BUCKET, Key=o["Key"]) for o in listed}


def reader(client):
    def read(tile: t.Tile) -> bytes:
        try:
            return client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{tile.path}")["Body"].read()
        except client.exceptions.NoSuchKey:
            raise t.TileMissingError(tile.path) from None

    return read


def test_the_log_is_published_to_the_bucket_with_cache_headers_and_rebuilds_from_it(db, bucket, log_key):
    append(600)
    result = log_publish(checkpoint_sign())
    assert result.checkpoint_written and result.tiles_written == len(t.tiles_for_size(600))
    stored = objects(bucket)
    assert sorted(stored) == PUBLISHED_AT_600
    assert stored["checkpoint"]["CacheControl"] == "no-cache"
    assert stored["checkpoint"]["ContentType"].startswith("text/plain")
    assert {stored[name]["CacheControl"] for name in stored if name != "checkpoint"} == {IMMUTABLE}
    note = bucket.get_object(Bucket=BUCKET, Key=f"{PREFIX}/checkpoint")["Body"].read().decode()
    body = notes.Checkpoint.parse(notes.open_note(note, [log_key.verifier()]).text)
    assert body.size == 600 and body.root_hash == log_root(600)
    read = reader(bucket)
    assert t.root_from_bundles(600, read) == body.root_hash
    t.verify_tiles(600, body.root_hash, read)


def test_publishing_again_writes_only_what_the_new_size_adds(db, bucket):
    append(600)
    log_publish(checkpoint_sign())
    assert log_publish_pending() is None  # the bucket holds the latest checkpoint
    append(100, start=600)
    checkpoint = checkpoint_sign()
    second = log_publish_pending()  # the bucket is behind: the schedule publishes it
    assert second.tiles_written == len(t.new_tiles(600, 700)) and second.checkpoint_written
    assert log_publish(checkpoint).tiles_written == 0  # nothing new
    stored = objects(bucket)
    assert "tile/0/002.p/88" in stored and "tile/0/002.p/188" in stored  # older partial tiles stay
    t.verify_tiles(700, bytes(checkpoint.root_hash), reader(bucket))


def test_a_changed_tile_in_the_bucket_stops_publication_before_the_checkpoint(db, bucket):
    append(600)
    log_publish(checkpoint_sign())
    bucket.delete_object(Bucket=BUCKET, Key=f"{PREFIX}/checkpoint")  # as if the publication stopped
    bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}/tile/0/001", Body=b"\0" * 32 * 256)
    with pytest.raises(PublishError, match="a tile in the bucket was changed"):
        log_publish(checkpoint_sign())
    assert "checkpoint" not in objects(bucket)


def test_a_publisher_waits_for_the_lock_another_holds_on_mariadb(log_mariadb, bucket, monkeypatch, settings):
    monkeypatch.setattr(publish, "_DATABASE_LOCK_WAIT_SECONDS", 1)
    other = connections.create_connection(log_mariadb)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(%s, 0)", [publish._DATABASE_LOCK])
            assert cursor.fetchone() == (1,)
        with pytest.raises(PublishError, match="another publication holds the lock"):
            with publish._database_lock():
                pass
        with other.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [publish._DATABASE_LOCK])
        with publish._database_lock():  # free again: taken and released
            pass
    finally:
        other.close()


def test_a_directory_and_a_bucket_at_once_is_a_configuration_error(monkeypatch):
    import subprocess
    import sys

    env = {
        "PROVENANT_DEBUG": "1",
        "PROVENANT_LOG_PUBLISH_DIR": "/tmp/tiles",
        "PROVENANT_LOG_PUBLISH_S3_BUCKET": BUCKET,
        "DJANGO_SETTINGS_MODULE": "sidecar.settings",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0 and "not both" in done.stderr
