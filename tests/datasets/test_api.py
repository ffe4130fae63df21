"""POST /api/v1/datasets: pipelines register dataset files; idempotent by SHA-256."""

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.models import DatasetVersion
from provenance.auth import api_client_create
from provenance.models import LogEntry
from tests.datasets.conftest import patients

URL = "/api/v1/datasets"
pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    return api_client_create(name="dataset-pipeline", scopes=["datasets:write"], actor="test").token


@pytest.fixture
def upload(client, token, generator, storage_dir):
    def upload(data: bytes, *, filename="patients.csv", auth=None, **fields):
        form = {"name": "api-patients", "kind": "patients", "generator": "patient-synth", **fields}
        form["file"] = SimpleUploadedFile(filename, data, content_type="text/csv")
        return client.post(URL, data=form, headers={"Authorization": auth or f"Bearer {token}"})

    return upload


def csv_bytes(seed=1, n=40) -> bytes:
    return patients(n, seed=seed).to_csv(index=False).encode()


def assert_error(response, status, code, fields=()):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and set(error["fields"]) == set(fields)


def test_it_registers_a_file_and_replays_it(upload):
    data = csv_bytes()
    first = upload(data, roles=json.dumps({"patient_id": "identifier", "age": "sensitive"}))
    assert first.status_code == 201, first.content
    body = first.json()
    assert (
        body["sha256"] == hashlib.sha256(data).hexdigest()
        and body["row_count"] == 40
        and body["version"] == 1
    )
    again = upload(data)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert DatasetVersion.objects.count() == 1 and LogEntry.objects.count() == 1


def test_it_refuses_the_same_file_under_another_name(upload):
    upload(csv_bytes())
    assert_error(upload(csv_bytes(), filename="x.csv", name="other"), 409, "conflict")


def test_it_refuses_a_ragged_file_in_the_error_shape(upload):
    assert_error(upload(b"a,b\n1,2\n3\n"), 400, "invalid", ("file",))
    assert not DatasetVersion.objects.exists()


def test_it_refuses_a_file_over_the_limit(upload, settings):
    settings.DATASET_MAX_BYTES = 1024
    assert_error(upload(csv_bytes(n=200)), 413, "payload_too_large")


def test_it_refuses_malformed_roles(upload):
    assert_error(upload(csv_bytes(), roles="{nope"), 400, "invalid", ("roles",))


def test_it_refuses_an_unknown_generator(upload):
    assert_error(upload(csv_bytes(), generator="nope"), 400, "invalid", ("generator",))


def test_it_refuses_a_token_without_the_scope(upload):
    other = api_client_create(name="records-only", scopes=["records:write"], actor="test").token
    assert_error(upload(csv_bytes(), auth=f"Bearer {other}"), 403, "permission_denied")
    assert_error(upload(csv_bytes(), auth="Bearer pvt_nope_nope"), 401, "authentication_failed")


def test_the_schema_documents_the_endpoint(client):
    schema = client.get("/api/schema/", headers={"Accept": "application/json"}).json()
    operation = schema["paths"]["/api/v1/datasets"]["post"]
    assert set(operation["responses"]) >= {"200", "201", "400", "401", "403", "409", "413"}
    assert "multipart/form-data" in operation["requestBody"]["content"]
