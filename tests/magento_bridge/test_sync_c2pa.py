"""C2PA manifests in catalog images: signed files are synthetic with the manifest as evidence, changed
files are suspected, broken manifest stores do not stop the sync, and marked output is recognised."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.images import image_mark
from provenance.models import ApiClient, C2paState, ContentItem, Generator, Origin

pytestmark = pytest.mark.django_db

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


@pytest.fixture
def signed_store(make_store, mariadb_url, c2pa_signing, c2pa_credentials):
    return make_store(mariadb_url, products=60, c2pa=c2pa_credentials)


def full_sync(store) -> SyncRun:
    run = sync_run(full=True, media=store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def images(**filters):
    return ContentItem.objects.filter(surface="product_image", **filters)


def test_signed_images_are_synthetic_with_a_trusted_manifest_as_evidence(signed_store):
    full_sync(signed_store)

    trusted = images(c2pa_state=C2paState.TRUSTED)
    assert signed_store.summary.c2pa_images > 0
    assert len(set(trusted.values_list("file_path", flat=True))) == signed_store.summary.c2pa_images
    for item in trusted:
        assert item.origin == Origin.SYNTHETIC
        assert item.digital_source_type == TRAINED
        assert item.origin_evidence[0]["kind"] == "c2pa_manifest"  # signed evidence before unsigned
        manifest = item.media_evidence[0]["manifest"]
        assert manifest["validation_state"] == "Trusted"
        assert manifest["actions"][0]["action"] == "c2pa.created"
        assert manifest["signer"] == "Provenant test content signer (development)"


def test_images_changed_after_signing_are_suspected_with_the_hash_mismatch(signed_store):
    full_sync(signed_store)

    invalid = images(c2pa_state=C2paState.INVALID)
    assert signed_store.summary.c2pa_tampered_images > 0
    assert len(set(invalid.values_list("file_path", flat=True))) == signed_store.summary.c2pa_tampered_images
    for item in invalid:
        assert item.origin == Origin.SUSPECTED
        assert "assertion.dataHash.mismatch" in item.origin_evidence[0]["detail"]


def test_without_trust_anchors_signed_images_are_valid_and_still_synthetic(signed_store, settings):
    settings.C2PA_TRUST_ANCHORS = ""
    full_sync(signed_store)
    assert images(c2pa_state=C2paState.TRUSTED).count() == 0
    valid = images(c2pa_state=C2paState.VALID)
    assert valid.exists() and all(item.origin == Origin.SYNTHETIC for item in valid)


def test_new_trust_anchors_make_the_sync_examine_files_again(signed_store, settings):
    anchors = settings.C2PA_TRUST_ANCHORS
    settings.C2PA_TRUST_ANCHORS = ""
    full_sync(signed_store)
    settings.C2PA_TRUST_ANCHORS = anchors

    run = full_sync(signed_store)
    assert run.media["files_read"] == run.media["files_seen"]
    assert images(c2pa_state=C2paState.TRUSTED).exists()
    assert not images(c2pa_state=C2paState.VALID).exists()
    again = full_sync(signed_store)
    missing = [where for kind, where in signed_store.summary.faults if kind == "missing_file"]
    assert again.media["files_read"] == len(missing)  # only a file that cannot be stat'ed is tried again


def test_a_broken_manifest_store_is_reported_and_the_sync_goes_on(signed_store):
    full_sync(signed_store)
    item = images(c2pa_state=C2paState.TRUSTED).first()
    path = signed_store.media_root / "catalog" / "product" / item.file_path.lstrip("/")
    data = path.read_bytes()
    start = data.find(b"jumb")
    path.write_bytes(data[: start + 20] + b"\x00" * 40 + data[start + 60 :])

    full_sync(signed_store)
    item.refresh_from_db()
    assert item.c2pa_state == C2paState.UNREADABLE
    assert any(e["kind"] == "unreadable" and e["detail"].startswith("C2PA") for e in item.media_evidence)
    assert item.origin == Origin.SYNTHETIC  # its IPTC mark still stands


def test_an_image_marked_by_a_pipeline_is_recognised_when_it_reaches_the_catalog(signed_store):
    full_sync(signed_store)
    target = images(origin=Origin.UNKNOWN, problem_code="", file_path__endswith=".jpg").first()
    path = signed_store.media_root / "catalog" / "product" / target.file_path.lstrip("/")
    generator = Generator.objects.create(name="sdxl-product-shots", version="1.0")
    marked = image_mark(
        data=path.read_bytes(),
        generator=generator,
        generator_version="1.0",
        prompt_sha256="0" * 64,
        input_sha256s=[],
        parameters={},
        generated_at=datetime(2026, 1, 31, tzinfo=UTC),
        external_id="catalog-shot-1",
        actor=ApiClient.objects.create(name="image-pipeline", scopes=["images:mark"]),
    )
    path.write_bytes(marked.data)

    full_sync(signed_store)
    for item in images(file_path=target.file_path):
        assert item.origin == Origin.SYNTHETIC
        assert item.origin_evidence[0]["kind"] == "generation_record"  # a registered record wins
        assert item.c2pa_state == C2paState.TRUSTED
        assert item.content_sha256 == marked.sha256


def test_reading_media_with_several_workers_gives_what_one_worker_gives(signed_store, settings):
    from magento_bridge.models import MediaFile

    def snapshot():
        return sorted(MediaFile.objects.values_list("path", "sha256", "problem_code", "marks"))

    settings.MEDIA_WORKERS = 1
    full_sync(signed_store)
    one = snapshot()
    MediaFile.objects.all().delete()
    settings.MEDIA_WORKERS = 4
    run = full_sync(signed_store)
    assert run.media["files_read"] == len(one)
    assert snapshot() == one
