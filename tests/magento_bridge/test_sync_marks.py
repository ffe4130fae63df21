"""AI marks in catalog image metadata set the origin of the images that carry them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from magento_bridge.models import MediaFile, SyncRun
from magento_bridge.services import sync_run
from provenance.models import ContentItem, Origin, OriginSource

pytestmark = pytest.mark.django_db

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def full_sync(store) -> SyncRun:
    run = sync_run(full=True, media=store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def test_images_with_an_iptc_generative_source_type_are_synthetic(mariadb_store):
    full_sync(mariadb_store)

    synthetic = ContentItem.objects.filter(surface="product_image", origin=Origin.SYNTHETIC)
    files = set(synthetic.values_list("file_path", flat=True))
    assert len(files) == mariadb_store.summary.ai_marked_images
    for item in synthetic[:20]:
        assert item.origin_source == OriginSource.DETECTOR
        assert item.digital_source_type == TRAINED
        assert item.origin_evidence[0]["kind"] == "iptc_digital_source_type"
        assert item.origin_evidence[0]["strength"] == "conclusive"


def test_generator_fingerprints_only_make_an_image_suspected(mariadb_store):
    full_sync(mariadb_store)
    suspected = ContentItem.objects.filter(surface="product_image", origin=Origin.SUSPECTED)
    assert len(set(suspected.values_list("file_path", flat=True))) == mariadb_store.summary.parameters_images
    assert all(i.origin_evidence[0]["kind"] == "png_text_chunk" for i in suspected)


def test_an_independent_writer_agrees_on_which_files_are_marked(mariadb_store):
    full_sync(mariadb_store)
    marked = {
        row.path for row in MediaFile.objects.all() if any(m["strength"] == "conclusive" for m in row.marks)
    }
    root = mariadb_store.media_root / "catalog" / "product"
    listing = subprocess.run(
        [
            "exiftool",
            "-q",
            "-r",
            "-i",
            "cache",  # the role-size derivatives; test_sync_derivatives covers them
            "-if",
            "$XMP-iptcExt:DigitalSourceType",
            "-p",
            "$Directory/$FileName",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert {"/" + str(Path(p).relative_to(root)) for p in listing} == marked


def test_a_changed_file_is_examined_afresh(mariadb_store):
    full_sync(mariadb_store)
    item = ContentItem.objects.filter(surface="product_image", origin=Origin.SYNTHETIC).first()
    clean = (
        ContentItem.objects.filter(surface="product_image", origin=Origin.UNKNOWN, problem_code="")
        .exclude(file_path=item.file_path)
        .first()
    )
    target = mariadb_store.media_root / "catalog" / "product" / item.file_path.lstrip("/")
    source = mariadb_store.media_root / "catalog" / "product" / clean.file_path.lstrip("/")
    target.write_bytes(source.read_bytes())  # the marked image is replaced by an unmarked one

    full_sync(mariadb_store)
    item.refresh_from_db()
    assert item.origin == Origin.UNKNOWN and item.origin_evidence == []
