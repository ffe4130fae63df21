"""The subset of the Magento 2.4 schema that the bridge reads, as DDL for MySQL/MariaDB and SQLite.

Table names, column names, MySQL column types, primary keys, unique keys and the main indexes follow
the ``etc/db_schema.xml`` files of Magento 2.4's Store, Config, Eav, Catalog, ProductVideo, Cms,
UrlRewrite, Customer, Quote and Sales modules. Foreign keys are left out: the bridge only reads, and
the demo store inserts rows in an order that would not satisfy them.

``staging=True`` gives the Adobe Commerce content-staging layout (CatalogStaging, CmsStaging):
``catalog_product_entity``, ``cms_block`` and ``cms_page`` carry one row per version keyed by
``row_id`` with ``created_in``/``updated_in``; the product value tables, the gallery value tables
and the CMS store tables join on ``row_id``; ``sequence_*`` tables hand out the stable ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

REQUIRED_TABLES: tuple[str, ...] = (
    "store_website",
    "store_group",
    "store",
    "core_config_data",
    "eav_entity_type",
    "eav_attribute",
    "catalog_eav_attribute",
    "catalog_product_entity",
    "catalog_product_entity_varchar",
    "catalog_product_entity_int",
    "catalog_product_entity_text",
    "catalog_product_entity_decimal",
    "catalog_product_entity_datetime",
    "catalog_product_entity_media_gallery",
    "catalog_product_entity_media_gallery_value",
    "catalog_product_entity_media_gallery_value_to_entity",
    "catalog_product_entity_media_gallery_value_video",
    "catalog_product_link_type",
    "catalog_product_link",
    "catalog_product_link_attribute",
    "catalog_product_link_attribute_int",
    "cms_block",
    "cms_block_store",
    "cms_page",
    "cms_page_store",
    "url_rewrite",
)

# Read by the separation checks only (Customer, Quote and Sales modules), never required by the sync.
SALES_TABLES: tuple[str, ...] = ("customer_entity", "quote", "sales_order", "sales_order_payment")

# Adobe Commerce only: the sequence tables that hand out entity_id / block_id / page_id.
STAGING_TABLES: tuple[str, ...] = ("sequence_product", "sequence_cms_block", "sequence_cms_page")

# Magento's VersionManager::MAX_VERSION: updated_in of a version that never ends.
STAGING_MAX_VERSION = 2147483647

DIALECTS = ("mysql", "sqlite")

_NOW = "current_timestamp()"


@dataclass(frozen=True)
class _Column:
    name: str
    type: str  # MySQL type as Magento declares it, e.g. "int(10) unsigned", "varchar(64)"
    nullable: bool = True
    default: str | None = None  # SQL literal, e.g. "0", "'simple'", _NOW
    identity: bool = False
    on_update: bool = False


@dataclass(frozen=True)
class _Index:
    columns: tuple[str, ...]
    kind: str = "index"  # "index", "unique" or "fulltext"


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[_Column, ...]
    primary: tuple[str, ...] = ()
    indexes: tuple[_Index, ...] = field(default_factory=tuple)


def _c(name: str, type_: str, *, null: bool = True, default: str | None = None, **kw) -> _Column:
    return _Column(name, type_, nullable=null, default=default, **kw)


def _nn(name: str, type_: str, default: str | None = None, **kw) -> _Column:
    return _Column(name, type_, nullable=False, default=default, **kw)


def _identity(name: str, type_: str) -> _Column:
    return _Column(name, type_, nullable=False, identity=True)


def _idx(*columns: str) -> _Index:
    return _Index(tuple(columns))


def _unique(*columns: str) -> _Index:
    return _Index(tuple(columns), "unique")


def _fulltext(*columns: str) -> _Index:
    return _Index(tuple(columns), "fulltext")


U_INT = "int(10) unsigned"
U_SMALL = "smallint(5) unsigned"
U_BIG = "bigint(20) unsigned"


def _staging_columns() -> tuple[_Column, ...]:
    return (
        _nn("created_in", U_BIG, "1"),
        _nn("updated_in", U_BIG, str(STAGING_MAX_VERSION)),
    )


def _store_tables() -> list[_Table]:
    return [
        _Table(
            "store_website",
            (
                _identity("website_id", U_SMALL),
                _c("code", "varchar(32)"),
                _c("name", "varchar(64)"),
                _nn("sort_order", U_SMALL, "0"),
                _nn("default_group_id", U_SMALL, "0"),
                _c("is_default", U_SMALL, default="0"),
            ),
            ("website_id",),
            (_unique("code"), _idx("sort_order"), _idx("default_group_id")),
        ),
        _Table(
            "store_group",
            (
                _identity("group_id", U_SMALL),
                _nn("website_id", U_SMALL, "0"),
                _nn("name", "varchar(255)"),
                _nn("root_category_id", U_INT, "0"),
                _nn("default_store_id", U_SMALL, "0"),
                _c("code", "varchar(32)"),
            ),
            ("group_id",),
            (_unique("code"), _idx("website_id"), _idx("default_store_id")),
        ),
        _Table(
            "store",
            (
                _identity("store_id", U_SMALL),
                _c("code", "varchar(32)"),
                _nn("website_id", U_SMALL, "0"),
                _nn("group_id", U_SMALL, "0"),
                _nn("name", "varchar(255)"),
                _nn("sort_order", U_SMALL, "0"),
                _nn("is_active", U_SMALL, "0"),
            ),
            ("store_id",),
            (_unique("code"), _idx("website_id"), _idx("is_active", "sort_order"), _idx("group_id")),
        ),
        _Table(
            "core_config_data",
            (
                _identity("config_id", U_INT),
                _nn("scope", "varchar(8)", "'default'"),
                _nn("scope_id", "int(11)", "0"),
                _nn("path", "varchar(255)", "'general'"),
                _c("value", "text"),
                _nn("updated_at", "timestamp", _NOW, on_update=True),
            ),
            ("config_id",),
            (_unique("scope", "scope_id", "path"),),
        ),
    ]


def _eav_tables() -> list[_Table]:
    flags = (
        "is_visible",
        "is_searchable",
        "is_filterable",
        "is_comparable",
        "is_visible_on_front",
        "is_html_allowed_on_front",
        "is_used_for_price_rules",
        "is_filterable_in_search",
        "used_in_product_listing",
        "used_for_sort_by",
    )
    more_flags = (
        "is_wysiwyg_enabled",
        "is_used_for_promo_rules",
        "is_required_in_admin_store",
        "is_used_in_grid",
        "is_visible_in_grid",
        "is_filterable_in_grid",
    )
    return [
        _Table(
            "eav_entity_type",
            (
                _identity("entity_type_id", U_SMALL),
                _nn("entity_type_code", "varchar(50)"),
                _nn("entity_model", "varchar(255)"),
                _c("attribute_model", "varchar(255)"),
                _c("entity_table", "varchar(255)"),
                _c("value_table_prefix", "varchar(255)"),
                _c("entity_id_field", "varchar(255)"),
                _nn("is_data_sharing", U_SMALL, "1"),
                _c("data_sharing_key", "varchar(100)", default="'default'"),
                _nn("default_attribute_set_id", U_SMALL, "0"),
                _c("increment_model", "varchar(255)"),
                _nn("increment_per_store", U_SMALL, "0"),
                _nn("increment_pad_length", U_SMALL, "8"),
                _nn("increment_pad_char", "varchar(1)", "'0'"),
                _c("additional_attribute_table", "varchar(255)"),
                _c("entity_attribute_collection", "varchar(255)"),
            ),
            ("entity_type_id",),
            (_idx("entity_type_code"),),
        ),
        _Table(
            "eav_attribute",
            (
                _identity("attribute_id", U_SMALL),
                _nn("entity_type_id", U_SMALL, "0"),
                _nn("attribute_code", "varchar(255)"),
                _c("attribute_model", "varchar(255)"),
                _c("backend_model", "varchar(255)"),
                _nn("backend_type", "varchar(8)", "'static'"),
                _c("backend_table", "varchar(255)"),
                _c("frontend_model", "varchar(255)"),
                _c("frontend_input", "varchar(50)"),
                _c("frontend_label", "varchar(255)"),
                _c("frontend_class", "varchar(255)"),
                _c("source_model", "varchar(255)"),
                _nn("is_required", U_SMALL, "0"),
                _nn("is_user_defined", U_SMALL, "0"),
                _c("default_value", "text"),
                _nn("is_unique", U_SMALL, "0"),
                _c("note", "varchar(255)"),
            ),
            ("attribute_id",),
            (
                _unique("entity_type_id", "attribute_code"),
                _idx("frontend_input", "entity_type_id", "is_user_defined"),
            ),
        ),
        _Table(
            "catalog_eav_attribute",
            (
                _nn("attribute_id", U_SMALL),
                _c("frontend_input_renderer", "varchar(255)"),
                _nn("is_global", U_SMALL, "1"),
                *(_nn(name, U_SMALL, "1" if name == "is_visible" else "0") for name in flags),
                _c("apply_to", "varchar(255)"),
                _nn("is_visible_in_advanced_search", U_SMALL, "0"),
                _nn("position", "int(11)", "0"),
                *(_nn(name, U_SMALL, "0") for name in more_flags),
                _nn("search_weight", "float", "1"),
                _c("additional_data", "text"),
            ),
            ("attribute_id",),
            (_idx("used_for_sort_by"), _idx("used_in_product_listing")),
        ),
    ]


def _product_tables(staging: bool) -> list[_Table]:
    key = "row_id" if staging else "entity_id"
    if staging:
        entity = _Table(
            "catalog_product_entity",
            (
                _identity("row_id", U_INT),
                _nn("entity_id", U_INT),
                *_staging_columns(),
                _nn("attribute_set_id", U_SMALL, "0"),
                _nn("type_id", "varchar(32)", "'simple'"),
                _c("sku", "varchar(64)"),
                _nn("has_options", "smallint(6)", "0"),
                _nn("required_options", U_SMALL, "0"),
                _nn("created_at", "timestamp", _NOW),
                _nn("updated_at", "timestamp", _NOW, on_update=True),
            ),
            ("row_id",),
            (
                _idx("entity_id", "created_in", "updated_in"),
                _idx("created_in"),
                _idx("updated_in"),
                _idx("attribute_set_id"),
                _idx("sku"),
            ),
        )
    else:
        entity = _Table(
            "catalog_product_entity",
            (
                _identity("entity_id", U_INT),
                _nn("attribute_set_id", U_SMALL, "0"),
                _nn("type_id", "varchar(32)", "'simple'"),
                _c("sku", "varchar(64)"),
                _nn("has_options", "smallint(6)", "0"),
                _nn("required_options", U_SMALL, "0"),
                _nn("created_at", "timestamp", _NOW),
                _nn("updated_at", "timestamp", _NOW, on_update=True),
            ),
            ("entity_id",),
            (_idx("attribute_set_id"), _idx("sku")),
        )
    value_types = {
        "varchar": "varchar(255)",
        "int": "int(11)",
        "text": "text",
        "decimal": "decimal(20,6)",
        "datetime": "datetime",
    }
    values = [
        _Table(
            f"catalog_product_entity_{suffix}",
            (
                _identity("value_id", "int(11)"),
                _nn("attribute_id", U_SMALL, "0"),
                _nn("store_id", U_SMALL, "0"),
                _nn(key, U_INT, "0"),
                _c("value", value_type),
            ),
            ("value_id",),
            (_unique(key, "attribute_id", "store_id"), _idx("attribute_id"), _idx("store_id")),
        )
        for suffix, value_type in value_types.items()
    ]
    gallery = [
        _Table(
            "catalog_product_entity_media_gallery",
            (
                _identity("value_id", U_INT),
                _nn("attribute_id", U_SMALL, "0"),
                _c("value", "varchar(255)"),
                _nn("media_type", "varchar(32)", "'image'"),
                _nn("disabled", U_SMALL, "0"),
            ),
            ("value_id",),
            (_idx("attribute_id"),),
        ),
        _Table(
            "catalog_product_entity_media_gallery_value",
            (
                _nn("value_id", U_INT, "0"),
                _nn("store_id", U_SMALL, "0"),
                _nn(key, U_INT, "0"),
                _c("label", "varchar(255)"),
                _c("position", U_INT),
                _nn("disabled", U_SMALL, "0"),
                _identity("record_id", U_INT),
            ),
            ("record_id",),
            (_idx("store_id"), _idx(key), _idx("value_id"), _idx("value_id", key, "store_id")),
        ),
        _Table(
            "catalog_product_entity_media_gallery_value_to_entity",
            (_nn("value_id", U_INT), _nn(key, U_INT)),
            (),
            (_unique("value_id", key), _idx(key)),
        ),
        _Table(
            "catalog_product_entity_media_gallery_value_video",
            (
                _nn("value_id", U_INT),
                _nn("store_id", U_SMALL, "0"),
                _c("provider", "varchar(32)"),
                _c("url", "text"),
                _c("title", "varchar(255)"),
                _c("description", "text"),
                _c("metadata", "text"),
            ),
            (),
            (_unique("value_id", "store_id"), _idx("store_id")),
        ),
    ]
    links = [
        _Table(
            "catalog_product_link_type",
            (_identity("link_type_id", U_SMALL), _c("code", "varchar(32)")),
            ("link_type_id",),
        ),
        _Table(
            "catalog_product_link",
            (
                _identity("link_id", U_INT),
                # With staging, product_id holds a row_id and linked_product_id an entity_id.
                _nn("product_id", U_INT, "0"),
                _nn("linked_product_id", U_INT, "0"),
                _nn("link_type_id", U_SMALL, "0"),
            ),
            ("link_id",),
            (
                _unique("link_type_id", "product_id", "linked_product_id"),
                _idx("product_id"),
                _idx("linked_product_id"),
            ),
        ),
        _Table(
            "catalog_product_link_attribute",
            (
                _identity("product_link_attribute_id", U_SMALL),
                _nn("link_type_id", U_SMALL, "0"),
                _c("product_link_attribute_code", "varchar(32)"),
                _c("data_type", "varchar(32)"),
            ),
            ("product_link_attribute_id",),
            (_idx("link_type_id"),),
        ),
        _Table(
            "catalog_product_link_attribute_int",
            (
                _identity("value_id", U_INT),
                _c("product_link_attribute_id", U_SMALL),
                _nn("link_id", U_INT),
                _nn("value", "int(11)", "0"),
            ),
            ("value_id",),
            (_unique("product_link_attribute_id", "link_id"), _idx("link_id")),
        ),
    ]
    return [entity, *values, *gallery, *links]


def _cms_tables(staging: bool) -> list[_Table]:
    def versioned(id_column: str) -> tuple[_Column, ...]:
        if staging:
            return (_identity("row_id", U_INT), _nn(id_column, "smallint(6)"), *_staging_columns())
        return (_identity(id_column, "smallint(6)"),)

    def version_indexes(id_column: str) -> tuple[_Index, ...]:
        if staging:
            return (_idx(id_column, "created_in", "updated_in"), _idx("created_in"), _idx("updated_in"))
        return ()

    block_key = ("row_id", U_INT) if staging else ("block_id", "smallint(6)")
    page_key = ("row_id", U_INT) if staging else ("page_id", "smallint(6)")
    return [
        _Table(
            "cms_block",
            (
                *versioned("block_id"),
                _nn("title", "varchar(255)"),
                _nn("identifier", "varchar(255)"),
                _c("content", "mediumtext"),
                _nn("creation_time", "timestamp", _NOW),
                _nn("update_time", "timestamp", _NOW, on_update=True),
                _nn("is_active", "smallint(6)", "1"),
            ),
            ("row_id",) if staging else ("block_id",),
            (*version_indexes("block_id"), _fulltext("title", "identifier", "content")),
        ),
        _Table(
            "cms_block_store",
            (_nn(*block_key), _nn("store_id", U_SMALL)),
            (block_key[0], "store_id"),
            (_idx("store_id"),),
        ),
        _Table(
            "cms_page",
            (
                *versioned("page_id"),
                _c("title", "varchar(255)"),
                _c("page_layout", "varchar(255)"),
                _c("meta_keywords", "text"),
                _c("meta_description", "text"),
                _c("identifier", "varchar(100)"),
                _c("content_heading", "varchar(255)"),
                _c("content", "mediumtext"),
                _nn("creation_time", "timestamp", _NOW),
                _nn("update_time", "timestamp", _NOW, on_update=True),
                _nn("is_active", "smallint(6)", "1"),
                _nn("sort_order", "smallint(6)", "0"),
                _c("layout_update_xml", "text"),
                _c("custom_theme", "varchar(100)"),
                _c("custom_root_template", "varchar(255)"),
                _c("custom_layout_update_xml", "text"),
                _c("layout_update_selected", "varchar(128)"),
                _c("custom_theme_from", "date"),
                _c("custom_theme_to", "date"),
                _c("meta_title", "varchar(255)"),
            ),
            ("row_id",) if staging else ("page_id",),
            (
                *version_indexes("page_id"),
                _idx("identifier"),
                _fulltext("title", "meta_keywords", "meta_description", "identifier", "content"),
            ),
        ),
        _Table(
            "cms_page_store",
            (_nn(*page_key), _nn("store_id", U_SMALL)),
            (page_key[0], "store_id"),
            (_idx("store_id"),),
        ),
    ]


def _url_rewrite_table() -> _Table:
    return _Table(
        "url_rewrite",
        (
            _identity("url_rewrite_id", U_INT),
            _nn("entity_type", "varchar(32)"),
            _nn("entity_id", U_INT),
            _c("request_path", "varchar(255)"),
            _c("target_path", "varchar(255)"),
            _nn("redirect_type", U_SMALL, "0"),
            _nn("store_id", U_SMALL),
            _c("description", "varchar(255)"),
            _nn("is_autogenerated", U_SMALL, "0"),
            _c("metadata", "varchar(255)"),
        ),
        ("url_rewrite_id",),
        (
            _unique("request_path", "store_id"),
            _idx("target_path"),
            _idx("store_id", "entity_id"),
            _idx("entity_id"),
            _idx("is_autogenerated", "metadata"),
        ),
    )


def _sales_tables() -> list[_Table]:
    """The columns of Magento 2.4's customer, quote and order tables that the separation checks read."""
    return [
        _Table(
            "customer_entity",
            (
                _identity("entity_id", U_INT),
                _c("website_id", U_SMALL),
                _c("email", "varchar(255)"),
                _nn("group_id", U_SMALL, "0"),
                _c("store_id", U_SMALL, default="0"),
                _nn("created_at", "timestamp", _NOW),
                _nn("updated_at", "timestamp", _NOW, on_update=True),
                _nn("is_active", U_SMALL, "1"),
                _c("firstname", "varchar(255)"),
                _c("lastname", "varchar(255)"),
            ),
            ("entity_id",),
            (_unique("email", "website_id"), _idx("website_id"), _idx("firstname"), _idx("lastname")),
        ),
        _Table(
            "quote",
            (
                _identity("entity_id", U_INT),
                _nn("store_id", U_SMALL, "0"),
                _nn("created_at", "timestamp", _NOW),
                _nn("updated_at", "timestamp", _NOW),
                _c("is_active", U_SMALL, default="1"),
                _c("customer_id", U_INT),
                _c("customer_email", "varchar(255)"),
                _c("customer_firstname", "varchar(255)"),
                _c("customer_lastname", "varchar(255)"),
                _c("customer_is_guest", U_SMALL, default="0"),
                _c("reserved_order_id", "varchar(64)"),
            ),
            ("entity_id",),
            (_idx("customer_id", "store_id", "is_active"), _idx("store_id")),
        ),
        _Table(
            "sales_order",
            (
                _identity("entity_id", U_INT),
                _c("state", "varchar(32)"),
                _c("status", "varchar(32)"),
                _c("store_id", U_SMALL),
                _c("customer_id", U_INT),
                _c("grand_total", "decimal(20,4)"),
                _c("increment_id", "varchar(32)"),
                _c("customer_email", "varchar(128)"),
                _c("customer_firstname", "varchar(128)"),
                _c("customer_lastname", "varchar(128)"),
                _c("customer_is_guest", U_SMALL),
                _nn("created_at", "timestamp", _NOW),
            ),
            ("entity_id",),
            (
                _unique("increment_id", "store_id"),
                _idx("status"),
                _idx("state"),
                _idx("store_id"),
                _idx("created_at"),
                _idx("customer_id"),
            ),
        ),
        _Table(
            "sales_order_payment",
            (
                _identity("entity_id", U_INT),
                _nn("parent_id", U_INT),
                _c("amount_ordered", "decimal(20,4)"),
                _c("method", "varchar(128)"),
            ),
            ("entity_id",),
            (_idx("parent_id"),),
        ),
    ]


def _sequence_tables() -> list[_Table]:
    return [
        _Table(name, (_identity("sequence_value", U_INT),), ("sequence_value",)) for name in STAGING_TABLES
    ]


def _tables(staging: bool) -> list[_Table]:
    tables = [
        *_store_tables(),
        *_eav_tables(),
        *_product_tables(staging),
        *_cms_tables(staging),
        _url_rewrite_table(),
        *_sales_tables(),
    ]
    if staging:
        tables += _sequence_tables()
    return tables


# -- rendering --------------------------------------------------------------------------------


def _key_name(kind: str, prefix: str, table: str, columns: Sequence[str]) -> str:
    """Magento-style key name; names over MySQL's 64 characters become a hash, as Magento does.

    Hashed names keep the table prefix in front, so every key of a prefixed install shows it.
    """
    name = f"{prefix}{table}_{'_'.join(columns)}".upper()
    if len(name) <= 64:
        return name
    tag = {"unique": "UNQ", "fulltext": "FTI"}.get(kind, "IDX")
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest().upper()
    return f"{prefix.upper()}{tag}_{digest}"


def _mysql_column(col: _Column) -> str:
    parts = [f"`{col.name}`", col.type]
    parts.append("NULL" if col.nullable else "NOT NULL")
    if col.identity:
        parts.append("AUTO_INCREMENT")
    elif col.default is not None:
        parts.append(f"DEFAULT {col.default}")
    elif col.nullable:
        parts.append("DEFAULT NULL")
    if col.on_update:
        parts.append(f"ON UPDATE {_NOW}")
    return " ".join(parts)


def _sqlite_type(mysql_type: str) -> str:
    base = mysql_type.split("(", 1)[0].split(" ", 1)[0].lower()
    if base in ("int", "smallint", "bigint", "tinyint", "mediumint"):
        return "INTEGER"
    if base == "varchar":
        return mysql_type.upper()
    if base in ("decimal", "float"):
        return "NUMERIC"
    return "TEXT"  # text, mediumtext, timestamp, datetime, date


def _sqlite_column(col: _Column) -> str:
    if col.identity:
        return f'"{col.name}" INTEGER PRIMARY KEY AUTOINCREMENT'
    parts = [f'"{col.name}"', _sqlite_type(col.type)]
    if not col.nullable:
        parts.append("NOT NULL")
    if col.default is not None:
        parts.append("DEFAULT " + ("CURRENT_TIMESTAMP" if col.default == _NOW else col.default))
    return " ".join(parts)


def _mysql_ddl(table: _Table, prefix: str) -> list[str]:
    name = prefix + table.name
    lines = [_mysql_column(col) for col in table.columns]
    if table.primary:
        lines.append("PRIMARY KEY (" + ", ".join(f"`{c}`" for c in table.primary) + ")")
    for index in table.indexes:
        keyword = {"unique": "UNIQUE KEY", "fulltext": "FULLTEXT KEY"}.get(index.kind, "KEY")
        columns = ", ".join(f"`{c}`" for c in index.columns)
        lines.append(f"{keyword} `{_key_name(index.kind, prefix, table.name, index.columns)}` ({columns})")
    body = ",\n  ".join(lines)
    options = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
    return [f"CREATE TABLE `{name}` (\n  {body}\n) {options}"]


def _sqlite_ddl(table: _Table, prefix: str) -> list[str]:
    name = prefix + table.name
    lines = [_sqlite_column(col) for col in table.columns]
    if table.primary and not any(col.identity and col.name in table.primary for col in table.columns):
        lines.append("PRIMARY KEY (" + ", ".join(f'"{c}"' for c in table.primary) + ")")
    statements = [f'CREATE TABLE "{name}" (\n  ' + ",\n  ".join(lines) + "\n)"]
    for index in table.indexes:
        if index.kind == "fulltext":
            continue  # SQLite has no FULLTEXT key; nothing we read depends on it
        unique = "UNIQUE " if index.kind == "unique" else ""
        columns = ", ".join(f'"{c}"' for c in index.columns)
        key = _key_name(index.kind, prefix, table.name, index.columns)
        statements.append(f'CREATE {unique}INDEX "{key}" ON "{name}" ({columns})')
    return statements


def table_names(*, prefix: str = "", staging: bool = False) -> list[str]:
    """Every table :func:`table_ddl` creates, with the prefix applied."""
    return [prefix + table.name for table in _tables(staging)]


def table_ddl(dialect: str, *, prefix: str = "", staging: bool = False) -> list[str]:
    """``CREATE TABLE`` (and, for SQLite, ``CREATE INDEX``) statements for the tables we read.

    ``dialect`` is ``"mysql"`` (MySQL/MariaDB, Magento's own types) or ``"sqlite"`` (type
    affinities, ``INTEGER PRIMARY KEY AUTOINCREMENT``). ``prefix`` is prepended to every table and
    key name. ``staging`` selects the Adobe Commerce content-staging layout.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}: use one of {', '.join(DIALECTS)}")
    render = _mysql_ddl if dialect == "mysql" else _sqlite_ddl
    return [statement for table in _tables(staging) for statement in render(table, prefix)]


def create_schema(
    conn, dialect: str, *, prefix: str = "", staging: bool = False, drop_existing: bool = True
) -> None:
    """Create the tables on a DB-API connection, first dropping these tables (and no others).

    Both layouts' tables are dropped, so switching a database between the Open Source and the
    content-staging layout leaves no stale table behind.
    """
    statements = table_ddl(dialect, prefix=prefix, staging=staging)
    quote = "`" if dialect == "mysql" else '"'
    cursor = conn.cursor()
    try:
        if drop_existing:
            for name in (*REQUIRED_TABLES, *STAGING_TABLES, *SALES_TABLES):
                cursor.execute(f"DROP TABLE IF EXISTS {quote}{prefix}{name}{quote}")
        for statement in statements:
            cursor.execute(statement)
    finally:
        cursor.close()
    conn.commit()
