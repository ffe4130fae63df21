"""What the Magento reader yields: one record per thing a storefront shows, per store view.

These plain dataclasses are the contract between the sources (MySQL today, REST later) and the
sync service that feeds the registry. They carry Magento's own identities (``entity_id``, gallery
``value_id``, block/page id) and what the shopper sees, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

SURFACE_PRODUCT_IMAGE = "product_image"
SURFACE_CMS_BLOCK = "cms_block"
SURFACE_CMS_PAGE = "cms_page"
SURFACE_RECOMMENDATION = "recommendation"
SURFACES = (SURFACE_PRODUCT_IMAGE, SURFACE_CMS_BLOCK, SURFACE_CMS_PAGE, SURFACE_RECOMMENDATION)

# catalog_product_link_type.code -> our name; 3 (`super`, grouped products) is not a recommendation.
LINK_TYPES = {"relation": "related", "up_sell": "up_sell", "cross_sell": "cross_sell"}

IMAGE_ROLES = ("image", "small_image", "thumbnail", "swatch_image")


@dataclass(frozen=True)
class StoreView:
    """A storefront store view (never the admin scope, store_id 0)."""

    store_id: int
    code: str
    name: str
    website_id: int
    is_active: bool
    base_url: str = ""
    media_base_url: str = ""


@dataclass(frozen=True)
class GalleryEntry:
    """A product's media-gallery entry as one store view shows it."""

    store_code: str
    entity_id: int
    sku: str
    value_id: int
    file: str  # gallery path such as "/a/b/ab123.jpg"
    media_type: str  # "image" or "external-video"
    label: str
    position: int | None
    hidden: bool  # disabled in this store view (store row over global row) or globally
    roles: tuple[str, ...]  # subset of IMAGE_ROLES pointing at this file in this store view
    product_name: str
    product_enabled: bool  # status attribute == 1 in this store view
    product_visibility: int | None  # 1 not visible .. 4 catalog+search
    updated_at: datetime | None
    video_url: str = ""
    video_title: str = ""


@dataclass(frozen=True)
class CmsContent:
    """A CMS block or page as assigned to one store view (store 0 = every store view)."""

    surface: str  # SURFACE_CMS_BLOCK or SURFACE_CMS_PAGE
    store_code: str
    content_id: int  # block_id / page_id (never row_id)
    identifier: str
    title: str
    content: str
    is_active: bool
    all_stores: bool  # assigned through store 0
    updated_at: datetime | None
    content_heading: str = ""


@dataclass(frozen=True)
class ProductLinkSet:
    """A product's related / up-sell / cross-sell list in one store view, in storefront order."""

    store_code: str
    entity_id: int
    sku: str
    link_type: str  # a value of LINK_TYPES
    linked_skus: tuple[str, ...] = field(default_factory=tuple)
    linked_entity_ids: tuple[int, ...] = field(default_factory=tuple)
    product_name: str = ""
    product_enabled: bool = True
    updated_at: datetime | None = None
