"""The dashboard's registry-wide figures at scale: badge coverage aggregated by the database with
the same answer as deciding item by item, cached for a short time, and the store views with
synthetic content found without a DISTINCT over every item."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audits.selectors import disclosure_coverage, stores_with_synthetic_content
from disclosure.models import AuditSwitch
from disclosure.selectors import BadgeCoverage, badge_coverage, item_shown, store_state_load
from provenance.models import ContentItem

pytestmark = pytest.mark.django_db


def coverage_item_by_item() -> BadgeCoverage:
    """The definition, applied to every item (what badge coverage computed before it aggregated)."""
    coverage = BadgeCoverage()
    states = {}
    for item in ContentItem.objects.filter(origin="synthetic").order_by("id"):
        state = states.setdefault(item.store_code, store_state_load(item.store_code))
        coverage.count(item.pk, item_shown(item, state))
    return coverage


@pytest.fixture
def varied_registry(make_item):
    make_item()
    make_item(store_code="de")
    make_item(surface="recommendation", link_type="up_sell", file_path="")
    make_item(surface="recommendation", sku="", file_path="")  # no SKU: shown without a badge
    make_item(surface="cms_block", identifier="ai-block", sku="", file_path="")
    make_item(surface="cms_page", identifier="", magento_id=77, sku="", file_path="")  # matched by id
    make_item(sku="")  # an image with no SKU: shown without a badge
    make_item(store_code="de", sku="")
    make_item(is_hidden=True)  # not published
    make_item(is_enabled=False)
    make_item(removed_at=timezone.now())
    make_item(origin="suspected")
    make_item(origin="human")
    make_item(digital_source_type="http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic")
    AuditSwitch.objects.create(store_code="de", surface="product_image", mode="suppress")


def test_aggregated_coverage_equals_deciding_each_item(varied_registry):
    expected = coverage_item_by_item()
    coverage = badge_coverage()
    assert (coverage.published, coverage.disclosed) == (expected.published, expected.disclosed) == (9, 6)
    assert coverage.undisclosed_ids == expected.undisclosed_ids and len(coverage.undisclosed_ids) == 3
    assert badge_coverage(ids_limit=2).undisclosed_ids == expected.undisclosed_ids[:2]
    de = badge_coverage(store_code="de")
    assert (de.published, de.disclosed, len(de.undisclosed_ids)) == (2, 1, 1)


def test_coverage_queries_do_not_grow_with_the_registry(make_item):
    make_item()
    with CaptureQueriesContext(connection) as few:
        badge_coverage()
    for _ in range(40):
        make_item()
        make_item(sku="")
    with CaptureQueriesContext(connection) as many:
        coverage = badge_coverage()
    assert coverage.published == 81 and len(coverage.undisclosed_ids) == 40
    assert len(many) <= len(few) + 1  # + the ids of the items without a badge


@override_settings(AUDITS_DASHBOARD_CACHE_SECONDS=60)
def test_the_dashboard_figures_are_cached_for_the_configured_time(make_item):
    from django.core.cache import cache

    cache.clear()
    make_item()
    assert disclosure_coverage().published == 1
    make_item()
    with CaptureQueriesContext(connection) as ctx:
        assert disclosure_coverage().published == 1  # the cached figure, within its minute
    assert len(ctx) == 0
    cache.clear()
    assert disclosure_coverage().published == 2


def test_the_dashboard_links_at_most_200_items_without_a_badge(make_item):
    ContentItem.objects.bulk_create(
        ContentItem(
            store_code="default", surface="product_image", magento_id=n, part_key=str(n), origin="synthetic"
        )
        for n in range(10_000, 10_250)
    )
    coverage = disclosure_coverage()
    assert coverage.published - coverage.disclosed == 250 and len(coverage.undisclosed_ids) == 200


def test_stores_with_synthetic_content_skip_stores_with_only_removed_or_human_content(make_item):
    make_item(store_code="fr")
    make_item(store_code="de", removed_at=timezone.now())
    make_item(store_code="it", origin="human")
    make_item(store_code="at")
    assert stores_with_synthetic_content() == ["at", "fr"]
