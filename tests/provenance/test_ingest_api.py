"""POST /api/v1/provenance/records: pipelines register what their generators produced."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from magento_bridge.connection import connect
from provenance.auth import api_client_create
from provenance.checkpoints import checkpoint_sign
from provenance.models import GenerationRecord, Generator, LogEntry
from provenance.records import parameters_sha256
from provenance.standards import merkle
from provenance.standards.hashing import cms_content_sha256
from provenance.standards.notes import generate_signer

pytestmark = pytest.mark.django_db

URL = "/api/v1/provenance/records"
PROMPT = "Write a leaflet on storing insulin pens for Jane Doe, born 1961-04-02"
OUTPUT_SHA = hashlib.sha256(b"png bytes").hexdigest()
INPUT_SHA = hashlib.sha256(b"reference photo").hexdigest()


@pytest.fixture
def generator():
    return Generator.objects.create(name="leaflet-writer", provider="Example Health AI", version="3.1")


@pytest.fixture
def token():
    return api_client_create(name="cms-pipeline", scopes=["records:write"], actor="test").token


@pytest.fixture
def post(client, token):
    def post(body, *, auth: str | None = None, raw: bytes | None = None, content_type="application/json"):
        headers = {"Authorization": auth if auth is not None else f"Bearer {token}"}
        data = raw if raw is not None else json.dumps(body)
        return client.post(URL, data=data, content_type=content_type, headers=headers)

    return post


def body(**changes):
    values = {
        "generator": "leaflet-writer",
        "generator_version": "3.1",
        "prompt_sha256": hashlib.sha256(PROMPT.encode()).hexdigest(),
        "inputs": [INPUT_SHA],
        "parameters": {"seed": 42, "temperature": 0.7},
        "output_sha256": OUTPUT_SHA,
        "output_media_type": "image/png",
        "generated_at": "2026-01-31T09:30:00Z",
        "pipeline_run_id": "run-17",
        "external_id": "img-0001",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not ...}


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"level": value}
    return value


def logged(entry: LogEntry) -> dict:
    return json.loads(entry.data_bytes)


def assert_error(response, status: int, code: str, fields: tuple[str, ...] = ()):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert sorted(error["fields"]) == sorted(fields), error
    return error


def test_a_pipeline_records_a_generation_and_gets_its_log_index(generator, post):
    response = post(body())

    assert response.status_code == 201, response.content
    data = response.json()
    record = GenerationRecord.objects.get()
    assert data["id"] == record.pk
    assert data["output_sha256"] == OUTPUT_SHA
    assert data["inputs"] == [INPUT_SHA]
    assert data["generator"] == "leaflet-writer" and data["generator_version"] == "3.1"
    assert data["parameters_sha256"] == parameters_sha256({"seed": 42, "temperature": 0.7})
    assert data["log_index"] == record.log_index is not None
    assert data["checkpoint"] is None and data["proof"] is None
    assert record.client.name == "cms-pipeline"
    assert record.generated_at == datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


def test_the_log_entry_holds_hashes_and_identifiers_only(generator, post):
    log_index = post(body()).json()["log_index"]

    entry = LogEntry.objects.get(kind="generation_record")
    assert entry.index == log_index == GenerationRecord.objects.get().log_index
    payload = logged(entry)
    assert payload == {
        "kind": "generation_record",
        "time": payload["time"],
        "generator": "leaflet-writer",
        "generator_version": "3.1",
        "prompt_sha256": hashlib.sha256(PROMPT.encode()).hexdigest(),
        "input_sha256s": [INPUT_SHA],
        "parameters_sha256": parameters_sha256({"seed": 42, "temperature": 0.7}),
        "output_sha256": OUTPUT_SHA,
        "output_media_type": "image/png",
        "generated_at": "2026-01-31T09:30:00.000000Z",
        "pipeline_run_id": "run-17",
        "client": "cms-pipeline",
        "external_id": "img-0001",
    }


def test_a_prompt_sent_as_text_is_hashed_and_never_stored_or_logged(generator, post):
    response = post(body(prompt_sha256=..., prompt_text=PROMPT))

    assert response.status_code == 201, response.content
    assert "prompt_text" not in response.json()
    record = GenerationRecord.objects.get()
    assert record.prompt_sha256 == hashlib.sha256(PROMPT.encode("utf-8")).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {GenerationRecord._meta.db_table}")
        stored = repr(cursor.fetchall())
    assert "Jane Doe" not in stored
    for entry in LogEntry.objects.all():
        assert b"Jane Doe" not in entry.data_bytes


def test_output_text_is_hashed_with_the_cms_normalisation(generator, post):
    html = "<div>\r\n  <p>Keep   unopened pens\tin the fridge.</p>\n</div>\n"

    response = post(body(output_sha256=..., output_media_type=..., output_text=html))

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["output_sha256"] == cms_content_sha256(html)
    assert (
        data["output_sha256"]
        == hashlib.sha256(b"<div><p>Keep unopened pens in the fridge.</p></div>").hexdigest()
    )
    assert data["output_media_type"] == "text/html"
    assert b"fridge" not in LogEntry.objects.get().data_bytes


def test_a_replay_returns_the_original_answer(generator, post):
    first = post(body())
    again = post(body())

    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert GenerationRecord.objects.count() == 1
    assert LogEntry.objects.filter(kind="generation_record").count() == 1


def test_a_replay_may_send_the_prompt_instead_of_its_hash(generator, post):
    first = post(body())
    again = post(body(prompt_sha256=..., prompt_text=PROMPT, generated_at="2026-01-31T10:30:00+01:00"))

    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]


def test_reusing_an_external_id_for_other_values_is_a_conflict(generator, post):
    original = post(body()).json()

    response = post(body(output_sha256=hashlib.sha256(b"other image").hexdigest()))

    error = assert_error(response, 409, "conflict")
    assert "img-0001" in error["message"] and str(original["id"]) in error["message"]
    assert GenerationRecord.objects.count() == 1
    assert LogEntry.objects.filter(kind="generation_record").count() == 1


def test_two_clients_may_use_the_same_external_id(generator, post, client):
    other = api_client_create(name="image-pipeline", scopes=["records:write"], actor="test").token

    assert post(body()).status_code == 201
    assert post(body(), auth=f"Bearer {other}").status_code == 201
    assert GenerationRecord.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"external_id": ...}, ("external_id",)),
        ({"generator": ...}, ("generator",)),
        ({"generator_version": ...}, ("generator_version",)),
        ({"generated_at": ...}, ("generated_at",)),
        ({"generator": "no-such-model"}, ("generator",)),
        ({"prompt_sha256": "abc"}, ("prompt_sha256",)),
        ({"prompt_sha256": "g" * 64}, ("prompt_sha256",)),
        ({"prompt_sha256": ...}, ("prompt_sha256",)),
        ({"prompt_text": "also the text"}, ("prompt_text",)),
        ({"prompt_text": ""}, ("prompt_text",)),
        ({"inputs": [INPUT_SHA, "nope"]}, ("inputs.1",)),
        ({"inputs": [INPUT_SHA] * 257}, ("inputs",)),
        ({"inputs": INPUT_SHA}, ("inputs",)),
        ({"parameters": [1, 2]}, ("parameters",)),
        ({"parameters": {"prompt_padding": "x" * 17_000}}, ("parameters",)),
        ({"parameters": {"seed": 2**60}}, ("parameters",)),
        ({"parameters": nested(20)}, ("parameters",)),
        ({"output_sha256": ...}, ("output_sha256",)),
        ({"output_text": "<p>x</p>"}, ("output_text",)),
        ({"output_sha256": ..., "output_text": "<p>x</p>"}, ("output_text",)),
        ({"output_media_type": ...}, ("output_media_type",)),
        ({"output_media_type": "png"}, ("output_media_type",)),
        ({"output_media_type": "text/html; charset=utf-8"}, ("output_media_type",)),
        ({"generated_at": "2026-01-31T09:30:00"}, ("generated_at",)),
        ({"generated_at": "yesterday"}, ("generated_at",)),
        ({"generated_at": "0001-01-01T00:00:00+23:59"}, ("generated_at",)),
        ({"generated_at": "1969-12-31T23:59:59Z"}, ("generated_at",)),
        ({"generated_at": 1769851800}, ("generated_at",)),
        ({"generated_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}, ("generated_at",)),
        ({"external_id": 42}, ("external_id",)),
        ({"external_id": ""}, ("external_id",)),
        ({"external_id": "x" * 201}, ("external_id",)),
        ({"external_id": "a\x00b"}, ("external_id",)),
        ({"generator": ["leaflet-writer"]}, ("generator",)),
        ({"pipeline_run_id": None}, ("pipeline_run_id",)),
        ({"prompt_sha": "typo"}, ("prompt_sha",)),
        ({"external_id": ..., "colour": "blue"}, ("external_id", "colour")),
    ],
)
def test_invalid_fields_are_named_in_a_400(generator, post, changes, fields):
    response = post(body(**changes))

    error = assert_error(response, 400, "invalid", fields)
    assert all(error["fields"][name] for name in fields)
    assert GenerationRecord.objects.count() == 0


def test_an_unknown_generator_is_a_400_on_the_generator_field(post):
    error = assert_error(post(body()), 400, "invalid", ("generator",))
    assert "leaflet-writer" in error["fields"]["generator"][0]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"generator": "leaflet-writer",',
        b'{"parameters": {"t": NaN}}',
        b'{"external_id": "a", "external_id": "b"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"external_id": "\xff\xfe"}',
    ],
    ids=["truncated", "nan", "duplicate-member", "deeply-nested", "not-utf8"],
)
def test_malformed_json_is_a_400(generator, post, raw):
    assert_error(post(None, raw=raw), 400, "parse_error")


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"null", b"17"])
def test_a_body_that_is_not_an_object_is_a_400(generator, post, raw):
    assert_error(post(None, raw=raw), 400, "invalid")


def test_an_oversized_body_is_refused_with_413(generator, post):
    big = json.dumps(body(parameters={"padding": "x" * 70_000})).encode()

    assert_error(post(None, raw=big), 413, "payload_too_large")


def test_a_body_that_is_not_json_is_refused_with_415(generator, post):
    response = post(None, raw=b"generator=leaflet-writer", content_type="application/x-www-form-urlencoded")

    assert_error(response, 415, "unsupported_media_type")


def test_other_methods_are_refused_in_the_error_shape(generator, client, token):
    response = client.delete(URL, headers={"Authorization": f"Bearer {token}"})

    assert_error(response, 405, "method_not_allowed")


def test_a_submission_costs_the_same_queries_however_many_inputs(generator, post):
    assert post(body(external_id="warm-up")).status_code == 201  # the log's first append creates its head
    counts = []
    for n, inputs in enumerate(([], [INPUT_SHA] * 200)):
        with CaptureQueriesContext(connection) as queries:
            assert post(body(external_id=f"q-{n}", inputs=inputs)).status_code == 201
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 12, [q["sql"][:80] for q in queries.captured_queries]


def test_the_submitting_client_fetches_the_proof_once_a_checkpoint_covers_the_record(
    generator, post, client, token, settings
):
    settings.LOG_SIGNING_KEY = generate_signer("provenant.test/log")[1]
    created = post(body()).json()
    post(body(external_id="img-0002"))
    checkpoint = checkpoint_sign()

    response = client.get(f"{URL}/{created['id']}", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    data = response.json()
    assert data["checkpoint"]["size"] == checkpoint.size == 2
    assert data["checkpoint"]["note"] == checkpoint.note
    assert data["proof"]["index"] == created["log_index"] and data["proof"]["size"] == 2
    entry = LogEntry.objects.get(index=created["log_index"])
    merkle.verify_inclusion(
        merkle.hash_leaf(entry.data_bytes),
        created["log_index"],
        2,
        [base64.b64decode(h) for h in data["proof"]["hashes"]],
        base64.b64decode(data["checkpoint"]["root_hash"]),
    )
    # A replay now answers with the proof too.
    assert post(body()).json()["proof"] == data["proof"]


def test_a_client_cannot_read_another_clients_record(generator, post, client):
    record_id = post(body()).json()["id"]
    other = api_client_create(name="other", scopes=["records:write", "records:read"], actor="test").token

    response = client.get(f"{URL}/{record_id}", headers={"Authorization": f"Bearer {other}"})

    assert_error(response, 404, "not_found")


def test_reading_a_record_that_does_not_exist_is_a_404(client, token):
    for record_id in (999, 10**30):
        response = client.get(f"{URL}/{record_id}", headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 404, "not_found")


def test_the_schema_documents_the_api_without_warnings(tmp_path):
    out = tmp_path / "schema.json"

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out)
    )

    schema = json.loads(out.read_text())
    post_op = schema["paths"]["/api/v1/provenance/records"]["post"]
    assert post_op["security"] == [{"apiToken": []}]
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["apiToken"]["description"],
    }
    for status in ("400", "401", "403", "409", "413"):
        ref = post_op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/ErrorResponse"
    error = schema["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"code", "message", "fields"}


# --- concurrency: a real server on MariaDB ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 8
RECORDS_PER_CLIENT = 20

# Creates the schema from the models (as the test database is) and the clients; prints their tokens.
SERVER_SETUP = f"""
import json, django
django.setup()
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
settings.MIGRATION_MODULES = {{app.label: None for app in apps.get_app_configs()}}
call_command("migrate", run_syncdb=True, verbosity=0)
from provenance.auth import api_client_create
from provenance.models import Generator
Generator.objects.create(name="leaflet-writer", version="3.1")
tokens = [api_client_create(name=f"pipeline-{{i}}", scopes=["records:write"], actor="test").token
          for i in range({CLIENTS})]
print(json.dumps(tokens))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mariadb_server_app(mariadb_url):
    """A multi-process, multi-threaded server of the app on a fresh MariaDB database: (url, tokens)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": mariadb_url.url(),
        "PROVENANT_LOG_LEVEL": "WARNING",
    }
    setup = subprocess.run(
        [sys.executable, "-c", SERVER_SETUP], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert setup.returncode == 0, setup.stderr
    tokens = json.loads(setup.stdout.strip().splitlines()[-1])
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "sidecar.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "4", "--worker-class", "gthread", "--threads", "4", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield f"127.0.0.1:{port}", tokens
    finally:
        server.terminate()
        server.wait(timeout=30)


def _post(address: str, token: str, payload: dict, url: str = URL) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(address, timeout=120)
    try:
        conn.request(
            "POST",
            url,
            body=json.dumps(payload),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_eight_clients_posting_at_once_get_every_record_logged_once(mariadb_server_app, mariadb_url):
    address, tokens = mariadb_server_app
    start = threading.Barrier(CLIENTS)

    def pipeline(n: int) -> list[tuple[int, dict]]:
        start.wait()
        answers = []
        for i in range(RECORDS_PER_CLIENT):
            output = hashlib.sha256(f"{n}-{i}".encode()).hexdigest()
            answers.append(_post(address, tokens[n], body(external_id=f"img-{i}", output_sha256=output)))
        # Every thread now sends the same submission of one client at once: one record, seven replays.
        start.wait()
        answers.append(_post(address, tokens[0], body(external_id="shared")))
        return answers

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(pipeline, range(CLIENTS)))

    statuses = [status for answers in results for status, _ in answers[:-1]]
    assert statuses == [201] * CLIENTS * RECORDS_PER_CLIENT, {s for s in statuses if s != 201}
    shared = sorted(answers[-1][0] for answers in results)
    assert shared == [200] * (CLIENTS - 1) + [201]
    assert len({answers[-1][1]["id"] for answers in results}) == 1

    conn = connect(mariadb_url, read_only=True)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT c.name, r.external_id, r.log_index FROM provenance_generationrecord r"
                " JOIN provenance_apiclient c ON c.id = r.client_id"
            )
            records = {(name, external_id): index for name, external_id, index in cur.fetchall()}
            cur.execute("SELECT `index`, kind, data, leaf_hash FROM provenance_logentry ORDER BY `index`")
            entries = cur.fetchall()
            cur.execute("SELECT size FROM provenance_loghead")
            (size,) = cur.fetchone()
    finally:
        conn.close()
    total = CLIENTS * RECORDS_PER_CLIENT + 1
    assert len(records) == total
    assert [index for index, *_ in entries] == list(range(total)) and size == total
    payloads = {index: json.loads(data) for index, kind, data, _ in entries if kind == "generation_record"}
    logged = {(p["client"], p["external_id"]): index for index, p in payloads.items()}
    assert len(payloads) == total and logged == records  # each record once, at the index it keeps
    assert all(bytes(leaf) == merkle.hash_leaf(bytes(data)) for _, _, data, leaf in entries)
