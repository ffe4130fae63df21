"""Registry items for the disclosure tests, written as the sync would leave them."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import cache

from provenance.models import ContentItem

_ids = itertools.count(1)
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


def _forget() -> None:
    from disclosure import api, selectors

    cache.clear()
    selectors.store_state_forget()
    selectors._local_indexes.clear()
    api._LOCAL_ANSWERS.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    _forget()
    yield
    _forget()


@pytest.fixture
def item():
    def make(**fields) -> ContentItem:
        fields.setdefault("store_code", "default")
        fields.setdefault("surface", "product_image")
        fields.setdefault("magento_id", next(_ids))
        fields.setdefault("part_key", str(next(_ids)))
        return ContentItem.objects.create(**fields)

    return make


@pytest.fixture
def catalog(item):
    """Product MED-1 with an AI image, an AI-edited image and a photo; AI up-sells; CMS content."""
    return {
        "generated": item(
            sku="MED-1",
            magento_id=1,
            file_path="/a/i/ai-pen.jpg",
            position=2,
            label="Insulin pen",
            origin="synthetic",
            digital_source_type=TRAINED,
        ),
        "edited": item(
            sku="MED-1",
            magento_id=1,
            file_path="/e/d/edited.jpg",
            position=3,
            origin="synthetic",
            digital_source_type=COMPOSITE,
        ),
        "photo": item(sku="MED-1", magento_id=1, file_path="/p/h/photo.jpg", position=1, origin="human"),
        "suspect": item(sku="MED-2", magento_id=2, file_path="/s/u/suspect.jpg", origin="suspected"),
        "hidden": item(
            sku="MED-3", magento_id=3, file_path="/h/i/hidden.jpg", origin="synthetic", is_hidden=True
        ),
        "removed": item(
            sku="MED-4",
            magento_id=4,
            file_path="/r/e/removed.jpg",
            origin="synthetic",
            removed_at="2026-01-01T00:00:00Z",
        ),
        "upsell": item(
            surface="recommendation",
            sku="MED-1",
            magento_id=1,
            part_key="up_sell",
            link_type="up_sell",
            origin="synthetic",
        ),
        "block": item(
            surface="cms_block", magento_id=12, part_key="", identifier="insulin-storage", origin="synthetic"
        ),
        "page": item(
            surface="cms_page", magento_id=7, part_key="", identifier="diabetes-guide", origin="synthetic"
        ),
        "de_image": item(
            store_code="de",
            sku="MED-1",
            magento_id=1,
            file_path="/a/i/ai-pen.jpg",
            origin="synthetic",
            digital_source_type=TRAINED,
        ),
    }
