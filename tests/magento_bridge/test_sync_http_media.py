"""Catalog images fetched from the store's media URL instead of a local pub/media directory."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from magento_bridge.media import HttpMediaBase, LocalMediaRoot
from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.models import ContentItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_server(mariadb_store):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mariadb_store.media_root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_images_from_a_media_url_hash_the_same_as_from_disk(mariadb_store, media_server):
    over_http = sync_run(full=True, media=HttpMediaBase(media_server, timeout=5, retries=0))
    assert over_http.status == SyncRun.Status.SUCCEEDED, over_http.error
    via_http = dict(
        ContentItem.objects.filter(surface="product_image").values_list("file_path", "content_sha256")
    )
    problems_http = dict(
        ContentItem.objects.exclude(problem_code="").values_list("file_path", "problem_code")
    )

    ContentItem.objects.all().delete()
    from magento_bridge.models import MediaFile

    MediaFile.objects.all().delete()
    from_disk = sync_run(full=True, media=LocalMediaRoot(mariadb_store.media_root))
    assert from_disk.status == SyncRun.Status.SUCCEEDED
    assert via_http == dict(
        ContentItem.objects.filter(surface="product_image").values_list("file_path", "content_sha256")
    )
    assert problems_http == dict(
        ContentItem.objects.exclude(problem_code="").values_list("file_path", "problem_code")
    )
    assert "missing" in problems_http.values()
