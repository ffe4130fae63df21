"""Watermark and fingerprint layers of marked images, and inspecting any image for every layer:
POST /api/v1/provenance/inspect and ``provenance_inspect``."""

from __future__ import annotations

import io
import json

import c2pa
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from PIL import Image

from provenance.auth import api_client_create
from provenance.models import GenerationRecord, Generator, ImageMark, LogEntry
from tests.conftest import image_bytes
from tests.provenance.test_image_marking_api import assert_error
from tests.provenance.test_watermark import photo

pytestmark = pytest.mark.django_db

MARK_URL = "/api/v1/provenance/images"
INSPECT_URL = "/api/v1/provenance/inspect"
INSPECT_KEYS = {
    "sha256",
    "format",
    "width",
    "height",
    "frames",
    "c2pa",
    "xmp_digital_source_type",
    "evidence",
    "watermark",
    "fingerprint",
    "provenance",
}


def jpeg(image: Image.Image, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def role_derivative(data: bytes, width: int = 265, fmt: str = "JPEG", **options) -> bytes:
    """What Magento's image cache serves for a role: resized (aspect kept), metadata gone, re-encoded."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **(options or {"quality": 80}))
    return buffer.getvalue()


@pytest.fixture
def generator():
    return Generator.objects.create(name="sdxl-product-shots", provider="Example Imaging", version="1.0")


@pytest.fixture
def tokens():
    return {
        "mark": api_client_create(name="image-pipeline", scopes=["images:mark"], actor="test").token,
        "inspect": api_client_create(name="auditor", scopes=["images:inspect"], actor="test").token,
    }


@pytest.fixture
def mark(client, tokens, generator, c2pa_signing):
    def mark(data: bytes, *, name: str = "shot.jpg", external_id: str = "shot-0001"):
        form = {
            "generator": "sdxl-product-shots",
            "generator_version": "1.0",
            "prompt_text": "a blister pack of vitamin D on a white table",
            "generated_at": "2026-01-31T09:30:00Z",
            "external_id": external_id,
            "image": SimpleUploadedFile(name, data),
        }
        response = client.post(MARK_URL, data=form, headers={"Authorization": f"Bearer {tokens['mark']}"})
        assert response.status_code == 201, response.content
        return response

    return mark


@pytest.fixture
def inspect(client, tokens):
    def inspect(data: bytes, *, token: str | None = "inspect", name: str = "derivative.jpg"):
        headers = {"Authorization": f"Bearer {tokens[token]}"} if token else {}
        return client.post(INSPECT_URL, data={"image": SimpleUploadedFile(name, data)}, headers=headers)

    return inspect


def test_marking_embeds_a_watermark_and_writes_the_fingerprint_everywhere(mark, c2pa_signing):
    response = mark(jpeg(Image.fromarray(photo(1))))

    record = GenerationRecord.objects.get()
    stored = ImageMark.objects.get(record=record)
    assert stored.watermark_id is not None
    assert response["Provenant-Watermark"] == f"embedded; id={stored.watermark_hex}"
    assert response["Provenant-Fingerprint"] == stored.iscc
    assert stored.bands.count() == 16
    payload = json.loads(bytes(LogEntry.objects.get(index=record.log_index).data_bytes))
    assert payload["image_marks"] == {"watermark_id": stored.watermark_hex, "iscc": stored.iscc}
    context = c2pa.Context.from_dict({"verify": {"verify_trust": False}})
    with c2pa.Reader("image/jpeg", io.BytesIO(response.content), context=context) as reader:
        manifest = json.loads(reader.json())["manifests"]
    (active,) = manifest.values()
    bindings = [a for a in active["assertions"] if a["label"] == "c2pa.soft-binding"]
    assert bindings[0]["data"]["alg"] == "io.iscc.v0"
    assert bindings[0]["data"]["blocks"][0]["value"]


@pytest.mark.parametrize(
    ("width", "fmt", "options"),
    [
        (265, "JPEG", {"quality": 80}),
        (140, "JPEG", {"quality": 80}),
        (240, "PNG", {}),
        (700, "WEBP", {"quality": 80}),
    ],
)
def test_a_stripped_role_derivative_resolves_to_its_generation_record(mark, inspect, width, fmt, options):
    marked = mark(jpeg(Image.fromarray(photo(1)))).content
    record = GenerationRecord.objects.get()

    response = inspect(role_derivative(marked, width, fmt, **options))

    assert response.status_code == 200, response.content
    report = response.json()
    assert set(report) == INSPECT_KEYS
    assert report["c2pa"] is None and report["xmp_digital_source_type"] == ""
    assert report["watermark"]["found"] is True
    assert report["watermark"]["record"]["record_id"] == record.pk
    assert report["fingerprint"]["match"]["record"]["record_id"] == record.pk
    assert report["provenance"] == {"via": "watermark", **report["watermark"]["record"]}


def test_the_marked_original_shows_every_layer(mark, inspect):
    marked = mark(jpeg(Image.fromarray(photo(2)))).content

    report = inspect(marked).json()

    assert report["c2pa"]["state"] == "trusted"
    assert report["xmp_digital_source_type"].endswith("/trainedAlgorithmicMedia")
    assert report["watermark"]["found"]
    # The same pixels, decoded again: a few of 256 bits at most (far inside the threshold of 31).
    assert report["fingerprint"]["match"]["record"] == report["watermark"]["record"]
    assert report["fingerprint"]["match"]["distance"] <= 8


def test_an_unrelated_image_resolves_to_nothing(mark, inspect):
    mark(jpeg(Image.fromarray(photo(1))))

    report = inspect(jpeg(Image.fromarray(photo(9)))).json()

    assert report["watermark"]["found"] is False
    assert report["fingerprint"]["match"] is None
    assert report["provenance"] is None


def test_a_tiny_image_is_marked_with_metadata_only_and_says_so(mark, inspect):
    response = mark(image_bytes("png", size=(120, 90)), name="tiny.png")

    stored = ImageMark.objects.get()
    assert stored.watermark_id is None
    assert "too small" in stored.watermark_note
    assert response["Provenant-Watermark"].startswith("none; metadata only: too small")
    report = inspect(image_bytes("png", size=(40, 30)), name="tiny.png").json()
    assert "too small" in report["watermark"]["note"]


def test_a_cmyk_jpeg_keeps_its_colour_model_and_is_marked_with_metadata_only(mark):
    cmyk = Image.fromarray(photo(1)).convert("CMYK")

    response = mark(jpeg(cmyk), name="cmyk.jpg")

    assert Image.open(io.BytesIO(response.content)).mode == "CMYK"
    assert "CMYK" in ImageMark.objects.get().watermark_note


def test_a_16_bit_png_keeps_its_depth_and_is_marked_with_metadata_only(mark):
    import numpy as np

    deep = Image.fromarray(np.asarray(Image.fromarray(photo(1)).convert("L"), dtype=np.uint16) * 257)
    buffer = io.BytesIO()
    deep.save(buffer, "PNG")
    assert buffer.getvalue()[24] == 16

    response = mark(buffer.getvalue(), name="deep.png")

    assert response.content[24] == 16
    assert "16-bit" in ImageMark.objects.get().watermark_note


def test_greyscale_and_transparent_images_keep_their_mode_and_carry_the_watermark(mark, inspect):
    grey = Image.fromarray(photo(3)).convert("L")
    marked_grey = mark(jpeg(grey), name="grey.jpg", external_id="grey").content
    rgba = Image.fromarray(photo(4)).convert("RGBA")
    rgba.putalpha(200)
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    marked_rgba = mark(buffer.getvalue(), name="alpha.png", external_id="alpha").content

    assert Image.open(io.BytesIO(marked_grey)).mode == "L"
    assert Image.open(io.BytesIO(marked_rgba)).mode == "RGBA"
    assert ImageMark.objects.filter(watermark_id__isnull=False).count() == 2
    assert inspect(role_derivative(marked_grey)).json()["watermark"]["record"]["external_id"] == "grey"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 400, "invalid_image"),
        (b"not an image at all", 415, "unsupported_media_type"),
        (jpeg(Image.fromarray(photo(1)))[:3000], 400, "invalid_image"),
    ],
    ids=["empty", "text", "truncated"],
)
def test_hostile_files_get_a_4xx_in_the_house_shape(inspect, data, status, code):
    assert_error(inspect(data), status, code)


def test_a_decompression_bomb_is_refused_before_decoding(inspect):
    from magento_bridge.demo.images import _decompression_bomb_png

    assert_error(inspect(_decompression_bomb_png(), name="bomb.png"), 400, "image_too_large")


def test_inspecting_needs_the_inspect_scope(inspect):
    data = jpeg(Image.fromarray(photo(1)))

    assert_error(inspect(data, token="mark"), 403, "permission_denied")
    assert inspect(data, token=None).status_code == 401


def test_a_missing_file_field_is_named(client, tokens):
    response = client.post(INSPECT_URL, data={}, headers={"Authorization": f"Bearer {tokens['inspect']}"})
    assert_error(response, 400, "invalid", ("image",))


def test_it_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", headers={"Accept": "application/json"}).json()
    operation = schema["paths"]["/api/v1/provenance/inspect"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"200", "400", "401", "403", "413", "415"} <= set(operation["responses"])


def test_the_command_prints_the_api_keys_as_json_lines(mark, tmp_path):
    marked = mark(jpeg(Image.fromarray(photo(1)))).content
    (tmp_path / "derivative.jpg").write_bytes(role_derivative(marked))
    out = io.StringIO()

    call_command("provenance_inspect", str(tmp_path / "derivative.jpg"), "--json", stdout=out)

    (line,) = out.getvalue().splitlines()
    report = json.loads(line)
    assert set(report) == INSPECT_KEYS | {"path"}
    assert report["provenance"]["record_id"] == GenerationRecord.objects.get().pk


def test_the_command_names_unreadable_files_and_exits_non_zero(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    err = io.StringIO()

    with pytest.raises(CommandError, match="2 of 2 files"):
        call_command(
            "provenance_inspect", str(tmp_path / "notes.txt"), str(tmp_path / "gone.jpg"), stderr=err
        )

    assert "notes.txt: Only JPEG, PNG" in err.getvalue()
    assert "cannot read" in err.getvalue() and "gone.jpg" in err.getvalue()


def test_the_command_reports_errors_as_json_lines_too(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("provenance_inspect", str(tmp_path / "notes.txt"), "--json", stdout=out)

    assert json.loads(out.getvalue())["error"]["code"] == "unsupported_media_type"
