"""POST /api/v1/provenance/records/batch: many generation records in one request, one transaction."""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from magento_bridge.connection import connect
from provenance.auth import api_client_create
from provenance.models import ContentItem, GenerationRecord, Generator, LogEntry, Origin
from tests.provenance.test_ingest_api import _post, body, mariadb_server_app  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

URL = "/api/v1/provenance/records/batch"


def record(n: int, **changes) -> dict:
    values = {"external_id": f"img-{n}", "output_sha256": hashlib.sha256(f"output-{n}".encode()).hexdigest()}
    return body(**{**values, **changes})


@pytest.fixture
def generator():
    return Generator.objects.create(name="leaflet-writer", provider="Example Health AI", version="3.1")


@pytest.fixture
def token():
    return api_client_create(name="cms-pipeline", scopes=["records:write"], actor="test").token


@pytest.fixture
def post_batch(client, token):
    def post_batch(payload, *, auth: str | None = None):
        data = payload if isinstance(payload, bytes) else json.dumps(payload)
        headers = {"Authorization": auth or f"Bearer {token}"}
        return client.post(URL, data=data, content_type="application/json", headers=headers)

    return post_batch


def test_a_batch_stores_and_logs_every_record_in_order(generator, post_batch):
    response = post_batch({"records": [record(n) for n in range(3)]})

    assert response.status_code == 200, response.json()
    answer = response.json()
    assert (answer["created"], answer["replayed"], answer["invalid"], answer["conflict"]) == (3, 0, 0, 0)
    results = answer["results"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert [r["status"] for r in results] == ["created"] * 3
    stored = {r.external_id: r for r in GenerationRecord.objects.all()}
    for n, result in enumerate(results):
        assert result["external_id"] == f"img-{n}" and result["error"] is None
        assert stored[f"img-{n}"].pk == result["id"] and stored[f"img-{n}"].log_index == result["log_index"]
        payload = json.loads(LogEntry.objects.get(index=result["log_index"]).data_bytes)
        assert payload["kind"] == "generation_record" and payload["external_id"] == f"img-{n}"
    assert [r["log_index"] for r in results] == sorted(r["log_index"] for r in results)


def test_an_invalid_record_is_reported_and_the_others_land(generator, post_batch):
    records = [record(0), record(1, output_sha256="not-a-hash"), "not an object", record(3)]
    answer = post_batch({"records": records}).json()

    assert [r["status"] for r in answer["results"]] == ["created", "invalid", "invalid", "created"]
    invalid = answer["results"][1]
    assert invalid["id"] is None and invalid["external_id"] == "img-1"
    assert invalid["error"]["error"]["code"] == "invalid"
    assert "output_sha256" in invalid["error"]["error"]["fields"]
    assert answer["results"][2]["external_id"] is None
    assert set(GenerationRecord.objects.values_list("external_id", flat=True)) == {"img-0", "img-3"}
    assert answer["invalid"] == 2 and answer["created"] == 2


def test_a_replayed_batch_answers_the_stored_records_and_logs_nothing(generator, post_batch):
    first = post_batch({"records": [record(n) for n in range(4)]}).json()
    entries = LogEntry.objects.count()

    again = post_batch({"records": [record(n) for n in range(4)]}).json()

    assert [r["status"] for r in again["results"]] == ["replayed"] * 4
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    assert LogEntry.objects.count() == entries and GenerationRecord.objects.count() == 4


def test_duplicate_external_ids_inside_one_batch(generator, post_batch):
    records = [record(0), record(0), record(0, pipeline_run_id="another run")]
    answer = post_batch({"records": records}).json()

    statuses = [r["status"] for r in answer["results"]]
    assert statuses == ["created", "replayed", "conflict"]
    first_id = answer["results"][0]["id"]
    assert answer["results"][1]["id"] == first_id
    conflict = answer["results"][2]
    assert conflict["id"] == first_id and conflict["error"]["error"]["code"] == "conflict"
    assert GenerationRecord.objects.count() == 1


def test_a_record_conflicting_with_a_stored_one_is_named(generator, post_batch):
    post_batch({"records": [record(0)]})
    answer = post_batch({"records": [record(0, generator_version="9"), record(1)]}).json()

    assert [r["status"] for r in answer["results"]] == ["conflict", "created"]
    assert "img-0" in answer["results"][0]["error"]["error"]["message"]


def test_registry_items_with_the_output_hash_become_synthetic(generator, post_batch):
    output = hashlib.sha256(b"leaflet image").hexdigest()
    item = ContentItem.objects.create(
        store_code="default",
        surface="product_image",
        magento_id=7,
        part_key="31",
        sku="PEN-7",
        file_path="/p/e/pen.png",
        content_sha256=output,
    )
    records = [record(0, output_sha256=output), record(1, output_sha256=output), record(2)]
    answer = post_batch({"records": records}).json()

    assert [r["items_matched"] for r in answer["results"]] == [1, 0, 0]
    item.refresh_from_db()
    assert item.origin == Origin.SYNTHETIC
    assert item.origin_evidence[0]["record_id"] == answer["results"][0]["id"]
    origin_entries = LogEntry.objects.filter(kind="item.origin")
    assert origin_entries.count() == 1 and item.latest_log_index == origin_entries.get().index


def test_the_queries_of_a_batch_do_not_grow_with_its_records(generator, post_batch):
    def queries(first: int, count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = post_batch({"records": [record(first + n) for n in range(count)]})
        assert response.json()["created"] == count
        return len(captured.captured_queries)

    queries(500, 2)  # the first request also notes the token's use and creates the log's head
    assert queries(0, 5) == queries(100, 60) <= 12


def test_a_batch_over_the_limit_is_refused_with_413_naming_it(generator, post_batch, settings):
    settings.API_BATCH_MAX_RECORDS = 3
    response = post_batch({"records": [record(n) for n in range(4)]})

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and "at most 3 records" in error["message"]
    assert GenerationRecord.objects.count() == 0


def test_a_body_over_the_byte_limit_is_refused_with_413(generator, post_batch, settings):
    settings.API_BATCH_MAX_BODY_BYTES = 2048
    response = post_batch({"records": [record(n) for n in range(10)]})
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "payload",
    [b"[]", b'{"records": {}}', b'{"records": [], "extra": 1}', b'{"rows": []}', b"{", b'"x"'],
)
def test_a_body_that_is_not_a_batch_is_a_400(generator, post_batch, payload):
    response = post_batch(payload)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_an_empty_batch_is_a_400_on_records(generator, post_batch):
    response = post_batch({"records": []})
    assert response.status_code == 400 and "records" in response.json()["error"]["fields"]


def test_the_batch_needs_the_records_write_scope(generator, post_batch):
    reader = api_client_create(name="reader", scopes=["records:read"], actor="test").token
    response = post_batch({"records": [record(0)]}, auth=f"Bearer {reader}")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert post_batch({"records": [record(0)]}, auth="Bearer nope").status_code == 401


def test_overlapping_batches_at_once_store_every_record_once(mariadb_server_app, mariadb_url):  # noqa: F811
    address, tokens = mariadb_server_app
    start = threading.Barrier(4)

    def pipeline(n: int) -> tuple[int, dict]:
        # Four senders post overlapping halves of the same 200 records of one client.
        records = [record(i) for i in range(n * 50, n * 50 + 100) if i < 200]
        start.wait()
        return _post(address, tokens[0], {"records": records}, URL)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(pipeline, range(4)))

    assert [status for status, _ in answers] == [200] * 4, answers
    ids: dict[str, set[int]] = {}
    for _, answer in answers:
        assert answer["invalid"] == answer["conflict"] == 0
        for result in answer["results"]:
            ids.setdefault(result["external_id"], set()).add(result["id"])
    assert len(ids) == 200 and all(len(found) == 1 for found in ids.values())
    assert sum(answer["created"] for _, answer in answers) == 200

    conn = connect(mariadb_url, read_only=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*), COUNT(DISTINCT external_id) FROM provenance_generationrecord")
            assert cur.fetchone() == (200, 200)
            cur.execute("SELECT COUNT(*) FROM provenance_logentry WHERE kind = 'generation_record'")
            assert cur.fetchone() == (200,)
            cur.execute("SELECT size FROM provenance_loghead")
            assert cur.fetchone() == (200,)
    finally:
        conn.close()
