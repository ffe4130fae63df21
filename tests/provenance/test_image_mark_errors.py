"""Marking errors: the API and provenance_mark say what IMAGE_MARK_ERRORS says, word for word."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from provenance.auth import api_client_create
from provenance.images import IMAGE_MARK_ERRORS
from provenance.models import GenerationRecord, Generator
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def generator():
    return Generator.objects.create(name="g", version="1.0")


@pytest.fixture
def api(client, generator):
    """Mark through the API; returns the error (with its status), or None when the image came back."""
    token = api_client_create(name="image-pipeline", scopes=["images:mark"], actor="test").token

    def mark(data: bytes, *, external_id: str) -> dict | None:
        form = {
            "generator": "g",
            "generator_version": "1.0",
            "prompt_text": "x",
            "generated_at": "2026-01-31T09:30:00Z",
            "external_id": external_id,
        }
        response = client.post(
            "/api/v1/provenance/images",
            data={**form, "image": SimpleUploadedFile("in.jpg", data)},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code == 201:
            return None
        return {"status": response.status_code, **response.json()["error"]}

    return mark


@pytest.fixture
def cli(tmp_path, generator):
    """Mark with provenance_mark; returns the command's error message, or None when it wrote the file."""
    runs = iter(range(100))

    def mark(data: bytes, *, external_id: str) -> str | None:
        run = next(runs)
        source, target = tmp_path / f"in-{run}.jpg", tmp_path / f"out-{run}.jpg"
        source.write_bytes(data)
        args = ("--generator", "g", "--external-id", external_id)
        try:
            call_command("provenance_mark", str(source), str(target), *args, stdout=io.StringIO())
        except CommandError as exc:
            return str(exc)
        return None

    return mark


def test_every_failure_has_a_code_a_status_and_a_message():
    for reason, failure in IMAGE_MARK_ERRORS.items():
        assert failure.code and failure.message, reason
        assert 400 <= failure.status < 600, reason


def test_a_file_that_is_no_image_is_refused_in_the_same_words(api, cli, c2pa_signing):
    failure = IMAGE_MARK_ERRORS["unsupported_format"]

    error = api(b"not an image", external_id="a")
    message = cli(b"not an image", external_id="a")

    assert (error["status"], error["code"], error["message"]) == (415, failure.code, failure.message)
    assert message.endswith(f"in-0.jpg: {failure.message}")


def test_missing_credentials_are_explained_in_the_same_words(api, cli):
    failure = IMAGE_MARK_ERRORS["no_certificate"]

    error = api(image_bytes("jpg"), external_id="a")
    message = cli(image_bytes("jpg"), external_id="a")

    assert (error["status"], error["code"], error["message"]) == (503, failure.code, failure.message)
    assert message == failure.message


def test_an_external_id_used_twice_is_refused_in_the_same_words(api, cli, c2pa_signing):
    failure = IMAGE_MARK_ERRORS["external_id_used"]
    assert api(image_bytes("jpg"), external_id="shot-1") is None
    assert cli(image_bytes("jpg"), external_id="shot-1") is None
    api_record, cli_record = GenerationRecord.objects.order_by("id")

    error = api(image_bytes("jpg", color=(1, 1, 1)), external_id="shot-1")
    message = cli(image_bytes("jpg", color=(1, 1, 1)), external_id="shot-1")

    assert (error["status"], error["code"]) == (409, failure.code)
    assert error["message"] == failure.message.format(external_id="shot-1", record_id=api_record.pk)
    assert message == failure.message.format(external_id="shot-1", record_id=cli_record.pk)
