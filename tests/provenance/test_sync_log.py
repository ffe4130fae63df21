"""The sync writes every registry change into the transparency log, in the same transaction."""

from __future__ import annotations

import json

import pytest

from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.integrity import integrity_check
from provenance.log import log_size
from provenance.models import ContentItem, LogEntry, Origin, SourceRule

pytestmark = pytest.mark.django_db


def entry(index: int) -> dict:
    return json.loads(bytes(LogEntry.objects.get(index=index).data))


def full_sync(store) -> SyncRun:
    run = sync_run(full=True, media=store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def test_every_item_points_at_its_latest_entry_with_its_hashes(mariadb_store):
    full_sync(mariadb_store)

    assert log_size() == ContentItem.objects.count()
    for item in ContentItem.objects.all()[:200]:
        data = entry(item.latest_log_index)
        assert data["kind"] == "item.added"
        assert (data["store_code"], data["surface"], data["magento_id"], data["part_key"]) == (
            item.store_code,
            item.surface,
            item.magento_id,
            item.part_key,
        )
        assert data["content_sha256"] == item.content_sha256
        assert data["state_sha256"] == item.state_sha256


def test_entries_carry_hashes_and_never_content(mariadb_store):
    full_sync(mariadb_store)
    block = ContentItem.objects.filter(surface="cms_block").first()
    data = entry(block.latest_log_index)
    assert set(data) <= {
        "kind",
        "time",
        "store_code",
        "surface",
        "magento_id",
        "part_key",
        "content_sha256",
        "state_sha256",
        "origin",
        "origin_source",
        "evidence_sha256",
    }


def test_an_unchanged_resync_appends_nothing(mariadb_store):
    full_sync(mariadb_store)
    size = log_size()
    full_sync(mariadb_store)
    sync_run(media=mariadb_store.media)
    assert log_size() == size


def test_removals_and_origin_decisions_are_logged(mariadb_store):
    full_sync(mariadb_store)
    store = mariadb_store
    gone = store.sql("SELECT MAX(entity_id) FROM catalog_product_entity")[0][0]
    store.sql("DELETE FROM catalog_product_entity WHERE entity_id = %s", (gone,))
    SourceRule.objects.create(
        name="Cross-sells come from reco-v3",
        surface="recommendation",
        link_type="cross_sell",
        declared_origin=Origin.SYNTHETIC,
        generator="reco-v3",
    )
    full_sync(store)

    removed = ContentItem.objects.filter(magento_id=gone, removed_at__isnull=False)
    assert removed.exists()
    assert {entry(i.latest_log_index)["kind"] for i in removed} == {"item.removed"}
    decided = ContentItem.objects.filter(
        surface="recommendation", origin=Origin.SYNTHETIC, removed_at__isnull=True
    )
    assert decided.exists()
    for item in decided[:20]:
        data = entry(item.latest_log_index)
        assert data["kind"] == "item.origin"
        assert data["origin"] == "synthetic" and data["origin_source"] == "rule"
        assert data["evidence_sha256"]


def test_a_failed_sync_leaves_the_log_entries_of_its_committed_batches_only(mariadb_store, settings):
    full_sync(mariadb_store)
    size = log_size()
    mariadb_store.sql(
        "UPDATE catalog_product_entity_media_gallery_value SET label = 'new' WHERE store_id = 0"
    )
    dropped = []

    def progress(phase, done, total):
        if phase == "cms_block" and not dropped:  # products are applied by now
            mariadb_store.sql("DROP TABLE cms_page_store")
            dropped.append(phase)

    run = sync_run(full=True, media=mariadb_store.media, progress=progress)
    assert dropped and run.status == SyncRun.Status.FAILED
    assert "cms_page_store" in run.error
    # The product batches committed before the failure, each with its entries; nothing else did.
    relabelled = ContentItem.objects.filter(label="new")
    assert run.batches > 0 and relabelled.count() == run.counts["product_image"]["changed"] > 0
    assert log_size() > size
    assert all(item.latest_log_index >= size for item in relabelled)
    assert ContentItem.objects.filter(latest_log_index__gte=size).count() == relabelled.count()
    assert integrity_check().ok
