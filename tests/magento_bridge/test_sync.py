"""The sync against real demo stores in MariaDB (and SQLite for the embedded demo)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Count

from magento_bridge.demo import mass_update_labels, touch_products
from magento_bridge.models import MediaFile, SyncCursor, SyncRun
from magento_bridge.services import sync_run
from provenance.models import ContentItem, Origin, SourceRule

pytestmark = pytest.mark.django_db


def registry_counts(*, present_only: bool = True) -> dict[str, dict[str, int]]:
    qs = ContentItem.objects.all()
    if present_only:
        qs = qs.filter(removed_at__isnull=True)
    result: dict[str, dict[str, int]] = {}
    for row in qs.values("store_code", "surface").annotate(n=Count("id")):
        result.setdefault(row["store_code"], {})[row["surface"]] = row["n"]
    return result


def snapshot() -> list[tuple]:
    return list(
        ContentItem.objects.order_by("id").values_list(
            "store_code", "surface", "magento_id", "part_key", "state_sha256", "removed_at", "changed_at"
        )
    )


def full_sync(store, **kwargs) -> SyncRun:
    run = sync_run(full=True, media=store.media, triggered_by="test", **kwargs)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def expected(store) -> dict[str, dict[str, int]]:
    return {code: {s: n for s, n in per.items() if n} for code, per in store.summary.expected_items.items()}


def test_it_registers_every_item_the_demo_store_holds(mariadb_store):
    run = full_sync(mariadb_store)

    assert registry_counts() == expected(mariadb_store)
    for code, hidden in mariadb_store.summary.expected_hidden_images.items():
        assert (
            ContentItem.objects.filter(store_code=code, surface="product_image", is_hidden=True).count()
            == hidden
        )
    assert run.total("added") == ContentItem.objects.count()
    assert run.media["files_read"] > 0


def test_a_second_sync_changes_nothing(mariadb_store):
    full_sync(mariadb_store)
    before = snapshot()

    again = full_sync(mariadb_store)
    incremental = sync_run(media=mariadb_store.media)

    assert snapshot() == before
    for run in (again, incremental):
        assert run.total("added") == run.total("changed") == run.total("removed") == 0
    missing = MediaFile.objects.filter(problem_code="missing").count()
    assert again.media["files_read"] == missing, "only files that were missing are looked for again"


def test_the_first_incremental_sync_reads_everything(mariadb_store):
    run = sync_run(media=mariadb_store.media)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert registry_counts() == expected(mariadb_store)
    assert SyncCursor.objects.filter(updated_after__isnull=False).count() == 8  # 2 stores x 4 surfaces


def test_store_views_get_their_own_labels_and_hidden_flags(mariadb_store):
    full_sync(mariadb_store)
    store = mariadb_store
    rows = store.sql(
        "SELECT v.value_id, v.entity_id, v.label, d.label "
        f"FROM {store.t('catalog_product_entity_media_gallery_value')} v "
        f"JOIN {store.t('catalog_product_entity_media_gallery_value')} d ON d.value_id = v.value_id "
        "AND d.entity_id = v.entity_id AND d.store_id = 0 "
        "WHERE v.store_id = 2 AND v.label IS NOT NULL AND v.label <> d.label"
    )
    assert rows, "the demo store overrides some labels in store 2"
    for value_id, entity_id, de_label, default_label in rows:
        de = ContentItem.objects.get(
            store_code="de", surface="product_image", magento_id=entity_id, part_key=str(value_id)
        )
        en = ContentItem.objects.get(
            store_code="default", surface="product_image", magento_id=entity_id, part_key=str(value_id)
        )
        assert (de.label, en.label) == (de_label, default_label)

    hidden_in_de_only = store.sql(
        f"SELECT v.value_id, v.entity_id FROM {store.t('catalog_product_entity_media_gallery_value')} v "
        f"JOIN {store.t('catalog_product_entity_media_gallery_value')} d ON d.value_id = v.value_id "
        "AND d.entity_id = v.entity_id AND d.store_id = 0 "
        "WHERE v.store_id = 2 AND v.disabled = 1 AND d.disabled = 0"
    )
    assert hidden_in_de_only
    value_id, entity_id = hidden_in_de_only[0]
    items = ContentItem.objects.filter(surface="product_image", magento_id=entity_id, part_key=str(value_id))
    assert {i.store_code: i.is_hidden for i in items} == {"de": True, "default": False}


def test_image_roles_follow_the_store_view(mariadb_store):
    full_sync(mariadb_store)
    with_roles = ContentItem.objects.filter(store_code="default", surface="product_image").exclude(
        image_roles=[]
    )
    assert with_roles.exists()
    assert all(
        set(i.image_roles) <= {"image", "small_image", "thumbnail", "swatch_image"} for i in with_roles
    )
    # no_selection never becomes a role
    assert not ContentItem.objects.filter(file_path="no_selection").exists()


def test_cms_content_assigned_to_store_zero_appears_in_every_store_view(mariadb_store):
    full_sync(mariadb_store)
    store = mariadb_store
    all_store_blocks = {
        r[0] for r in store.sql(f"SELECT block_id FROM {store.t('cms_block_store')} WHERE store_id = 0")
    }
    assert all_store_blocks
    for block_id in all_store_blocks:
        items = ContentItem.objects.filter(surface="cms_block", magento_id=block_id)
        assert {i.store_code for i in items} == {"default", "de"}
        assert all(i.all_stores for i in items)

    shared = Counter(
        ContentItem.objects.filter(surface="cms_block", all_stores=False).values_list("identifier", flat=True)
    )
    reused = [ident for ident, n in shared.items() if n > 1]
    assert reused, "one identifier names different blocks in different store views"
    blocks = ContentItem.objects.filter(surface="cms_block", identifier=reused[0], all_stores=False)
    assert len({b.magento_id for b in blocks}) == len({b.store_code for b in blocks}) == 2


def test_recommendations_keep_storefront_order_and_skip_grouped_links(mariadb_store):
    full_sync(mariadb_store)
    store = mariadb_store
    rec = ContentItem.objects.filter(surface="recommendation", store_code="default").first()
    type_id = {"related": 1, "up_sell": 4, "cross_sell": 5}[rec.link_type]
    rows = store.sql(
        f"SELECT e.sku FROM {store.t('catalog_product_link')} l "
        f"JOIN {store.t('catalog_product_link_attribute_int')} p ON p.link_id = l.link_id "
        f"JOIN {store.t('catalog_product_entity')} e ON e.entity_id = l.linked_product_id "
        "WHERE l.product_id = %s AND l.link_type_id = %s ORDER BY p.value, l.link_id",
        (rec.magento_id, type_id),
    )
    assert rec.linked_skus == [r[0] for r in rows]
    assert set(ContentItem.objects.filter(surface="recommendation").values_list("link_type", flat=True)) <= {
        "related",
        "up_sell",
        "cross_sell",
    }


def test_hostile_and_broken_images_are_recorded_as_problems_and_the_sync_goes_on(mariadb_store):
    run = full_sync(mariadb_store)

    codes = set(ContentItem.objects.exclude(problem_code="").values_list("problem_code", flat=True))
    assert {"missing", "truncated", "decompression_bomb", "not_an_image"} <= codes
    assert run.total("failed") == ContentItem.objects.exclude(problem_code="").count()
    assert registry_counts() == expected(mariadb_store)
    bomb = ContentItem.objects.filter(problem_code="decompression_bomb").first()
    assert "pixels" in bomb.problem and bomb.content_sha256, "the bytes are still hashed"
    assert ContentItem.objects.filter(label__contains="<script>").exists(), "stored as Magento has it"


def test_incremental_sync_picks_up_touched_products_only(mariadb_store):
    full_sync(mariadb_store)
    store = mariadb_store
    ids = [
        r[0]
        for r in store.sql(f"SELECT entity_id FROM {store.t('catalog_product_entity')} ORDER BY entity_id")
    ][:3]
    touch_products(store.db, ids, prefix=store.prefix, new_label="Relabelled by an editor")

    run = sync_run(media=store.media)

    assert run.status == SyncRun.Status.SUCCEEDED
    # the first image of each product; store views that override the label keep theirs
    assert len(ids) <= run.counts["product_image"]["changed"] <= 2 * len(ids)
    assert run.total("added") == run.total("removed") == 0
    assert ContentItem.objects.filter(label="Relabelled by an editor", store_code="default").count() == len(
        ids
    )
    assert run.media["files_read"] == 0


def test_mass_updates_are_missed_by_incremental_syncs_and_caught_by_a_full_reconcile(mariadb_store):
    full_sync(mariadb_store)
    store = mariadb_store
    ids = [
        r[0]
        for r in store.sql(f"SELECT entity_id FROM {store.t('catalog_product_entity')} ORDER BY entity_id")
    ][:2]
    mass_update_labels(store.db, ids, prefix=store.prefix, new_label="Mass-updated label")

    sync_run(media=store.media)
    assert not ContentItem.objects.filter(label="Mass-updated label").exists()

    run = full_sync(store)
    assert ContentItem.objects.filter(label="Mass-updated label", store_code="default").count() == len(ids)
    assert run.total("changed") >= len(ids)


def test_removals_are_detected_and_items_come_back(mariadb_store):
    full_sync(mariadb_store)
    store = mariadb_store
    gone_product = store.sql(f"SELECT MAX(entity_id) FROM {store.t('catalog_product_entity')}")[0][0]
    store.sql(f"DELETE FROM {store.t('catalog_product_entity')} WHERE entity_id = %s", (gone_product,))
    value_id, entity_id = store.sql(
        f"SELECT value_id, entity_id FROM {store.t('catalog_product_entity_media_gallery_value_to_entity')} "
        "WHERE entity_id <> %s ORDER BY value_id LIMIT 1",
        (gone_product,),
    )[0]
    store.sql(
        f"DELETE FROM {store.t('catalog_product_entity_media_gallery_value_to_entity')} WHERE value_id = %s",
        (value_id,),
    )
    block_id = store.sql(
        f"SELECT block_id FROM {store.t('cms_block_store')} WHERE store_id = 0 ORDER BY block_id"
    )[0][0]
    store.sql(f"UPDATE {store.t('cms_block_store')} SET store_id = 1 WHERE block_id = %s", (block_id,))

    run = sync_run(media=store.media)  # incremental: removals still found
    assert run.status == SyncRun.Status.SUCCEEDED

    assert not ContentItem.objects.filter(
        magento_id=gone_product, surface="product_image", removed_at__isnull=True
    ).exists()
    assert ContentItem.objects.filter(magento_id=gone_product, removed_at__isnull=False).exists()
    full = full_sync(store)  # the lost gallery link is only visible to a full read
    image = ContentItem.objects.filter(magento_id=entity_id, part_key=str(value_id))
    assert all(i.removed_at is not None for i in image) and image.exists()
    block = {
        i.store_code: i.removed_at is None
        for i in ContentItem.objects.filter(surface="cms_block", magento_id=block_id)
    }
    assert block == {"default": True, "de": False}
    assert full.total("removed") >= 2

    store.sql(
        f"INSERT INTO {store.t('catalog_product_entity_media_gallery_value_to_entity')} "
        "(value_id, entity_id) VALUES (%s, %s)",
        (value_id, entity_id),
    )
    full_sync(store)
    assert all(
        i.removed_at is None for i in ContentItem.objects.filter(magento_id=entity_id, part_key=str(value_id))
    )


def test_commerce_staging_reads_only_the_live_version(make_store, mariadb_url):
    store = make_store(mariadb_url, staging=True)
    full_sync(store)

    assert registry_counts() == expected(store)
    texts = list(ContentItem.objects.values_list("title", flat=True)) + list(
        ContentItem.objects.values_list("label", flat=True)
    )
    assert not [t for t in texts if t.startswith(("OLD ", "FUTURE "))]
    entity_ids = {r[0] for r in store.sql(f"SELECT entity_id FROM {store.t('catalog_product_entity')}")}
    row_ids = {r[0] for r in store.sql(f"SELECT row_id FROM {store.t('catalog_product_entity')}")}
    registered = set(ContentItem.objects.filter(surface="product_image").values_list("magento_id", flat=True))
    assert registered <= entity_ids
    assert registered - row_ids or not (entity_ids & row_ids), "entity ids are exposed, not row ids"


def test_a_table_prefix_is_honoured(make_store, mariadb_url):
    store = make_store(mariadb_url, prefix="mg_")
    full_sync(store)
    assert registry_counts() == expected(store)


def test_the_embedded_sqlite_store_syncs_the_same_way(make_store, sqlite_url):
    store = make_store(sqlite_url)
    full_sync(store)
    assert registry_counts() == expected(store)


def test_source_rules_declare_recommendations_and_cms_content_synthetic(mariadb_store):
    SourceRule.objects.create(
        name="Up-sells in de come from reco-v3",
        surface="recommendation",
        store_code="de",
        link_type="up_sell",
        declared_origin=Origin.SYNTHETIC,
        generator="reco-v3",
    )
    full_sync(mariadb_store)

    synthetic = ContentItem.objects.filter(origin=Origin.SYNTHETIC).exclude(surface="product_image")
    assert synthetic.exists()
    assert set(synthetic.values_list("store_code", "surface", "link_type").distinct()) == {
        ("de", "recommendation", "up_sell")
    }
    item = synthetic.first()
    assert item.origin_source == "rule"
    assert item.origin_evidence[0]["generator"] == "reco-v3"
    assert item.digital_source_type.endswith("trainedAlgorithmicMedia")

    block = ContentItem.objects.filter(surface="cms_block").first()
    SourceRule.objects.create(
        name="Patient education blocks are drafted by a model",
        surface="cms_block",
        identifier_pattern=block.identifier[:3] + "*",
        declared_origin=Origin.SYNTHETIC,
        generator="writer-llm",
    )
    run = full_sync(mariadb_store)
    block.refresh_from_db()
    assert block.origin == Origin.SYNTHETIC
    assert run.counts["cms_block"]["changed"] >= 1


def test_an_unknown_store_code_is_refused_naming_the_known_ones_without_a_run(mariadb_store):
    from magento_bridge.reader import UnknownStoreError

    with pytest.raises(UnknownStoreError, match=r"unknown store code\(s\): fr \(known: de, default\)"):
        sync_run(store_code="fr", media=mariadb_store.media)
    assert not SyncRun.objects.exists()
    assert not ContentItem.objects.exists()


def test_a_missing_magento_table_is_named(mariadb_store):
    mariadb_store.sql("DROP TABLE cms_page_store")
    run = sync_run(media=mariadb_store.media)
    assert run.status == SyncRun.Status.FAILED
    assert "cms_page_store" in run.error
    assert not ContentItem.objects.exists()


def test_odd_values_in_magento_rows_do_not_stop_the_sync(mariadb_store):
    store = mariadb_store
    store.sql(f"UPDATE {store.t('cms_block')} SET title = '', content = NULL WHERE block_id = 1")
    store.sql(f"UPDATE {store.t('catalog_product_entity')} SET sku = NULL WHERE entity_id = 2")
    full_sync(store)
    assert registry_counts() == expected(store)
