"""A generation record registered before the sync makes the matching item synthetic on sight."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.models import ApiClient, ContentItem, GenerationRecord, Generator, Origin

pytestmark = pytest.mark.django_db


def test_an_image_whose_hash_a_pipeline_registered_is_synthetic_after_the_first_sync(mariadb_store):
    run = sync_run(full=True, media=mariadb_store.media)
    assert run.status == SyncRun.Status.SUCCEEDED
    image = ContentItem.objects.filter(surface="product_image", problem_code="").first()
    digest = image.content_sha256
    ContentItem.objects.all().delete()

    generator = Generator.objects.create(name="studio-diffusion", provider="Example Labs", version="2.1")
    client = ApiClient.objects.create(name="image-pipeline")
    with transaction.atomic():
        GenerationRecord.objects.create(
            generator=generator,
            generator_version="2.1",
            output_sha256=digest,
            output_media_type="image/jpeg",
            prompt_sha256="0" * 64,
            parameters_sha256="1" * 64,
            generated_at=timezone.now(),
            client=client,
            external_id="run-1",
        )

    run = sync_run(full=True, media=mariadb_store.media)
    assert run.status == SyncRun.Status.SUCCEEDED
    matched = ContentItem.objects.filter(content_sha256=digest)
    assert matched.exists()
    for item in matched:
        assert item.origin == Origin.SYNTHETIC and item.origin_source == "detector"
        assert item.origin_evidence[0]["kind"] == "generation_record"
    again = sync_run(full=True, media=mariadb_store.media)
    assert again.total("changed") == 0, "a record-backed origin is stable across syncs"
