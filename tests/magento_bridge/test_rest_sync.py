"""Syncing through the REST source: parity with the MySQL source on MariaDB, and faults mid-sync."""

from __future__ import annotations

import pytest
from django.db import transaction

from magento_bridge.demo import mass_update_labels, touch_products
from magento_bridge.models import SyncRun
from magento_bridge.rest_client import BEARER_SETTING
from magento_bridge.services import sync_run
from provenance.models import ContentItem
from tests.magento_bridge.rest_server import Fault, Integration

pytestmark = pytest.mark.django_db

REGISTRY_FIELDS = (
    "store_code",
    "surface",
    "magento_id",
    "part_key",
    "sku",
    "identifier",
    "gallery_value_id",
    "file_path",
    "media_type",
    "video_url",
    "link_type",
    "title",
    "label",
    "image_roles",
    "position",
    "is_enabled",
    "is_visible",
    "is_hidden",
    "all_stores",
    "linked_skus",
    "content_sha256",
    "state_sha256",
    "origin",
    "digital_source_type",
    "problem_code",
    "magento_updated_at",
    "removed_at",
)


class _Rollback(Exception):
    pass


def registry() -> list[tuple]:
    return list(ContentItem.objects.order_by(*REGISTRY_FIELDS[:4]).values_list(*REGISTRY_FIELDS))


def registry_after(sync) -> tuple[SyncRun, list[tuple]]:
    """Run ``sync`` on an empty registry and return its run and the registry, then undo it all."""
    try:
        with transaction.atomic():
            run = sync()
            rows = registry()
            raise _Rollback
    except _Rollback:
        return run, rows


def globally_disabled(store) -> set[int]:
    rows = store.sql(
        f"SELECT value_id FROM {store.t('catalog_product_entity_media_gallery')} WHERE disabled = 1"
    )
    return {int(r[0]) for r in rows}


def full(store, **kwargs) -> SyncRun:
    run = sync_run(full=True, media=store.media, triggered_by="test", **kwargs)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


@pytest.fixture
def rest_store(mariadb_store, make_rest_server, use_rest, settings):
    server = make_rest_server(mariadb_store)
    use_rest(server)
    mariadb_store.server = server
    return mariadb_store


def test_a_rest_sync_and_a_mysql_sync_give_the_same_registry(rest_store, settings):
    store = rest_store
    rest_run, via_rest = registry_after(lambda: full(store))
    mysql_run, via_mysql = registry_after(lambda: full(store, db=store.db))

    # REST cannot see gallery entries disabled globally (Magento leaves them out of
    # media_gallery_entries); they are hidden in every store view. Everything else is identical.
    hidden_everywhere = globally_disabled(store)
    value_id = REGISTRY_FIELDS.index("gallery_value_id")
    assert hidden_everywhere
    assert via_rest == [row for row in via_mysql if row[value_id] not in hidden_everywhere]
    assert all(
        row[REGISTRY_FIELDS.index("is_hidden")] for row in via_mysql if row[value_id] in hidden_everywhere
    )
    assert rest_run.source == "rest" and mysql_run.source == "mysql"
    assert {s: c["added"] for s, c in rest_run.counts.items()} == {
        s: c["added"] - (len([r for r in via_mysql if r[1] == s and r[value_id] in hidden_everywhere]))
        for s, c in mysql_run.counts.items()
    }


def test_link_lists_keep_their_storefront_order(rest_store):
    _run, via_rest = registry_after(lambda: full(rest_store))
    _run, via_mysql = registry_after(lambda: full(rest_store, db=rest_store.db))
    skus = REGISTRY_FIELDS.index("linked_skus")

    def lists(rows):
        return [r[skus] for r in rows if r[1] == "recommendation"]

    assert lists(via_rest) == lists(via_mysql)
    assert any(len(lst) > 1 for lst in lists(via_rest))


def test_switching_from_mysql_to_rest_changes_nothing_shoppers_see(rest_store):
    full(rest_store, db=rest_store.db)
    before = {row[:4]: row for row in registry()}

    run = full(rest_store)

    after = {row[:4]: row for row in registry()}
    assert run.total("added") == run.total("changed") == 0
    assert run.total("removed") == len(globally_disabled(rest_store)) * 2  # two store views
    changed = [key for key in before if before[key][:-1] != after[key][:-1]]
    assert all(before[key][REGISTRY_FIELDS.index("is_hidden")] for key in changed)


def test_a_rest_sync_records_its_requests_and_stays_within_the_page_budget(rest_store):
    run = full(rest_store)

    rest = run.media["rest"]
    assert run.media["queries"] == rest["requests"] == rest_store.server.requests_to("/rest/")
    # 40 products, 2 store views: every list fits one page; no per-product request.
    assert rest["by_endpoint"]["products"] == 2
    assert "product" not in rest["by_endpoint"]
    assert rest["requests"] <= 16


def test_incremental_rest_syncs_read_changes_and_full_ones_reconcile(rest_store, settings):
    store = rest_store
    full(store)
    touched = touch_products(store.db, [5, 6], new_label="Relabelled through the admin")
    mass = mass_update_labels(store.db, [7], new_label="Relabelled by a mass update")
    assert touched == 2 and mass == 1

    seen = len(store.server.log)
    incremental = sync_run(media=store.media)
    assert incremental.status == SyncRun.Status.SUCCEEDED, incremental.error
    labels = set(ContentItem.objects.filter(surface="product_image").values_list("label", flat=True))
    assert "Relabelled through the admin" in labels
    assert "Relabelled by a mass update" not in labels  # updated_at was not touched

    reconcile = full(store)
    labels = set(ContentItem.objects.filter(surface="product_image").values_list("label", flat=True))
    assert "Relabelled by a mass update" in labels
    assert reconcile.total("changed") >= 1
    product_reads = [
        path for path, _ in store.server.log[seen:] if "/V1/products?" in path and "media_gallery" in path
    ]
    incremental_reads = product_reads[:2]  # one page per store view
    since = "%5Bfield%5D=updated_at"  # an updated_at filter, not the field list
    assert len(product_reads) == 4
    assert all(since in path and "gteq" in path for path in incremental_reads)
    assert not any(since in path for path in product_reads[2:])  # the full reconcile


def test_429s_and_503s_mid_sync_are_retried(rest_store, settings):
    settings.MAGENTO_RETRY_BACKOFF = 0.0
    server = rest_store.server
    server.faults += [
        Fault(429, times=2, after=1, match="/V1/products", headers={"Retry-After": "1"}),
        Fault(503, times=1, after=1, match="cmsPage/search"),
    ]
    _run, expected = registry_after(lambda: full(rest_store))
    server.faults += [
        Fault(429, times=2, after=1, match="/V1/products", headers={"Retry-After": "1"}),
        Fault(503, times=1, after=1, match="cmsPage/search"),
    ]

    run = full(rest_store)

    assert registry() == expected
    rest = run.media["rest"]
    assert rest["throttled"] == 2 and rest["server_errors"] == 1 and rest["retries"] == 3
    assert rest["waited_seconds"] == 2.0  # Retry-After: 1, twice


def test_a_revoked_token_fails_the_run_with_the_reason_and_writes_nothing(rest_store):
    full(rest_store)
    before = registry()
    rest_store.server.integration.revoked = True

    run = sync_run(full=True, media=rest_store.media)

    assert run.status == SyncRun.Status.FAILED
    assert "revoked" in run.error and "Reauthorize" in run.error
    assert registry() == before


def test_a_refused_bearer_token_fails_the_run_naming_the_setting(rest_store, use_rest):
    use_rest(rest_store.server, auth="bearer")

    run = sync_run(full=True, media=rest_store.media)

    assert run.status == SyncRun.Status.FAILED
    assert BEARER_SETTING in run.error
    assert not ContentItem.objects.exists()


def test_a_bearer_token_syncs_where_the_store_allows_it(mariadb_store, make_rest_server, use_rest):
    server = make_rest_server(mariadb_store, bearer_allowed=True)
    use_rest(server, auth="bearer")

    run = full(mariadb_store)

    assert server.auth_kinds == {"bearer": run.media["rest"]["requests"]}
    assert ContentItem.objects.filter(surface="cms_block").exists()


def test_a_missing_acl_resource_fails_the_run_naming_it(mariadb_store, make_rest_server, use_rest):
    granted = {"Magento_Backend::store", "Magento_Catalog::products", "Magento_Cms::block"}
    server = make_rest_server(mariadb_store, integration=Integration(resources=granted))
    use_rest(server)

    run = sync_run(full=True, media=mariadb_store.media)

    assert run.status == SyncRun.Status.FAILED
    assert "Magento_Cms::page" in run.error
    # The batches read before the refusal (products, blocks) committed whole; pages were never read.
    assert run.batches > 0 and ContentItem.objects.count() == run.total("added")
    assert not ContentItem.objects.filter(surface="cms_page").exists()
    assert run.media["rest"]["requests"] > 0


def test_without_a_media_setting_images_come_from_the_store_views_media_url(
    mariadb_store, make_rest_server, use_rest, settings
):
    server = make_rest_server(mariadb_store, media_root=mariadb_store.media_root)
    use_rest(server, MAGENTO_MEDIA_ROOT="", MAGENTO_MEDIA_BASE_URL="")
    _run, expected = registry_after(lambda: full(mariadb_store))  # local media root

    run = sync_run(full=True, triggered_by="test")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    # Same hashes and problem codes; a problem's text (and so the item's state hash) names the
    # source it was read from, a path or a URL.
    state = REGISTRY_FIELDS.index("state_sha256")
    problem = REGISTRY_FIELDS.index("problem_code")

    def comparable(rows):
        return [row[:state] + row[state + 1 :] if row[problem] else row for row in rows]

    assert comparable(registry()) == comparable(expected)
    assert run.media["configured"] and run.media["files_read"] > 0
    assert server.requests_to("/media/catalog/product/") >= run.media["files_read"]
