"""POST /api/v1/provenance/images: pipelines get their generated images back marked (IPTC XMP + C2PA)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess

import c2pa
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from provenance.auth import api_client_create
from provenance.models import ContentItem, GenerationRecord, Generator, LogEntry, Origin
from provenance.services import ObservedItem, content_items_apply
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db

URL = "/api/v1/provenance/images"
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@pytest.fixture
def generator():
    return Generator.objects.create(name="sdxl-product-shots", provider="Example Imaging", version="1.0")


@pytest.fixture
def token():
    return api_client_create(name="image-pipeline", scopes=["images:mark"], actor="test").token


@pytest.fixture
def mark(client, token, generator):
    def mark(data: bytes | None = None, *, name="shot.jpg", auth: str | None = None, **fields):
        form = {
            "generator": "sdxl-product-shots",
            "generator_version": "1.0",
            "prompt_text": "a blister pack of vitamin D on a white table",
            "generated_at": "2026-01-31T09:30:00Z",
            "external_id": "shot-0001",
            "parameters": json.dumps({"seed": 7}),
        }
        form.update(fields)
        form = {k: v for k, v in form.items() if v is not ...}
        if data is not None:
            form["image"] = SimpleUploadedFile(name, data)
        headers = {"Authorization": auth if auth is not None else f"Bearer {token}"}
        return client.post(URL, data=form, headers=headers)

    return mark


def assert_error(response, status: int, code: str, fields: tuple[str, ...] = ()):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert sorted(error["fields"]) == sorted(fields), error
    return error


def read_c2pa(data: bytes, mime: str, ca_pem: str) -> tuple[str, dict]:
    context = c2pa.Context.from_dict({"trust": {"trust_anchors": ca_pem}, "verify": {"verify_trust": True}})
    with c2pa.Reader(mime, io.BytesIO(data), context=context) as reader:
        return reader.get_validation_state(), reader.get_active_manifest()


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp"])
def test_the_marked_image_reads_back_as_trusted_c2pa_with_the_generative_source_type(fmt, mark, c2pa_signing):
    response = mark(image_bytes(fmt), name=f"shot.{fmt}")

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == MIME[fmt]
    body = response.content
    state, manifest = read_c2pa(body, MIME[fmt], c2pa_signing.ca_pem)
    assert state == "Trusted"
    [actions] = [
        a["data"]["actions"] for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")
    ]
    assert actions[0]["action"] == "c2pa.created"
    assert actions[0]["digitalSourceType"] == TRAINED
    assert actions[0]["softwareAgent"] == {"name": "sdxl-product-shots", "version": "1.0"}
    assert manifest["claim_generator_info"][0]["name"] == "Provenant"


def test_exiftool_reads_the_iptc_digital_source_type(mark, c2pa_signing, tmp_path):
    response = mark(image_bytes("jpg"))
    path = tmp_path / "marked.jpg"
    path.write_bytes(response.content)

    out = subprocess.run(
        ["exiftool", "-j", "-XMP-iptcExt:DigitalSourceType", "-XMP-xmp:CreatorTool", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tags = json.loads(out)[0]
    assert tags["DigitalSourceType"] == TRAINED
    assert tags["CreatorTool"] == "sdxl-product-shots 1.0"


def test_the_record_is_registered_for_the_exact_bytes_returned(mark, c2pa_signing):
    response = mark(image_bytes("png"), name="shot.png", inputs=f"{'a' * 64},{'b' * 64}")

    record = GenerationRecord.objects.get()
    digest = hashlib.sha256(response.content).hexdigest()
    assert record.output_sha256 == digest == response["Provenant-Output-SHA256"]
    assert record.output_media_type == "image/png"
    assert record.input_sha256s == ["a" * 64, "b" * 64]
    assert record.parameters == {"seed": 7}
    assert record.prompt_sha256 == hashlib.sha256(b"a blister pack of vitamin D on a white table").hexdigest()
    assert response["Provenant-Record-Id"] == str(record.pk)
    assert response["Location"].endswith(f"/api/v1/provenance/records/{record.pk}")
    entry = LogEntry.objects.get(index=record.log_index)
    assert entry.kind == "generation_record"
    assert b"vitamin" not in bytes(entry.data_bytes)


def test_registry_content_with_the_marked_bytes_becomes_synthetic(mark, c2pa_signing):
    digest = hashlib.sha256(mark(image_bytes("jpg")).content).hexdigest()
    from django.utils import timezone

    content_items_apply(
        store_code="default",
        surface="product_image",
        observed=[
            ObservedItem(store_code="default", surface="product_image", magento_id=5, content_sha256=digest)
        ],
        covered_ids=[5],
        seen_at=timezone.now(),
        rules=[],
    )
    item = ContentItem.objects.get()
    assert item.origin == Origin.SYNTHETIC
    assert item.origin_evidence[0]["kind"] == "generation_record"


def test_an_edit_may_declare_a_composite_source_type(mark, c2pa_signing):
    response = mark(image_bytes("jpg"), digital_source_type="compositeWithTrainedAlgorithmicMedia")
    _, manifest = read_c2pa(response.content, "image/jpeg", c2pa_signing.ca_pem)
    [actions] = [
        a["data"]["actions"] for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")
    ]
    assert actions[0]["digitalSourceType"] == COMPOSITE


def bomb_png() -> bytes:
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"%PDF-1.7 not an image", 415, "unsupported_media_type"),
        (image_bytes("gif"), 415, "unsupported_media_type"),
        (image_bytes("jpg", size=(400, 300))[:900], 400, "invalid_image"),
        (bomb_png(), 400, "image_too_large"),
        (b"", 400, "invalid"),
    ],
    ids=["pdf", "gif", "truncated-jpeg", "decompression-bomb", "empty"],
)
def test_images_that_cannot_be_marked_get_a_4xx_and_nothing_is_recorded(
    mark, c2pa_signing, data, status, code
):
    response = mark(data)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not GenerationRecord.objects.exists()
    assert not LogEntry.objects.exists()


def test_an_image_over_the_byte_limit_is_a_413(mark, c2pa_signing, settings):
    settings.IMAGE_MARK_MAX_BYTES = 2048
    assert_error(
        mark(image_bytes("png", size=(300, 300), color=(1, 2, 3), compress_level=0)), 413, "payload_too_large"
    )


def test_an_image_over_the_pixel_limit_is_refused(mark, c2pa_signing, settings):
    settings.IMAGE_MARK_MAX_PIXELS = 1000
    assert_error(mark(image_bytes("jpg")), 400, "image_too_large")


def test_an_image_that_already_carries_a_manifest_is_a_409(mark, c2pa_signing):
    marked = mark(image_bytes("jpg")).content
    assert_error(mark(marked, external_id="shot-0002"), 409, "already_marked")


def vendor_signed(data: bytes, mime: str) -> tuple[bytes, str]:
    """``data`` signed by a generator vendor's own C2PA certificate (another organisation's CA)."""
    from provenance.standards.content_credentials import (
        SigningCredentials,
        created_manifest,
        development_credentials,
        manifest_sign,
    )

    vendor = development_credentials(organisation="Example Vendor AI")
    manifest = created_manifest(
        title="vendor output",
        digital_source_type=TRAINED,
        generator="vendor-image-model",
        generator_version="7",
        claim_generator="VendorStudio",
        claim_generator_version="2.0",
    )
    credentials = SigningCredentials.load(vendor.chain_pem, vendor.key_pem)
    return manifest_sign(data, mime, manifest=manifest, credentials=credentials), vendor.ca_pem


@pytest.mark.parametrize("size", [(64, 48), (400, 300)])
def test_a_vendors_manifest_is_kept_as_the_parent_ingredient(mark, c2pa_signing, size):
    """Code of Practice Measure 1.2: an existing C2PA manifest is kept, not stripped or refused
    (small images keep their bytes, larger ones are watermarked and re-encoded)."""
    original, vendor_ca = vendor_signed(image_bytes("jpg", size=size), "image/jpeg")

    response = mark(original)

    assert response.status_code == 201, response.content
    state, manifest = read_c2pa(response.content, "image/jpeg", c2pa_signing.ca_pem + vendor_ca)
    assert state == "Trusted"
    [actions] = [
        a["data"]["actions"] for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")
    ]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited"]
    assert actions[0]["digitalSourceType"] == TRAINED
    [parent] = manifest["ingredients"]
    assert parent["relationship"] == "parentOf"
    assert parent["title"] == "vendor output"
    context = c2pa.Context.from_dict(
        {"trust": {"trust_anchors": c2pa_signing.ca_pem + vendor_ca}, "verify": {"verify_trust": True}}
    )
    with c2pa.Reader("image/jpeg", io.BytesIO(response.content), context=context) as reader:
        store = json.loads(reader.json())
    claims = [m["claim_generator_info"][0]["name"] for m in store["manifests"].values()]
    assert sorted(claims) == ["Provenant", "VendorStudio"]
    assert GenerationRecord.objects.get().output_sha256 == hashlib.sha256(response.content).hexdigest()


def test_an_image_with_this_registrys_watermark_but_no_metadata_is_a_409(mark, c2pa_signing):
    from PIL import Image

    marked = mark(image_bytes("png", size=(400, 300))).content
    stripped = io.BytesIO()
    Image.open(io.BytesIO(marked)).convert("RGB").save(stripped, "PNG")  # XMP and C2PA gone

    error = assert_error(mark(stripped.getvalue(), external_id="shot-0002"), 409, "already_marked")
    assert str(GenerationRecord.objects.get().pk) in error["message"]


def test_an_external_id_is_marked_once(mark, c2pa_signing):
    assert mark(image_bytes("jpg")).status_code == 201
    error = assert_error(mark(image_bytes("jpg", color=(1, 1, 1))), 409, "conflict")
    assert "shot-0001" in error["message"]
    assert GenerationRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"generator": "unknown-model"}, ("generator",)),
        ({"parameters": "{not json"}, ("parameters",)),
        ({"parameters": "[1, 2]"}, ("parameters",)),
        ({"inputs": "abc"}, ("inputs.0",)),
        ({"digital_source_type": "digitalCapture"}, ("digital_source_type",)),
        ({"generated_at": "2026-01-31T09:30:00"}, ("generated_at",)),
        ({"generated_at": "0001-01-01T00:00:00+23:59"}, ("generated_at",)),
        ({"generated_at": "1969-12-31T23:59:59Z"}, ("generated_at",)),
        ({"prompt_text": ...}, ("prompt_sha256",)),
        ({"colour": "blue"}, ("colour",)),
        ({"title": "a\u0001b"}, ("title",)),
        ({"generator_version": "1.\u001f0"}, ("generator_version",)),
        ({"title": "\ufffe"}, ("title",)),
    ],
)
def test_invalid_fields_are_named_in_a_400(mark, c2pa_signing, fields, expected):
    assert_error(mark(image_bytes("jpg"), **fields), 400, "invalid", expected)
    assert not GenerationRecord.objects.exists()


def test_a_missing_image_is_named(mark, c2pa_signing):
    assert_error(mark(None), 400, "invalid", ("image",))


def test_without_signing_credentials_it_answers_503_and_records_nothing(mark):
    error = assert_error(mark(image_bytes("jpg")), 503, "signing_unavailable")
    assert "PROVENANT_C2PA_CERT_FILE" in error["message"]
    assert not GenerationRecord.objects.exists()


def test_a_token_without_the_images_scope_is_refused(mark, c2pa_signing):
    other = api_client_create(name="cms-pipeline", scopes=["records:write"], actor="test").token
    assert_error(mark(image_bytes("jpg"), auth=f"Bearer {other}"), 403, "permission_denied")
    assert_error(mark(image_bytes("jpg"), auth=""), 401, "not_authenticated")


def test_it_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", headers={"Accept": "application/json"}).json()
    operation = schema["paths"]["/api/v1/provenance/images"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"201", "400", "409", "413", "415", "503"} <= set(operation["responses"])


def test_pausing_generation_with_the_audit_switch_makes_marking_answer_503(mark, c2pa_signing, settings):
    from disclosure.services import audit_switch_set

    audit_switch_set(store_code="default", surface="product_image", pause_generation=True)
    response = mark(image_bytes("jpg"))
    assert_error(response, 503, "ingest_paused")
    assert response["Retry-After"] == str(settings.DISCLOSURE_RETRY_AFTER_SECONDS)
    assert not GenerationRecord.objects.exists()

    audit_switch_set(store_code="default", surface="product_image", pause_generation=False)
    assert mark(image_bytes("jpg")).status_code == 201


def test_too_many_form_fields_get_the_json_error_shape(mark, c2pa_signing):
    extra = {f"field{i}": "x" for i in range(1500)}
    response = mark(image_bytes("jpg"), **extra)
    assert response["Content-Type"] == "application/json"
    assert_error(response, 400, "too_many_fields")
    assert not GenerationRecord.objects.exists()


def test_a_form_text_field_beyond_the_memory_limit_gets_the_json_error_shape(mark, c2pa_signing):
    response = mark(image_bytes("jpg"), title="x" * 3_000_000)
    assert response["Content-Type"] == "application/json"
    assert_error(response, 413, "payload_too_large")
    assert not GenerationRecord.objects.exists()
