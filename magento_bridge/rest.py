"""Read a Magento 2.4 store through its REST API: the REST source next to :mod:`magento_bridge.reader`.

:class:`MagentoRestReader` has the MySQL reader's interface and yields the same records, so the sync
feeds the registry identically from either. It asks :class:`magento_bridge.rest_client.
MagentoRestClient` for the routes of the project's Magento reference and turns the JSON into records:

- Products page by keyset (``entity_id > last``, sorted by ``entity_id``) so rows changing mid-read
  are neither skipped nor repeated, and every store view reads the same products per batch.
- Store-view values: a product read in a store scope carries that view's name, status, visibility
  and gallery labels/positions/``disabled``, with Magento's own fallback to the default scope.
  CMS items carry no store ids: a ``store_id`` filter matches items assigned to exactly that store,
  so assignments are learnt by listing each store view and store 0.

What REST cannot show: a gallery entry disabled globally (``catalog_product_entity_media_gallery.
disabled = 1``) is left out of ``media_gallery_entries`` by Magento itself, so such entries (hidden in
every store view) are absent here while the MySQL reader records them as hidden.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from magento_bridge.reader import (
    ProductBatch,
    _as_utc,
    _db_time,
    _int_or_none,
    _text,
    store_views_select,
)
from magento_bridge.records import (
    IMAGE_ROLES,
    SURFACE_CMS_BLOCK,
    SURFACE_CMS_PAGE,
    CmsContent,
    GalleryEntry,
    ProductLinkSet,
    StoreView,
)
from magento_bridge.rest_client import (
    MAX_PAGE_SIZE,
    RESOURCE_BLOCKS,
    RESOURCE_PAGES,
    RESOURCE_PRODUCTS,
    RESOURCE_STORES,
    Filter,
    MagentoRestClient,
    MagentoRestError,
    search_params,
    search_result,
)

ADMIN_SCOPE = "all"  # /rest/all/V1/...: the admin (store 0) scope

# REST link_type -> our name (records.LINK_TYPES values); "associated" (grouped products) is no
# recommendation.
REST_LINK_TYPES = {"related": "related", "upsell": "up_sell", "crosssell": "cross_sell"}
_LINK_ORDER = {"related": 0, "up_sell": 1, "cross_sell": 2}

_PRODUCT_FIELDS = (
    "items[id,sku,name,status,visibility,updated_at,"
    "media_gallery_entries[id,media_type,label,position,disabled,types,file,extension_attributes],"
    "product_links[link_type,linked_product_sku,position]],total_count"
)
_CMS = {
    SURFACE_CMS_BLOCK: ("/V1/cmsBlock/search", "block_id", RESOURCE_BLOCKS, ""),
    SURFACE_CMS_PAGE: ("/V1/cmsPage/search", "page_id", RESOURCE_PAGES, ",content_heading"),
}


def _flag(value: Any) -> bool:
    """A JSON boolean that may arrive as ``true``, ``1`` or ``"1"``."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false")
    return bool(value)


def _video(entry: dict) -> tuple[str, str]:
    content = (entry.get("extension_attributes") or {}).get("video_content") or {}
    return _text(content.get("video_url")), _text(content.get("video_title"))


class MagentoRestReader:
    """The REST source with :class:`magento_bridge.reader.MagentoReader`'s interface and records."""

    def __init__(self, client: MagentoRestClient, *, batch_size: int | None = None) -> None:
        self.client = client
        self.batch_size = min(batch_size or client.page_size, MAX_PAGE_SIZE)
        self._store_views: list[dict] | None = None
        self._sku_ids: dict[str, int] = {}
        self._assignments: dict[str, dict[int, set[int]]] = {}
        self._listed_stores: dict[str, set[int]] = {}
        self._pool: ThreadPoolExecutor | None = None

    @property
    def queries(self) -> int:
        """HTTP requests made (the MySQL reader counts SQL queries here)."""
        return self.client.stats.requests

    def source_stats(self) -> dict:
        return {"queries": self.queries, "rest": self.client.stats.as_dict()}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.client.close()

    def __enter__(self) -> MagentoRestReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``fn`` over ``items`` with at most ``client.concurrency`` requests in flight."""
        if self.client.concurrency <= 1 or len(items) <= 1:
            return [fn(item) for item in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.client.concurrency)
        return list(self._pool.map(fn, items))

    # -- stores ---------------------------------------------------------------------------

    def prepare(self) -> None:
        """Read the store views once: the cheapest call that proves the credentials work."""
        if self._store_views is None:
            body = self.client.get(
                "/V1/store/storeViews", store=ADMIN_SCOPE, resource=RESOURCE_STORES, endpoint="storeViews"
            )
            self._store_views = [v for v in (body or []) if isinstance(v, dict)]

    def store_views(self, codes: Sequence[str] | None = None) -> list[StoreView]:
        """Active storefront store views, or exactly ``codes`` (unknown codes raise)."""
        self.prepare()
        assert self._store_views is not None
        rows = sorted((v for v in self._store_views if int(v.get("id") or 0) > 0), key=lambda v: int(v["id"]))
        configs = self.client.get(
            "/V1/store/storeConfigs",
            [(f"storeCodes[{i}]", _text(v.get("code"))) for i, v in enumerate(rows)],
            store=ADMIN_SCOPE,
            resource=RESOURCE_STORES,
            endpoint="storeConfigs",
        )
        by_code = {_text(c.get("code")): c for c in (configs or []) if isinstance(c, dict)}
        views = []
        for row in rows:
            code = _text(row.get("code"))
            config = by_code.get(code, {})
            base = _text(config.get("secure_base_url"))
            media = _text(config.get("secure_base_media_url"))
            views.append(
                StoreView(
                    store_id=int(row["id"]),
                    code=code,
                    name=_text(row.get("name")),
                    website_id=int(row.get("website_id") or 0),
                    is_active=bool(int(row.get("is_active") or 0)),
                    base_url=base,
                    media_base_url=media or (f"{base}media/" if base else ""),
                )
            )
        return store_views_select(views, codes)

    # -- products -------------------------------------------------------------------------

    def product_ids(self) -> list[int]:
        """Every product's entity_id; also learns each SKU's id for link lists."""
        self.prepare()
        ids: list[int] = []
        slashed = 0
        for items in self.client.search_after(
            "/V1/products",
            key="entity_id",
            store=ADMIN_SCOPE,
            resource=RESOURCE_PRODUCTS,
            fields="items[id,sku],total_count",
            endpoint="products:ids",
        ):
            for item in items:
                entity_id, sku = int(item["id"]), _text(item.get("sku"))
                ids.append(entity_id)
                self._sku_ids.setdefault(sku, entity_id)
                slashed += "/" in sku
        if slashed and self.client.auth == "oauth":
            self.client.warn(
                f"{slashed} SKU(s) contain '/': Magento cannot verify OAuth signatures for "
                "per-product URLs of such SKUs (a known Magento bug). This sync reads them through "
                "list endpoints and is not affected; other integrations calling /V1/products/{sku} are."
            )
        return ids

    def _resolve_skus(self, skus: set[str]) -> None:
        """Learn the ids of linked SKUs not seen yet (an incremental sync reads few products)."""
        missing = sorted(s for s in skus if s not in self._sku_ids)
        for start in range(0, len(missing), 20):
            chunk = missing[start : start + 20]
            for items in self.client.search_after(
                "/V1/products",
                key="entity_id",
                store=ADMIN_SCOPE,
                resource=RESOURCE_PRODUCTS,
                fields="items[id,sku],total_count",
                groups=[[("sku", sku, "eq") for sku in chunk]],
                endpoint="products:skus",
            ):
                for item in items:
                    self._sku_ids.setdefault(_text(item.get("sku")), int(item["id"]))

    def product_batches(
        self,
        stores: Sequence[StoreView],
        *,
        updated_since: datetime | None = None,
        entity_ids: Sequence[int] | None = None,
    ) -> Iterator[ProductBatch]:
        """Gallery entries and link lists per product page, every store view read for the same
        products: the first view pages by keyset, the others read the page's id range."""
        self.prepare()
        if not stores:
            return
        base: list[list[Filter]] = []
        if updated_since is not None:
            base.append([("updated_at", _db_time(updated_since), "gteq")])
        if entity_ids is not None:
            wanted = sorted(set(entity_ids))
            if not wanted:
                return
            for start in range(0, len(wanted), self.batch_size):
                chunk = wanted[start : start + self.batch_size]
                groups = [*base, [("entity_id", ",".join(map(str, chunk)), "in")]]
                yield from self._batches(stores, groups)
            return
        yield from self._batches(stores, base)

    def _batches(self, stores: Sequence[StoreView], groups: list[list[Filter]]) -> Iterator[ProductBatch]:
        """Every store view reads the same keyset page at once (``MAGENTO_REST_CONCURRENCY``); a view
        whose page holds other products than the first view's (a product saved mid-read) reads the
        first view's id range again, so each batch covers exactly the same products everywhere."""
        first = stores[0]
        last: int | None = None

        def page(store: StoreView, page_groups: list[list[Filter]]) -> tuple[list[dict], int]:
            body = self.client.get(
                "/V1/products",
                search_params(
                    groups=page_groups,
                    sort=[("entity_id", "ASC")],
                    page_size=self.batch_size,
                    page=1,
                    fields=_PRODUCT_FIELDS,
                ),
                store=store.code,
                resource=RESOURCE_PRODUCTS,
                endpoint="products",
            )
            return search_result(body, "/V1/products")

        while True:
            page_groups = [*groups, *([[("entity_id", str(last), "gt")]] if last is not None else [])]
            pages = self._map(lambda store, g=page_groups: page(store, g), list(stores))
            items, total = pages[0]
            if not items:
                return
            ids = [int(item["id"]) for item in items]
            if last is not None and min(ids) <= last:
                raise MagentoRestError(f"Magento REST /V1/products ignored the filter entity_id > {last}")
            ranged = [*groups, [("entity_id", str(min(ids)), "gteq")], [("entity_id", str(max(ids)), "lteq")]]
            per_store = [(first, items)]
            for store, (store_items, _total) in zip(stores[1:], pages[1:], strict=True):
                if sorted(int(i["id"]) for i in store_items) != sorted(ids):
                    store_items = [
                        item
                        for found in self.client.search_after(
                            "/V1/products",
                            key="entity_id",
                            store=store.code,
                            resource=RESOURCE_PRODUCTS,
                            fields=_PRODUCT_FIELDS,
                            groups=ranged,
                            page_size=self.batch_size,
                            endpoint="products:reread",
                        )
                        for item in found
                    ]
                per_store.append((store, store_items))
            yield self._product_batch(ids, per_store)
            if len(items) >= total:
                return
            last = max(ids)

    def _product_batch(self, ids: list[int], per_store: list[tuple[StoreView, list[dict]]]) -> ProductBatch:
        wanted = set(ids)
        linked = {
            _text(link.get("linked_product_sku"))
            for _store, items in per_store
            for item in items
            for link in item.get("product_links") or []
        }
        self._resolve_skus(linked)
        batch = ProductBatch(entity_ids=ids)
        stamps = [s for s in (_as_utc(item.get("updated_at")) for item in per_store[0][1]) if s is not None]
        batch.max_updated_at = max(stamps) if stamps else None
        for store, items in per_store:
            # A product created inside the range after the first view's page is read with the next
            # sync; the batch covers exactly the first view's products.
            for item in sorted((i for i in items if int(i["id"]) in wanted), key=lambda i: int(i["id"])):
                batch.gallery.extend(self._gallery(store, item))
                batch.links.extend(self._links(store, item))
        return batch

    @staticmethod
    def _product_fields(item: dict) -> tuple[int, str, str, bool, int | None, datetime | None]:
        status = _int_or_none(item.get("status"))
        return (
            int(item["id"]),
            _text(item.get("sku")),
            _text(item.get("name")),
            status == 1,
            _int_or_none(item.get("visibility")),
            _as_utc(item.get("updated_at")),
        )

    def _gallery(self, store: StoreView, item: dict) -> list[GalleryEntry]:
        entity_id, sku, name, enabled, visibility, updated = self._product_fields(item)
        entries = []
        for entry in sorted(item.get("media_gallery_entries") or [], key=lambda e: int(e["id"])):
            types = set(entry.get("types") or [])
            video_url, video_title = _video(entry)
            entries.append(
                GalleryEntry(
                    store_code=store.code,
                    entity_id=entity_id,
                    sku=sku,
                    value_id=int(entry["id"]),
                    file=_text(entry.get("file")),
                    media_type=_text(entry.get("media_type")) or "image",
                    label=_text(entry.get("label")),
                    position=_int_or_none(entry.get("position")),
                    hidden=_flag(entry.get("disabled")),
                    roles=tuple(role for role in IMAGE_ROLES if role in types),
                    product_name=name,
                    product_enabled=enabled,
                    product_visibility=visibility,
                    updated_at=updated,
                    video_url=video_url,
                    video_title=video_title,
                )
            )
        return entries

    def _links(self, store: StoreView, item: dict) -> list[ProductLinkSet]:
        entity_id, sku, name, enabled, _visibility, updated = self._product_fields(item)
        grouped: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for index, link in enumerate(item.get("product_links") or []):
            link_type = REST_LINK_TYPES.get(_text(link.get("link_type")))
            linked = _text(link.get("linked_product_sku"))
            if link_type is None or linked not in self._sku_ids:
                continue  # grouped-product members, or a product deleted since
            position = _int_or_none(link.get("position"))
            grouped[link_type].append((position if position is not None else 2**31, index, linked))
        sets = []
        for link_type in sorted(grouped, key=_LINK_ORDER.__getitem__):
            ordered = sorted(grouped[link_type])
            sets.append(
                ProductLinkSet(
                    store_code=store.code,
                    entity_id=entity_id,
                    sku=sku,
                    link_type=link_type,
                    linked_skus=tuple(m[2] for m in ordered),
                    linked_entity_ids=tuple(self._sku_ids[m[2]] for m in ordered),
                    product_name=name,
                    product_enabled=enabled,
                    updated_at=updated,
                )
            )
        return sets

    # -- CMS ------------------------------------------------------------------------------

    @staticmethod
    def _cms(surface: str) -> tuple[str, str, str, str]:
        if surface not in _CMS:
            raise ValueError(f"not a CMS surface: {surface}")
        return _CMS[surface]

    def cms_ids(self, surface: str) -> list[int]:
        """Every block or page id."""
        self.prepare()
        path, key, resource, _extra = self._cms(surface)
        ids: list[int] = []
        for items in self.client.search_after(
            path,
            key=key,
            store=ADMIN_SCOPE,
            resource=resource,
            fields="items[id],total_count",
            endpoint=f"{surface}:ids",
        ):
            ids.extend(int(item["id"]) for item in items)
        return sorted(set(ids))

    def _cms_assignments(self, surface: str, stores: Sequence[StoreView]) -> dict[int, set[int]]:
        """content id -> assigned store ids (0 = all), from one ``store_id`` listing per store."""
        wanted = [0, *(s.store_id for s in stores)]
        assigned = self._assignments.setdefault(surface, {})
        listed = self._listed_stores.setdefault(surface, set())
        path, key, resource, _extra = self._cms(surface)

        def listing(store_id: int) -> tuple[int, list[int]]:
            ids: list[int] = []
            for items in self.client.search_pages(
                path,
                store=ADMIN_SCOPE,
                resource=resource,
                fields="items[id],total_count",
                groups=[[("store_id", str(store_id), "eq")]],
                sort=[(key, "ASC")],
                endpoint=f"{surface}:stores",
            ):
                ids.extend(int(item["id"]) for item in items)
            return store_id, ids

        for store_id, ids in self._map(listing, [sid for sid in wanted if sid not in listed]):
            listed.add(store_id)
            for content_id in ids:
                assigned.setdefault(content_id, set()).add(store_id)
        return assigned

    def cms_batches(
        self,
        surface: str,
        stores: Sequence[StoreView],
        *,
        updated_since: datetime | None = None,
        batch_size: int | None = None,
    ) -> Iterator[tuple[list[int], list[CmsContent], datetime | None]]:
        """(ids in the batch, contents per assigned store view, newest update_time) per page."""
        self.prepare()
        path, key, resource, extra = self._cms(surface)
        assignments = self._cms_assignments(surface, stores)
        groups: list[list[Filter]] = []
        if updated_since is not None:
            groups.append([("update_time", _db_time(updated_since), "gteq")])
        for items in self.client.search_after(
            path,
            key=key,
            store=ADMIN_SCOPE,
            resource=resource,
            fields=f"items[id,identifier,title,content,active,update_time{extra}],total_count",
            groups=groups,
            page_size=min(batch_size or self.batch_size, MAX_PAGE_SIZE),
            endpoint=surface,
        ):
            contents: list[CmsContent] = []
            stamps = []
            for item in items:
                content_id = int(item["id"])
                updated_at = _as_utc(item.get("update_time"))
                if updated_at:
                    stamps.append(updated_at)
                assigned = assignments.get(content_id, set())
                for store in stores:
                    if 0 not in assigned and store.store_id not in assigned:
                        continue
                    contents.append(
                        CmsContent(
                            surface=surface,
                            store_code=store.code,
                            content_id=content_id,
                            identifier=_text(item.get("identifier")),
                            title=_text(item.get("title")),
                            content=_text(item.get("content")),
                            is_active=_flag(item.get("active")),
                            all_stores=0 in assigned,
                            updated_at=updated_at,
                            content_heading=_text(item.get("content_heading")),
                        )
                    )
            yield [int(item["id"]) for item in items], contents, (max(stamps) if stamps else None)

    # -- health ---------------------------------------------------------------------------

    def ping(self) -> None:
        """Raise a :class:`MagentoError` unless the store list can be read (no retries)."""
        self.client.get(
            "/V1/store/storeViews",
            store=ADMIN_SCOPE,
            resource=RESOURCE_STORES,
            endpoint="storeViews",
            retries=0,
        )
