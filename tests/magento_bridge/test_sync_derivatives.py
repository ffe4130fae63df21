"""What shoppers receive: the sync finds Magento's cached derivatives of synthetic and suspected
images, records which layers survive, and inspects a file again only when it changed."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from magento_bridge.demo.images import DERIVATIVE_ROLES, render_derivative
from magento_bridge.derivatives import derivatives_check
from magento_bridge.media import HttpMediaBase
from magento_bridge.models import Derivative, SyncRun
from magento_bridge.selectors import derivative_layer_counts, derivatives_without_marks
from magento_bridge.services import sync_run
from provenance.marks import image_mark_save, marks_embed
from provenance.models import ApiClient, ContentItem, GenerationRecord, Generator, Origin
from tests.provenance.test_watermark import photo

pytestmark = pytest.mark.django_db

CHECKED = (Origin.SYNTHETIC, Origin.SUSPECTED)
ROLE_265 = next(h for h, side in DERIVATIVE_ROLES.items() if side == 265)


def sync(store, *, full: bool = False) -> SyncRun:
    run = sync_run(full=full, media=store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def cache_dir(store) -> Path:
    return store.media_root / "catalog" / "product" / "cache"


def derivative_files(store) -> dict[str, list[str]]:
    """Gallery file -> the derivative paths on disk (relative to catalog/product), read with os.walk."""
    found: dict[str, list[str]] = {}
    root = cache_dir(store)
    for directory, _, names in os.walk(root):
        for name in names:
            relative = Path(directory, name).relative_to(root)
            cache_hash, *rest = relative.parts
            found.setdefault("/" + "/".join(rest), []).append(f"/cache/{relative.as_posix()}")
    return found


def synthetic_item(store) -> ContentItem:
    files = derivative_files(store)
    return next(
        i
        for i in ContentItem.objects.filter(
            surface="product_image", origin=Origin.SYNTHETIC, store_code="default"
        )
        if i.file_path in files
    )


def test_derivatives_of_synthetic_and_suspected_images_are_recorded_and_human_ones_are_not(mariadb_store):
    run = sync(mariadb_store, full=True)

    on_disk = derivative_files(mariadb_store)
    images = ContentItem.objects.filter(surface="product_image", removed_at__isnull=True)
    checked = [i for i in images if i.origin in CHECKED and i.file_path in on_disk]
    human = [i for i in images if i.origin not in CHECKED and i.file_path in on_disk]
    assert checked and human, "the demo store writes derivatives of both"
    expected = {(i.pk, path) for i in checked for path in on_disk[i.file_path]}
    assert set(Derivative.objects.values_list("item_id", "path")) == expected
    assert not Derivative.objects.filter(item__in=human).exists()

    stats = run.media["derivatives"]
    assert stats["found"] == len(expected)
    assert stats["inspected"] == len({path for _, path in expected})  # one read serves both store views
    kept = Derivative.objects.exclude(xmp_source_type="")
    assert kept.exists() and all(d.xmp_source_type.endswith("trainedAlgorithmicMedia") for d in kept)
    assert all(d.width == d.height == DERIVATIVE_ROLES[d.cache_hash] for d in Derivative.objects.all())
    unmarked = derivatives_without_marks()
    assert unmarked.count() == stats["without_marks"] > 0
    assert all(d.item.origin == Origin.SYNTHETIC and not d.marks_carried for d in unmarked)
    assert derivatives_without_marks("de").count() + derivatives_without_marks("default").count() == (
        unmarked.count()
    )
    counts = derivative_layer_counts()
    assert counts["xmp"] == kept.filter(item__origin=Origin.SYNTHETIC).count()
    assert counts["none"] == unmarked.count()
    assert counts["images_unmarked"] == unmarked.values("item").distinct().count() > 0


def test_a_derivative_re_encoded_without_xmp_is_still_matched_by_watermark_and_fingerprint(mariadb_store):
    sync(mariadb_store, full=True)
    generator = Generator.objects.create(name="demo studio", version="1")
    client = ApiClient.objects.create(name="pipeline", scopes=[])
    buffer = io.BytesIO()
    Image.fromarray(photo(5, (640, 640))).save(buffer, "JPEG", quality=95)
    marks = marks_embed(buffer.getvalue())
    digest = hashlib.sha256(marks.data).hexdigest()
    record = GenerationRecord.objects.create(
        generator=generator,
        generator_version="1",
        prompt_sha256=digest,
        output_sha256=digest,
        output_media_type="image/jpeg",
        generated_at=timezone.now(),
        client=client,
        external_id="shot-1",
        submission_sha256=digest,
    )
    image_mark_save(record=record, marks=marks)
    item = synthetic_item(mariadb_store)
    target = cache_dir(mariadb_store) / "0f" / item.file_path.lstrip("/")
    target.parent.mkdir(parents=True)
    target.write_bytes(render_derivative(marks.data, 265))  # GD-like: resized, framed, no metadata

    run = sync(mariadb_store)

    derivative = Derivative.objects.get(item=item, cache_hash="0f")
    assert derivative.xmp_source_type == "" and derivative.c2pa_state == ""
    assert derivative.watermark_id == f"{marks.watermark_id:012x}"
    assert derivative.watermark_record == record
    assert derivative.fingerprint_record == record and derivative.fingerprint_distance is not None
    assert derivative.marks_carried == ["watermark"] and derivative.provenance_recovered
    assert derivative not in derivatives_without_marks()
    assert run.media["derivatives"]["inspected"] == 1  # only the new file


def test_a_truncated_derivative_is_recorded_as_a_problem_and_the_sync_goes_on(mariadb_store):
    sync(mariadb_store, full=True)
    item = synthetic_item(mariadb_store)
    broken = Derivative.objects.filter(item=item).first()
    target = mariadb_store.media_root / "catalog" / "product" / broken.path.lstrip("/")
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    outside = mariadb_store.media_root / "outside.jpg"
    outside.write_bytes(data)
    # A symbolic link planted in the cache, named like a wanted derivative, is never followed.
    planted = cache_dir(mariadb_store) / "ff" / item.file_path.lstrip("/")
    planted.parent.mkdir(parents=True)
    planted.symlink_to(outside)

    run = sync(mariadb_store)

    broken.refresh_from_db()
    assert broken.problem_code == "truncated" and "truncated" in broken.problem
    assert run.media["derivatives"]["inspected"] == 1 and run.media["derivatives"]["problems"] >= 1
    assert not Derivative.objects.filter(cache_hash="ff").exists()
    assert broken not in derivatives_without_marks()  # a problem, not an unmarked file
    assert run.total("added") == run.total("removed") == 0


def test_unchanged_derivatives_are_not_inspected_again(mariadb_store):
    first = sync(mariadb_store, full=True)
    checked_at = dict(Derivative.objects.values_list("pk", "checked_at"))
    assert first.media["derivatives"]["inspected"] > 1

    second = sync(mariadb_store)
    assert second.media["derivatives"]["inspected"] == 0
    assert second.media["derivatives"]["found"] == first.media["derivatives"]["found"]
    assert dict(Derivative.objects.values_list("pk", "checked_at")) == checked_at

    touched = Derivative.objects.first()
    target = mariadb_store.media_root / "catalog" / "product" / touched.path.lstrip("/")
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    third = sync(mariadb_store)
    assert third.media["derivatives"]["inspected"] == 1
    changed = {pk for pk, at in Derivative.objects.values_list("pk", "checked_at") if at != checked_at[pk]}
    assert changed == set(Derivative.objects.filter(path=touched.path).values_list("pk", flat=True))


def test_derivatives_of_a_removed_image_are_dropped(mariadb_store):
    store = mariadb_store
    sync(store, full=True)
    gone, kept = list(
        ContentItem.objects.filter(surface="product_image", origin=Origin.SYNTHETIC, store_code="default")
        .filter(pk__in=Derivative.objects.values("item"))
        .exclude(file_path="")[:2]
    )
    kept_rows = set(Derivative.objects.filter(item=kept).values_list("pk", "checked_at"))
    store.sql(
        f"DELETE FROM {store.t('catalog_product_entity_media_gallery_value_to_entity')} WHERE value_id = %s",
        (gone.gallery_value_id,),
    )

    run = sync(store, full=True)

    assert ContentItem.objects.get(pk=gone.pk).removed_at is not None
    assert not Derivative.objects.filter(item__gallery_value_id=gone.gallery_value_id).exists()
    assert run.media["derivatives"]["dropped"] == 2 * len(derivative_files(store)[gone.file_path])
    assert set(Derivative.objects.filter(item=kept).values_list("pk", "checked_at")) == kept_rows


def test_a_media_url_cannot_discover_derivatives_and_says_so(settings):
    settings.MAGENTO_DERIVATIVES = "on"
    stats = derivatives_check(
        store_codes=["default"], source=HttpMediaBase("https://cdn.example.test/media/")
    )
    assert not stats.discoverable and "crypt key" in stats.reason
    assert not Derivative.objects.exists()


def test_derivative_checks_can_be_switched_off(mariadb_store, settings):
    settings.MAGENTO_DERIVATIVES = "off"
    run = sync(mariadb_store, full=True)
    assert run.media["derivatives"]["enabled"] is False
    assert not Derivative.objects.exists()


def test_the_sync_command_prints_the_derivative_summary(mariadb_store):
    out = io.StringIO()
    call_command("magento_sync", "--full", "--no-progress", stdout=out)
    stats = SyncRun.objects.get().media["derivatives"]
    assert (
        f"derivatives: {stats['found']:,} found for {stats['images']:,} synthetic or suspected images, "
        f"{stats['inspected']:,} inspected"
    ) in out.getvalue()
    assert f"{stats['without_marks']:,} of synthetic images carry no mark" in out.getvalue()
