"""Without a local pub/media, the role images a storefront serves are found through Magento's
GraphQL API and checked like local derivatives; a failing endpoint is reported, nothing half-written."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from PIL import Image

from magento_bridge.demo.images import render_derivative
from magento_bridge.derivatives import derivatives_check
from magento_bridge.media import HttpMediaBase
from magento_bridge.models import Derivative
from magento_bridge.storefront_images import graphql_url_for
from provenance.marks import image_mark_save, marks_embed
from provenance.models import ApiClient, ContentItem, GenerationRecord, Generator, Origin
from tests.provenance.test_watermark import photo

pytestmark = pytest.mark.django_db(transaction=True)

FILE = "/p/e/pen.jpg"


class Storefront:
    """A storefront's /graphql and /media/ on a local port; ``answer`` replaces the GraphQL answer."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.answer: bytes | None = None
        self.queries: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _file(self, head: bool):
                body = outer.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def do_GET(self):
                self._file(head=False)

            def do_HEAD(self):
                self._file(head=True)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.queries.append({"store": self.headers.get("Store"), **body})
                skus = body["variables"]["skus"]
                items = [
                    {
                        "sku": sku,
                        "image": {"url": f"{outer.base}/media/catalog/product/cache/ab12/{FILE[1:]}"},
                        "small_image": {"url": f"{outer.base}/media/catalog/product/cache/cd34/{FILE[1:]}"},
                        "thumbnail": {"url": f"{outer.base}/media/catalog/product{FILE}"},  # an original
                    }
                    for sku in skus
                ]
                data = outer.answer or json.dumps({"data": {"products": {"items": items}}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def storefront(settings):
    shop = Storefront()
    settings.MAGENTO_DERIVATIVES = "on"
    settings.MAGENTO_GRAPHQL_URL = f"{shop.base}/graphql"
    yield shop
    shop.server.shutdown()


@pytest.fixture
def marked_item():
    buffer = io.BytesIO()
    Image.fromarray(photo(5, (640, 640))).save(buffer, "JPEG", quality=95)
    marks = marks_embed(buffer.getvalue())
    digest = hashlib.sha256(marks.data).hexdigest()
    record = GenerationRecord.objects.create(
        generator=Generator.objects.create(name="studio", version="1"),
        generator_version="1",
        prompt_sha256=digest,
        output_sha256=digest,
        output_media_type="image/jpeg",
        generated_at=timezone.now(),
        client=ApiClient.objects.create(name="pipeline", scopes=[]),
        external_id="shot-1",
        submission_sha256=digest,
    )
    image_mark_save(record=record, marks=marks)
    item = ContentItem.objects.create(
        store_code="default",
        surface="product_image",
        magento_id=7,
        part_key="31",
        sku="PEN-7",
        file_path=FILE,
        content_sha256=digest,
        origin=Origin.SYNTHETIC,
    )
    return item, marks, record


def test_the_served_role_images_are_found_and_their_layers_recorded(storefront, marked_item):
    item, marks, record = marked_item
    storefront.files[f"/media/catalog/product/cache/ab12{FILE}"] = render_derivative(marks.data, 700)
    storefront.files[f"/media/catalog/product/cache/cd34{FILE}"] = render_derivative(marks.data, 265)
    source = HttpMediaBase(f"{storefront.base}/media/")

    stats = derivatives_check(store_codes=["default"], source=source)

    assert stats.discoverable and stats.found == 2 and stats.inspected == 2, stats
    assert storefront.queries[0]["store"] == "default"
    assert storefront.queries[0]["variables"]["skus"] == ["PEN-7"]
    rows = {row.cache_hash: row for row in Derivative.objects.filter(item=item)}
    assert set(rows) == {"ab12", "cd34"}  # the thumbnail URL is an original, not a derivative
    for row in rows.values():
        assert row.watermark_id == f"{marks.watermark_id:012x}" and row.watermark_record == record
        assert row.xmp_source_type == ""  # what the GD adapter drops

    again = derivatives_check(store_codes=["default"], source=source)
    assert again.inspected == 0 and again.found == 2  # the ETags did not change


def test_a_failing_endpoint_is_reported_and_nothing_is_written(storefront, marked_item):
    storefront.answer = b'{"errors": [{"message": "Internal server error"}]}'

    stats = derivatives_check(store_codes=["default"], source=HttpMediaBase(f"{storefront.base}/media/"))

    assert not stats.discoverable and "GraphQL" in stats.reason and "Internal server error" in stats.reason
    assert not Derivative.objects.exists()


def test_urls_off_the_media_base_or_climbing_out_are_ignored(storefront, marked_item):
    item, marks, _ = marked_item
    hostile = {
        "sku": "PEN-7",
        "image": {"url": f"{storefront.base}/media/catalog/product/cache/ab12/../../../../etc/passwd"},
        "small_image": {"url": f"https://elsewhere.example/media/catalog/product/cache/cd34{FILE}"},
        "thumbnail": {"url": 42},
    }
    storefront.answer = json.dumps({"data": {"products": {"items": [hostile]}}}).encode()

    stats = derivatives_check(store_codes=["default"], source=HttpMediaBase(f"{storefront.base}/media/"))

    assert stats.discoverable and stats.found == 0
    assert not Derivative.objects.exists()


def test_the_graphql_endpoint_defaults_to_the_one_next_to_the_rest_api():
    assert graphql_url_for("https://shop.example/rest") == "https://shop.example/graphql"
    assert graphql_url_for("https://shop.example/de/rest/V1/") == "https://shop.example/de/graphql"
    assert graphql_url_for("") == ""
