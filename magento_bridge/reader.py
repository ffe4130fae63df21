"""Read a Magento 2.4 database (Open Source or Adobe Commerce with content staging).

Implements the storefront view of the tables listed in the project's Magento reference:
store-view fallback (store N over store 0), EAV attribute ids looked up by code, image roles and
``no_selection``, per-store and global hidden gallery entries, CMS store assignment (0 = all store
views), product links of types relation / up_sell / cross_sell ordered by position, an optional
table prefix, and content staging detected from the schema (``row_id``) with only the live
version read and ``entity_id`` exposed.

Reads stream in bounded batches with keyset pagination (``WHERE id > last ORDER BY id LIMIT n``),
so memory stays flat whatever the catalog size. Every query is retried with exponential backoff
when the connection drops; a retried batch reads exactly the same rows again.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from magento_bridge.connection import DatabaseUrl, connect, placeholder_sql
from magento_bridge.records import (
    IMAGE_ROLES,
    LINK_TYPES,
    SURFACE_CMS_BLOCK,
    SURFACE_CMS_PAGE,
    CmsContent,
    GalleryEntry,
    ProductLinkSet,
    StoreView,
)
from magento_bridge.schema import REQUIRED_TABLES

logger = logging.getLogger(__name__)

# Magento's "forever" for staging versions (updated_in of the open-ended version).
STAGING_MAX_VERSION = 2147483647


class MagentoError(Exception):
    """Base class for problems reading Magento."""


class MagentoUnavailable(MagentoError):
    """The Magento database could not be reached, even after retries."""


class MagentoSchemaError(MagentoError):
    """The Magento database lacks a table or attribute we need."""


class UnknownStoreError(MagentoError):
    """A store code that is not an active storefront store view."""


def store_views_select(views: Sequence[StoreView], codes: Sequence[str] | None) -> list[StoreView]:
    """The views named by ``codes``, in that order, or every active view when none are named.

    Raises :class:`UnknownStoreError` naming the unknown codes and the known ones.
    """
    if not codes:
        return [v for v in views if v.is_active]
    by_code = {v.code: v for v in views}
    unknown = [c for c in codes if c not in by_code]
    if unknown:
        known = ", ".join(sorted(by_code)) or "none"
        raise UnknownStoreError(f"unknown store code(s): {', '.join(unknown)} (known: {known})")
    return [by_code[c] for c in codes]


def _transient_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.OperationalError, ConnectionError, TimeoutError]
    try:
        import pymysql

        errors += [pymysql.err.OperationalError, pymysql.err.InterfaceError]
    except ImportError:  # pragma: no cover - pymysql is a dependency
        pass
    return tuple(errors)


def _database_errors() -> tuple[type[BaseException], ...]:
    """Every DB-API error: not retried, reported as a Magento problem instead of a crash."""
    errors: list[type[BaseException]] = [sqlite3.Error]
    try:
        import pymysql

        errors.append(pymysql.err.MySQLError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


@dataclass
class ProductBatch:
    """Everything the storefront shows for a batch of products, for every requested store view."""

    entity_ids: list[int]
    gallery: list[GalleryEntry] = field(default_factory=list)
    links: list[ProductLinkSet] = field(default_factory=list)
    max_updated_at: datetime | None = None


def _as_utc(value: Any) -> datetime | None:
    """Magento stores timestamps in UTC; drivers hand back naive datetimes or strings."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = str(value)
    if text.startswith("0000-00-00"):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _db_time(value: datetime) -> str:
    """A cursor value as Magento's UTC ``YYYY-MM-DD HH:MM:SS``."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _store_value(scoped: tuple | None, default: tuple | None, index: int):
    """A store view's gallery value (label, position or disabled): its own row's unless NULL or
    missing, else store 0's."""
    if scoped is not None and scoped[index] is not None:
        return scoped[index]
    return default[index] if default else None


class MagentoReader:
    """Reads one Magento database through a read-only connection.

    ``db`` is the database URL; ``prefix`` the install's table prefix; ``retries`` and ``backoff``
    govern reconnects (sleep ``backoff * 2**attempt`` seconds). ``now`` gives the staging version
    (a Unix timestamp) and exists for tests.
    """

    def __init__(
        self,
        db: DatabaseUrl,
        *,
        prefix: str = "",
        batch_size: int = 1000,
        retries: int = 4,
        backoff: float = 2.0,
        connect_timeout: float = 10.0,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.prefix = prefix
        self.batch_size = batch_size
        self.retries = retries
        self.backoff = backoff
        self.connect_timeout = connect_timeout
        self._now = now
        self._sleep = sleep
        self._conn = None
        self._transient = _transient_errors()
        self._database_errors = _database_errors()
        self._prepared = False
        self.staging = False
        self.queries = 0

    # -- connection and queries -------------------------------------------------------------

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception as exc:  # noqa: BLE001 - closing a dead connection may fail any way it likes
                logger.debug("closing the Magento connection failed: %s", exc)
            self._conn = None

    def __enter__(self) -> MagentoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def t(self, name: str) -> str:
        """The prefixed, quoted table name."""
        quote = '"' if self.db.engine == "sqlite" else "`"
        return f"{quote}{self.prefix}{name}{quote}"

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        sql = placeholder_sql(sql, self.db.engine)
        attempt = 0
        while True:
            try:
                if self._conn is None:
                    self._conn = connect(self.db, read_only=True, connect_timeout=self.connect_timeout)
                cur = self._conn.cursor()
                try:
                    cur.execute(sql, tuple(params))
                    rows = cur.fetchall()
                finally:
                    cur.close()
                self.queries += 1
                return list(rows)
            except self._transient as exc:
                self.close()
                if self._is_missing_table(exc):
                    raise MagentoSchemaError(f"Magento table missing: {exc}") from exc
                if attempt >= self.retries:
                    where = self.db.redacted()
                    raise MagentoUnavailable(
                        f"Magento database {where} unreachable after {attempt + 1} attempt(s): {exc}"
                    ) from exc
                delay = self.backoff * (2**attempt)
                logger.warning("Magento query failed (%s); retrying in %.1fs", exc, delay)
                self._sleep(delay)
                attempt += 1
            except self._database_errors as exc:
                if self._is_missing_table(exc):
                    raise MagentoSchemaError(f"Magento table missing: {exc}") from exc
                raise MagentoError(f"Magento query failed: {exc}") from exc

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """One query on the read-only connection, with the reader's retries: for other rooms' scans.

        ``%s`` placeholders; table names through :meth:`t` (prefixed and quoted).
        """
        return self._query(sql, params)

    def has_table(self, name: str) -> bool:
        """Whether the (unprefixed) table exists."""
        return self.prefix + name in self._existing_tables()

    @staticmethod
    def _is_missing_table(exc: BaseException) -> bool:
        text = str(exc).lower()
        return "no such table" in text or "doesn't exist" in text

    def _in(self, values: Iterable[Any]) -> str:
        return ", ".join(["%s"] * len(list(values)))

    # -- schema ---------------------------------------------------------------------------

    def _existing_tables(self) -> set[str]:
        if self.db.engine == "sqlite":
            rows = self._query("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = self._query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
            )
        return {_text(r[0]) for r in rows}

    def _columns(self, table: str) -> set[str]:
        if self.db.engine == "sqlite":
            rows = self._query(f"PRAGMA table_info({self.t(table)})")
            return {_text(r[1]) for r in rows}
        rows = self._query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = %s",
            [self.prefix + table],
        )
        return {_text(r[0]) for r in rows}

    def prepare(self) -> None:
        """Check the schema, detect staging and look up attribute ids by code."""
        if self._prepared:
            return
        existing = self._existing_tables()
        missing = [name for name in REQUIRED_TABLES if self.prefix + name not in existing]
        if missing:
            prefix_note = f" (table prefix {self.prefix!r})" if self.prefix else ""
            raise MagentoSchemaError(
                f"Magento database {self.db.redacted()} lacks table(s){prefix_note}: {', '.join(missing)}"
            )
        self.staging = "row_id" in self._columns("catalog_product_entity")
        rows = self._query(
            f"SELECT entity_type_id FROM {self.t('eav_entity_type')} WHERE entity_type_code = %s",
            ["catalog_product"],
        )
        if not rows:
            raise MagentoSchemaError("eav_entity_type has no catalog_product entity type")
        product_type_id = int(rows[0][0])
        wanted = ("name", "status", "visibility", "media_gallery", *IMAGE_ROLES)
        rows = self._query(
            f"SELECT attribute_code, attribute_id, backend_type FROM {self.t('eav_attribute')} "
            f"WHERE entity_type_id = %s AND attribute_code IN ({self._in(wanted)})",
            [product_type_id, *wanted],
        )
        self.attributes = {_text(code): (int(attr_id), _text(backend)) for code, attr_id, backend in rows}
        for required in ("name", "status", "visibility"):
            if required not in self.attributes:
                raise MagentoSchemaError(f"catalog_product attribute {required!r} not found in eav_attribute")
        rows = self._query(f"SELECT link_type_id, code FROM {self.t('catalog_product_link_type')}")
        self.link_types = {int(i): LINK_TYPES[_text(c)] for i, c in rows if _text(c) in LINK_TYPES}
        rows = self._query(
            f"SELECT product_link_attribute_id FROM {self.t('catalog_product_link_attribute')} "
            "WHERE product_link_attribute_code = %s",
            ["position"],
        )
        self.position_attribute_ids = [int(r[0]) for r in rows]
        self._prepared = True

    @property
    def version(self) -> int:
        """The staging version the storefront shows now."""
        return int(self._now())

    def _live(self, alias: str) -> tuple[str, list[int]]:
        """SQL restricting a staged table to its live row, and the parameters."""
        if not self.staging:
            return "", []
        v = self.version
        return f" AND {alias}.created_in <= %s AND {alias}.updated_in > %s", [v, v]

    # -- stores ---------------------------------------------------------------------------

    def store_views(self, codes: Sequence[str] | None = None) -> list[StoreView]:
        """Active storefront store views, or exactly ``codes`` (unknown codes raise)."""
        self.prepare()
        rows = self._query(
            f"SELECT store_id, code, name, website_id, is_active FROM {self.t('store')} "
            "WHERE store_id > 0 ORDER BY store_id"
        )
        config = self._query(
            f"SELECT scope, scope_id, path, value FROM {self.t('core_config_data')} "
            "WHERE path IN ('web/secure/base_url', 'web/secure/base_media_url')"
        )
        cfg: dict[tuple[str, int, str], str] = {
            (_text(scope), int(scope_id), _text(path)): _text(value)
            for scope, scope_id, path, value in config
        }

        def lookup(path: str, store_id: int, website_id: int) -> str:
            for key in (("stores", store_id), ("websites", website_id), ("default", 0)):
                if (key[0], key[1], path) in cfg:
                    return cfg[(key[0], key[1], path)]
            return ""

        views = []
        for store_id, code, name, website_id, is_active in rows:
            base = lookup("web/secure/base_url", int(store_id), int(website_id))
            media = lookup("web/secure/base_media_url", int(store_id), int(website_id))
            media = media.replace("{{secure_base_url}}", base).replace("{{unsecure_base_url}}", base)
            views.append(
                StoreView(
                    store_id=int(store_id),
                    code=_text(code),
                    name=_text(name),
                    website_id=int(website_id),
                    is_active=bool(is_active),
                    base_url=base,
                    media_base_url=media or (f"{base}media/" if base else ""),
                )
            )
        return store_views_select(views, codes)

    # -- products: gallery entries and links ----------------------------------------------

    def product_ids(self, *, updated_since: datetime | None = None) -> list[int]:
        """Every live product's entity_id (for removal detection between full syncs), or those
        whose ``updated_at`` is at or after ``updated_since``."""
        self.prepare()
        live, params = self._live("e")
        since, since_params = "", []
        if updated_since is not None:
            since, since_params = " AND e.updated_at >= %s", [_db_time(updated_since)]
        ids: list[int] = []
        last = 0
        while True:
            rows = self._query(
                f"SELECT e.entity_id FROM {self.t('catalog_product_entity')} e WHERE e.entity_id > %s"
                f"{since}{live} ORDER BY e.entity_id LIMIT %s",
                [last, *since_params, *params, self.batch_size * 10],
            )
            if not rows:
                return ids
            ids.extend(int(r[0]) for r in rows)
            last = ids[-1]

    def product_batches(
        self,
        stores: Sequence[StoreView],
        *,
        updated_since: datetime | None = None,
        entity_ids: Sequence[int] | None = None,
    ) -> Iterator[ProductBatch]:
        """Gallery entries and link lists of every live product, ``batch_size`` products at a time.

        ``updated_since`` restricts to products whose ``updated_at`` is at or after it (incremental
        sync); ``entity_ids`` to the given products.
        """
        self.prepare()
        live, live_params = self._live("e")
        key = "row_id" if self.staging else "entity_id"
        where = ""
        params: list[Any] = []
        if updated_since is not None:
            where += " AND e.updated_at >= %s"
            params.append(_db_time(updated_since))
        wanted = sorted(set(entity_ids)) if entity_ids is not None else None
        last = 0
        while True:
            if wanted is not None:
                chunk = [i for i in wanted if i > last][: self.batch_size]
                if not chunk:
                    return
                id_filter = f" AND e.entity_id IN ({self._in(chunk)})"
                id_params: list[Any] = chunk
            else:
                id_filter, id_params = "", []
            rows = self._query(
                f"SELECT e.entity_id, e.{key}, e.sku, e.updated_at FROM {self.t('catalog_product_entity')} e "
                f"WHERE e.entity_id > %s{id_filter}{where}{live} ORDER BY e.entity_id LIMIT %s",
                [last, *id_params, *params, *live_params, self.batch_size],
            )
            if not rows:
                return
            last = int(rows[-1][0])
            yield self._product_batch(rows, stores)

    def gallery_files(self, *, updated_since: datetime | None = None) -> list[str]:
        """The distinct gallery files of every live product (or of those whose ``updated_at`` is at
        or after ``updated_since``), sorted: what a sync reads from the media source."""
        self.prepare()
        key = "row_id" if self.staging else "entity_id"
        live, live_params = self._live("e")
        since, since_params = "", []
        if updated_since is not None:
            since, since_params = " AND e.updated_at >= %s", [_db_time(updated_since)]
        rows = self._query(
            "SELECT DISTINCT g.value "
            f"FROM {self.t('catalog_product_entity_media_gallery_value_to_entity')} vte "
            f"JOIN {self.t('catalog_product_entity_media_gallery')} g ON g.value_id = vte.value_id "
            f"JOIN {self.t('catalog_product_entity')} e ON e.{key} = vte.{key} "
            f"WHERE g.value IS NOT NULL AND g.value <> ''{since}{live}",
            [*since_params, *live_params],
        )
        return sorted({_text(r[0]) for r in rows})

    def _product_batch(self, rows: list[tuple], stores: Sequence[StoreView]) -> ProductBatch:
        products = {
            int(row_key): (int(entity_id), _text(sku), _as_utc(updated))
            for entity_id, row_key, sku, updated in rows
        }
        keys = list(products)
        store_ids = [0, *(s.store_id for s in stores)]
        values = self._attribute_values(keys, store_ids)
        batch = ProductBatch(entity_ids=[p[0] for p in products.values()])
        stamps = [p[2] for p in products.values() if p[2] is not None]
        batch.max_updated_at = max(stamps) if stamps else None
        batch.gallery = self._gallery(products, keys, stores, store_ids, values)
        batch.links = self._links(products, keys, stores, values)
        return batch

    def _attribute_values(self, keys: list[int], store_ids: list[int]) -> dict[tuple[int, str, int], Any]:
        """(row key, attribute code, store_id) -> value for the attributes the storefront needs."""
        key = "row_id" if self.staging else "entity_id"
        by_table: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for code, (attr_id, backend) in self.attributes.items():
            if backend in ("varchar", "int", "text", "decimal", "datetime"):
                by_table[backend].append((code, attr_id))
        result: dict[tuple[int, str, int], Any] = {}
        for backend, attrs in by_table.items():
            code_by_id = {attr_id: code for code, attr_id in attrs}
            ids = list(code_by_id)
            table = self.t("catalog_product_entity_" + backend)
            rows = self._query(
                f"SELECT {key}, attribute_id, store_id, value FROM {table} "
                f"WHERE {key} IN ({self._in(keys)}) AND attribute_id IN ({self._in(ids)}) "
                f"AND store_id IN ({self._in(store_ids)})",
                [*keys, *ids, *store_ids],
            )
            for row_key, attr_id, store_id, value in rows:
                result[(int(row_key), code_by_id[int(attr_id)], int(store_id))] = value
        return result

    @staticmethod
    def _scoped(values: dict, row_key: int, code: str, store_id: int) -> Any:
        """Store-view value over the default (store 0) value."""
        value = values.get((row_key, code, store_id))
        if value is None:
            value = values.get((row_key, code, 0))
        return value

    def _gallery(
        self,
        products: dict[int, tuple[int, str, datetime | None]],
        keys: list[int],
        stores: Sequence[StoreView],
        store_ids: list[int],
        values: dict,
    ) -> list[GalleryEntry]:
        """Every gallery entry of these products in every store view, store values falling back to
        store 0's."""
        links = self._gallery_links(keys)
        if not links:
            return []
        scoped = self._gallery_values(keys, store_ids)
        videos = self._gallery_videos(links, store_ids)
        return [
            self._gallery_entry(store, link, products[int(link[0])], scoped, videos, values)
            for store in stores
            for link in links
        ]

    def _gallery_links(self, keys: list[int]) -> list[tuple]:
        """``(key, value_id, file, media_type, disabled)`` of each product's gallery entries."""
        key = "row_id" if self.staging else "entity_id"
        return self._query(
            f"SELECT vte.{key}, g.value_id, g.value, g.media_type, g.disabled "
            f"FROM {self.t('catalog_product_entity_media_gallery_value_to_entity')} vte "
            f"JOIN {self.t('catalog_product_entity_media_gallery')} g ON g.value_id = vte.value_id "
            f"WHERE vte.{key} IN ({self._in(keys)}) ORDER BY vte.{key}, g.value_id",
            keys,
        )

    def _gallery_values(self, keys: list[int], store_ids: list[int]) -> dict[tuple[int, int, int], tuple]:
        """(value_id, key, store_id) -> (label, position, disabled) of the store-scoped gallery rows."""
        key = "row_id" if self.staging else "entity_id"
        rows = self._query(
            f"SELECT value_id, {key}, store_id, label, position, disabled, record_id "
            f"FROM {self.t('catalog_product_entity_media_gallery_value')} "
            f"WHERE {key} IN ({self._in(keys)}) AND store_id IN ({self._in(store_ids)}) ORDER BY record_id",
            [*keys, *store_ids],
        )
        found: dict[tuple[int, int, int], tuple] = {}
        for value_id, row_key, store_id, label, position, disabled, _record in rows:
            # No unique key in Magento: the first row for (value, product, store) wins.
            found.setdefault((int(value_id), int(row_key), int(store_id)), (label, position, disabled))
        return found

    def _gallery_videos(
        self, links: list[tuple], store_ids: list[int]
    ) -> dict[tuple[int, int], tuple[str, str]]:
        """(value_id, store_id) -> (url, title) of the external videos among the entries."""
        video_ids = [int(v) for _k, v, _f, media_type, _d in links if _text(media_type) == "external-video"]
        if not video_ids:
            return {}
        rows = self._query(
            f"SELECT value_id, store_id, url, title FROM "
            f"{self.t('catalog_product_entity_media_gallery_value_video')} "
            f"WHERE value_id IN ({self._in(video_ids)}) AND store_id IN ({self._in(store_ids)})",
            [*video_ids, *store_ids],
        )
        return {(int(v), int(s)): (_text(u), _text(t)) for v, s, u, t in rows}

    def _gallery_entry(
        self,
        store: StoreView,
        link: tuple,
        product: tuple[int, str, datetime | None],
        scoped_values: dict[tuple[int, int, int], tuple],
        videos: dict[tuple[int, int], tuple[str, str]],
        values: dict,
    ) -> GalleryEntry:
        """One entry as the store view shows it: its label, position and hiding, the roles it has
        there, and the product's name, status and visibility there."""
        sid = store.store_id
        row_key, value_id, file, media_type, globally_disabled = link
        row_key, value_id, file = int(row_key), int(value_id), _text(file)
        entity_id, sku, updated = product
        default = scoped_values.get((value_id, row_key, 0))
        scoped = scoped_values.get((value_id, row_key, sid))
        hidden = _store_value(scoped, default, 2)
        video = videos.get((value_id, sid)) or videos.get((value_id, 0)) or ("", "")
        status = _int_or_none(self._scoped(values, row_key, "status", sid))
        return GalleryEntry(
            store_code=store.code,
            entity_id=entity_id,
            sku=sku,
            value_id=value_id,
            file=file,
            media_type=_text(media_type) or "image",
            label=_text(_store_value(scoped, default, 0)),
            position=_int_or_none(_store_value(scoped, default, 1)),
            hidden=bool(int(hidden or 0)) or bool(int(globally_disabled or 0)),
            roles=self._image_roles(values, row_key, file, sid),
            product_name=_text(self._scoped(values, row_key, "name", sid)),
            product_enabled=status == 1,
            product_visibility=_int_or_none(self._scoped(values, row_key, "visibility", sid)),
            updated_at=updated,
            video_url=video[0],
            video_title=video[1],
        )

    def _image_roles(self, values: dict, row_key: int, file: str, store_id: int) -> tuple[str, ...]:
        """The roles (base, small, thumbnail, swatch) whose value in the store view is this file."""
        return tuple(
            role
            for role in IMAGE_ROLES
            if role in self.attributes and _text(self._scoped(values, row_key, role, store_id)) == file
        )

    def _links(
        self,
        products: dict[int, tuple[int, str, datetime | None]],
        keys: list[int],
        stores: Sequence[StoreView],
        values: dict,
    ) -> list[ProductLinkSet]:
        if not self.link_types:
            return []
        type_ids = list(self.link_types)
        position_join = ""
        position_params: list[Any] = []
        if self.position_attribute_ids:
            position_join = (
                f"LEFT JOIN {self.t('catalog_product_link_attribute_int')} pos ON pos.link_id = l.link_id "
                f"AND pos.product_link_attribute_id IN ({self._in(self.position_attribute_ids)})"
            )
            position_params = list(self.position_attribute_ids)
            position_col = "pos.value"
        else:
            position_col = "NULL"
        rows = self._query(
            f"SELECT l.product_id, l.link_type_id, l.linked_product_id, {position_col}, l.link_id "
            f"FROM {self.t('catalog_product_link')} l {position_join} "
            f"WHERE l.product_id IN ({self._in(keys)}) AND l.link_type_id IN ({self._in(type_ids)})",
            [*position_params, *keys, *type_ids],
        )
        if not rows:
            return []
        linked_ids = sorted({int(r[2]) for r in rows})
        live, live_params = self._live("e")
        sku_rows = self._query(
            f"SELECT e.entity_id, e.sku FROM {self.t('catalog_product_entity')} e "
            f"WHERE e.entity_id IN ({self._in(linked_ids)}){live}",
            [*linked_ids, *live_params],
        )
        skus = {int(i): _text(s) for i, s in sku_rows}
        grouped: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
        for product_key, type_id, linked_id, position, link_id in rows:
            if int(product_key) not in products or int(linked_id) not in skus:
                continue  # a link from an old staging version, or to a deleted product
            pos = _int_or_none(position)
            grouped[(int(product_key), int(type_id))].append(
                (pos if pos is not None else 2**31, int(link_id), int(linked_id))
            )
        sets = []
        for store in stores:
            for (product_key, type_id), members in sorted(grouped.items()):
                entity_id, sku, updated = products[product_key]
                ordered = sorted(members)
                status = _int_or_none(self._scoped(values, product_key, "status", store.store_id))
                sets.append(
                    ProductLinkSet(
                        store_code=store.code,
                        entity_id=entity_id,
                        sku=sku,
                        link_type=self.link_types[type_id],
                        linked_skus=tuple(skus[m[2]] for m in ordered),
                        linked_entity_ids=tuple(m[2] for m in ordered),
                        product_name=_text(self._scoped(values, product_key, "name", store.store_id)),
                        product_enabled=status == 1,
                        updated_at=updated,
                    )
                )
        return sets

    # -- CMS ------------------------------------------------------------------------------

    def cms_ids(self, surface: str) -> list[int]:
        """Every live block or page id."""
        self.prepare()
        table, id_col = self._cms_table(surface)
        live, params = self._live("c")
        rows = self._query(f"SELECT DISTINCT c.{id_col} FROM {self.t(table)} c WHERE 1 = 1{live}", params)
        return sorted(int(r[0]) for r in rows)

    @staticmethod
    def _cms_table(surface: str) -> tuple[str, str]:
        if surface == SURFACE_CMS_BLOCK:
            return "cms_block", "block_id"
        if surface == SURFACE_CMS_PAGE:
            return "cms_page", "page_id"
        raise ValueError(f"not a CMS surface: {surface}")

    def cms_batches(
        self,
        surface: str,
        stores: Sequence[StoreView],
        *,
        updated_since: datetime | None = None,
        batch_size: int | None = None,
    ) -> Iterator[tuple[list[int], list[CmsContent], datetime | None]]:
        """(ids in the batch, contents per assigned store view, newest update_time) per batch."""
        self.prepare()
        table, id_col = self._cms_table(surface)
        key = "row_id" if self.staging else id_col
        heading = ", c.content_heading" if surface == SURFACE_CMS_PAGE else ", ''"
        live, live_params = self._live("c")
        since = ""
        since_params: list[Any] = []
        if updated_since is not None:
            since = " AND c.update_time >= %s"
            since_params.append(_db_time(updated_since))
        size = batch_size or max(50, self.batch_size // 5)
        by_store_id = {s.store_id: s for s in stores}
        last = 0
        while True:
            rows = self._query(
                f"SELECT c.{id_col}, c.{key}, c.identifier, c.title, c.content, c.is_active, c.update_time"
                f"{heading} FROM {self.t(table)} c WHERE c.{id_col} > %s{since}{live} "
                f"ORDER BY c.{id_col} LIMIT %s",
                [last, *since_params, *live_params, size],
            )
            if not rows:
                return
            last = int(rows[-1][0])
            keys = [int(r[1]) for r in rows]
            store_key = "row_id" if self.staging else id_col
            assignments: dict[int, set[int]] = defaultdict(set)
            for row_key, store_id in self._query(
                f"SELECT {store_key}, store_id FROM {self.t(table + '_store')} "
                f"WHERE {store_key} IN ({self._in(keys)})",
                keys,
            ):
                assignments[int(row_key)].add(int(store_id))
            contents = []
            stamps = []
            for content_id, row_key, identifier, title, content, is_active, updated, content_heading in rows:
                updated_at = _as_utc(updated)
                if updated_at:
                    stamps.append(updated_at)
                assigned = assignments.get(int(row_key), set())
                for store in stores:
                    if 0 not in assigned and store.store_id not in assigned:
                        continue
                    contents.append(
                        CmsContent(
                            surface=surface,
                            store_code=by_store_id[store.store_id].code,
                            content_id=int(content_id),
                            identifier=_text(identifier),
                            title=_text(title),
                            content=_text(content),
                            is_active=bool(int(is_active or 0)),
                            all_stores=0 in assigned,
                            updated_at=updated_at,
                            content_heading=_text(content_heading),
                        )
                    )
            yield [int(r[0]) for r in rows], contents, (max(stamps) if stamps else None)

    def source_stats(self) -> dict:
        """What this source did, for the sync run's record (``engine``: ``sqlite`` or ``mysql``)."""
        return {"queries": self.queries, "engine": self.db.engine}

    # -- health ---------------------------------------------------------------------------

    def ping(self) -> None:
        """Raise :class:`MagentoUnavailable` unless a trivial query succeeds (no retries)."""
        retries, self.retries = self.retries, 0
        try:
            self._query("SELECT 1")
        finally:
            self.retries = retries
