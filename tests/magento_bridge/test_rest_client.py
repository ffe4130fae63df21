"""The REST client against the loopback Magento REST server: paging, encoding, errors, politeness."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from magento_bridge.reader import MagentoReader, MagentoUnavailable
from magento_bridge.rest import MagentoRestReader
from magento_bridge.rest_client import (
    BEARER_SETTING,
    MagentoRestAuthError,
    MagentoRestError,
    OAuthCredentials,
    _RateLimit,
    search_params,
    sku_path,
)
from tests.magento_bridge.conftest import rest_client
from tests.magento_bridge.rest_server import Fault, Integration


@pytest.fixture
def store(make_store, sqlite_url):
    return make_store(sqlite_url, products=40)


@pytest.fixture
def server(store, make_rest_server):
    return make_rest_server(store)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(round(seconds, 3))


def total_blocks(store) -> int:
    with MagentoReader(store.db) as reader:
        return len(reader.cms_ids("cms_block"))


# -- paging ---------------------------------------------------------------------------------


def test_keyset_paging_reads_every_product_once_in_pages(store, server):
    client = rest_client(server, page_size=7)
    with MagentoRestReader(client) as reader, MagentoReader(store.db) as mysql:
        ids = reader.product_ids()

        assert ids == mysql.product_ids()
    assert server.requests_to("/V1/products?") == math.ceil(len(ids) / 7)


def test_page_number_paging_stops_on_total_count_though_magento_repeats_the_last_page(store, server):
    client = rest_client(server, page_size=4)
    total = total_blocks(store)
    pages = list(
        client.search_pages(
            "/V1/cmsBlock/search",
            store="all",
            resource="",
            fields="items[id],total_count",
            sort=[("block_id", "ASC")],
        )
    )
    ids = [item["id"] for page in pages for item in page]

    assert len(ids) == len(set(ids)) == total
    assert len(pages) == math.ceil(total / 4)
    past_the_end = client.get(
        "/V1/cmsBlock/search",
        search_params(sort=[("block_id", "ASC")], page_size=4, page=99, fields="items[id]"),
        store="all",
    )
    assert [i["id"] for i in past_the_end["items"]] == [i["id"] for i in pages[-1]]


def test_a_page_size_above_the_maximum_is_refused_and_the_client_never_sends_one(server):
    client = rest_client(server, page_size=1000)

    with pytest.raises(MagentoRestError, match="Maximum SearchCriteria pageSize is 300"):
        client.get("/V1/products", search_params(page_size=301), store="all")
    assert client.page_size == 300


def test_filters_in_a_group_or_and_groups_and(store, server):
    client = rest_client(server)
    body = client.get(
        "/V1/products",
        search_params(
            groups=[
                [("entity_id", "3", "eq"), ("entity_id", "5", "eq"), ("entity_id", "30", "eq")],
                [("entity_id", "10", "lt")],
            ],
            sort=[("entity_id", "DESC")],
            fields="items[id,sku],total_count",
        ),
        store="default",
    )

    assert body == {
        "items": [{"id": 5, "sku": body["items"][0]["sku"]}, {"id": 3, "sku": "SKN-ALOE GEL"}],
        "total_count": 2,
    }


def test_an_unknown_filter_field_is_a_400_naming_it(server):
    client = rest_client(server)

    with pytest.raises(MagentoRestError, match="Invalid attribute name: colour"):
        client.get("/V1/products", search_params(groups=[[("colour", "red", "eq")]]), store="default")


def test_fields_trim_nested_lists(server):
    client = rest_client(server)
    body = client.get(
        "/V1/products",
        search_params(page_size=3, page=1, fields="items[id,media_gallery_entries[file]]"),
        store="default",
    )

    assert set(body) == {"items"}
    for item in body["items"]:
        assert set(item) == {"id", "media_gallery_entries"}
        assert all(set(entry) == {"file"} for entry in item["media_gallery_entries"])


# -- SKUs in paths --------------------------------------------------------------------------


@pytest.mark.parametrize("sku", ["SKN-ALOE GEL", "SUP-MAGNÉSIUM"])
def test_skus_with_spaces_and_non_ascii_characters_are_read_with_oauth(server, sku):
    product = rest_client(server).product(sku, store="de")

    assert product["sku"] == sku


def test_skus_are_one_encoded_path_segment():
    assert sku_path("DEV-BP/200") == "DEV-BP%2F200"
    assert sku_path("SKN-ALOE GEL") == "SKN-ALOE%20GEL"
    assert sku_path("SUP-MAGNÉSIUM") == "SUP-MAGN%C3%89SIUM"
    assert sku_path("a?b#c") == "a%3Fb%23c"


def test_a_slash_in_a_sku_is_reported_as_magentos_oauth_bug(server):
    with pytest.raises(MagentoRestAuthError) as caught:
        rest_client(server).product("DEV-BP/200")

    assert "SKU with '/'" in str(caught.value)
    assert "known Magento bug" in str(caught.value)


def test_a_slash_in_a_sku_reads_with_a_bearer_token(store, make_rest_server):
    server = make_rest_server(store, bearer_allowed=True)

    assert rest_client(server, auth="bearer").product("DEV-BP/200")["sku"] == "DEV-BP/200"


def test_the_sync_warns_about_slashed_skus_it_reads_through_lists(server):
    client = rest_client(server)
    with MagentoRestReader(client) as reader:
        reader.product_ids()

    assert any("contain '/'" in w for w in client.stats.warnings)


# -- operator errors ------------------------------------------------------------------------


def auth_error(client) -> str:
    with pytest.raises(MagentoRestAuthError) as caught:
        with MagentoRestReader(client) as reader:
            reader.store_views()
            reader.product_ids()
            reader.cms_ids("cms_block")
    return str(caught.value)


def test_a_wrong_secret_is_reported_as_the_oauth_signature(server):
    wrong = OAuthCredentials("ck-demo", "not-the-secret", "at-demo", "ts-demo")
    message = auth_error(rest_client(server, oauth=wrong))

    assert "The signature is invalid" in message
    assert "MAGENTO_REST_CONSUMER_SECRET" in message


def test_an_unknown_consumer_key_is_named(server):
    message = auth_error(rest_client(server, oauth=OAuthCredentials("nope", "cs-demo", "at-demo", "ts-demo")))

    assert "MAGENTO_REST_CONSUMER_KEY" in message


def test_a_revoked_token_is_named_and_not_retried(store, make_rest_server):
    server = make_rest_server(store, integration=Integration(revoked=True))
    client = rest_client(server, retries=3)

    message = auth_error(client)

    assert "revoked" in message and "MAGENTO_REST_ACCESS_TOKEN" in message
    assert client.stats.requests == 1


def test_a_missing_acl_resource_is_named(store, make_rest_server):
    granted = {"Magento_Backend::store", "Magento_Catalog::products"}
    server = make_rest_server(store, integration=Integration(resources=granted))

    message = auth_error(rest_client(server))

    assert "lacks the ACL resource Magento_Cms::block" in message


def test_a_refused_bearer_token_names_the_store_setting(store, make_rest_server):
    server = make_rest_server(store, bearer_allowed=False)

    message = auth_error(rest_client(server, auth="bearer"))

    assert BEARER_SETTING in message
    assert "Magento_Backend::store" in message


def test_an_unknown_route_points_at_the_base_url(server):
    with pytest.raises(MagentoRestError, match="MAGENTO_REST_BASE_URL"):
        rest_client(server).get("/V1/nothing-here", store="default")


# -- politeness -----------------------------------------------------------------------------


def test_429_and_503_are_retried_honouring_retry_after_and_re_signed(server):
    server.faults += [
        Fault(429, times=1, match="storeViews", headers={"Retry-After": "7"}),
        Fault(503, times=2, match="storeViews"),
    ]
    sleeps = Sleeps()
    client = rest_client(server, sleep=sleeps, backoff=0.5, retries=4)

    with MagentoRestReader(client) as reader:
        assert [v.code for v in reader.store_views()] == ["default", "de"]

    assert sleeps == [7.0, 1.0, 2.0]  # Retry-After, then 0.5 * 2**attempt
    assert client.stats.throttled == 1 and client.stats.server_errors == 2 and client.stats.retries == 3


def test_retry_after_as_an_http_date_and_a_cap(server):
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    server.faults.append(Fault(429, times=1, match="storeViews", headers={"Retry-After": later}))
    sleeps = Sleeps()

    rest_client(server, sleep=sleeps, max_retry_after=30).get("/V1/store/storeViews", store="all")

    assert sleeps == [30.0]


def test_retries_run_out_into_magento_unavailable(server):
    server.faults.append(Fault(503, times=10, match="storeViews"))
    client = rest_client(server, retries=2, sleep=Sleeps())

    with pytest.raises(MagentoUnavailable, match="after 3 attempt"):
        client.get("/V1/store/storeViews", store="all")
    assert client.stats.requests == 3


def test_a_timeout_is_retried_on_a_new_connection(server):
    server.faults.append(Fault(200, times=1, match="storeViews", delay=1.0))
    client = rest_client(server, timeout=0.2, sleep=Sleeps())

    views = client.get("/V1/store/storeViews", store="all")

    assert {v["code"] for v in views} >= {"default", "de"}
    assert client.stats.timeouts == 1 and client.stats.retries == 1


def test_connections_are_reused(server):
    client = rest_client(server)
    for _ in range(8):
        client.get("/V1/store/storeViews", store="all")

    assert server.connections == 1


def test_the_request_rate_is_limited():
    now = [100.0]
    sleeps = Sleeps()

    def sleep(seconds: float) -> None:
        sleeps(seconds)
        now[0] += seconds

    limit = _RateLimit(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limit.wait()

    assert sleeps == [0.25, 0.25, 0.25]


# -- records --------------------------------------------------------------------------------


@pytest.mark.parametrize("staging,prefix", [(False, ""), (True, "mg_")])
def test_the_rest_reader_yields_the_mysql_readers_records(
    make_store, sqlite_url, make_rest_server, staging, prefix
):
    store = make_store(sqlite_url, products=40, staging=staging, prefix=prefix)
    server = make_rest_server(store)
    with (
        MagentoRestReader(rest_client(server, page_size=9)) as rest,
        MagentoReader(store.db, prefix=prefix) as mysql,
    ):
        stores = mysql.store_views()
        assert rest.store_views() == stores
        assert rest.product_ids() == mysql.product_ids()
        for surface in ("cms_block", "cms_page"):
            assert rest.cms_ids(surface) == mysql.cms_ids(surface)
            assert [c for _i, cs, _n in rest.cms_batches(surface, stores) for c in cs] == sorted(
                (c for _i, cs, _n in mysql.cms_batches(surface, stores) for c in cs),
                key=lambda c: (c.content_id, [s.code for s in stores].index(c.store_code)),
            )
        rest_batches = list(rest.product_batches(stores))
        mysql_batches = list(mysql.product_batches(stores))
        disabled = {
            int(r[0])
            for r in store.sql(
                f"SELECT value_id FROM {prefix}catalog_product_entity_media_gallery WHERE disabled = 1"
            )
        }

    def gallery(batches):
        return sorted(
            (e for b in batches for e in b.gallery), key=lambda e: (e.store_code, e.entity_id, e.value_id)
        )

    def links(batches):
        return sorted(
            (s for b in batches for s in b.links), key=lambda s: (s.store_code, s.entity_id, s.link_type)
        )

    assert disabled, "the demo store has globally disabled gallery entries"
    assert gallery(rest_batches) == [e for e in gallery(mysql_batches) if e.value_id not in disabled]
    assert links(rest_batches) == links(mysql_batches)
    assert max(b.max_updated_at for b in rest_batches) == max(b.max_updated_at for b in mysql_batches)


def test_a_search_answer_without_total_count_is_refused_rather_than_read_short(server):
    server.faults.append(Fault(200, times=1, match="cmsBlock/search", message="trimmed by a proxy"))
    client = rest_client(server)

    with pytest.raises(MagentoRestError, match="without total_count"):
        list(
            client.search_after(
                "/V1/cmsBlock/search", key="block_id", store="all", resource="", fields="items[id]"
            )
        )


def test_a_store_view_whose_page_differs_reads_the_first_views_range_again(store, server):
    with MagentoReader(store.db) as mysql:
        stores = mysql.store_views()
        expected = [e for b in mysql.product_batches(stores) for e in b.gallery if e.entity_id <= 9]
    server.hide_once.add(("de", 5))
    client = rest_client(server, page_size=9)

    with MagentoRestReader(client) as reader:
        reader.product_ids()
        first = next(reader.product_batches(stores))

    assert first.entity_ids == list(range(1, 10))
    assert client.stats.by_endpoint["products:reread"] == 1
    key = lambda e: (e.store_code, e.entity_id, e.value_id)  # noqa: E731
    disabled = {
        int(r[0])
        for r in store.sql("SELECT value_id FROM catalog_product_entity_media_gallery WHERE disabled = 1")
    }
    assert sorted(first.gallery, key=key) == sorted(
        (e for e in expected if e.value_id not in disabled), key=key
    )
