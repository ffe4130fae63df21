"""Build the demo store: the schema, the website and its store views, then catalog, CMS and
shoppers, and a summary of what a correct reader must find in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from magento_bridge.connection import DatabaseUrl, placeholder_sql
from magento_bridge.demo.catalog import CatalogWriter
from magento_bridge.demo.cms import CmsWriter
from magento_bridge.demo.images import ImageFiles
from magento_bridge.demo.sales import write_sales
from magento_bridge.demo.tables import (
    DEMO_EPOCH,
    STORE_CODES,
    DemoOptions,
    Tables,
    as_url,
    open_writable,
    quote_name,
    table_exists,
    timestamp,
)
from magento_bridge.schema import create_schema
from provenance.standards.content_credentials import SigningCredentials

MIN_PRODUCTS = 12
BASE_URL = "https://shop.example.test/"
MARKER_PATH = "provenant/demo_store/generator"  # core_config_data row that marks a demo database


class DemoStoreError(Exception):
    """The demo store cannot be built with these arguments or into this database."""


@dataclass
class DemoSummary:
    """What :func:`build_demo_store` wrote and what a correct reader must find in it.

    ``expected_items[store_code][surface]`` counts registry items per storefront store view:

    - ``product_image``: (gallery ``value_id``, product) pairs of every live product, videos and
      hidden entries included (hidden ones carry a flag), disabled products included.
    - ``cms_block`` / ``cms_page``: live blocks/pages assigned to the store view or to store 0,
      active or not.
    - ``recommendation``: (product, link type) pairs for relation / up_sell / cross_sell with at
      least one link.

    ``expected_hidden_images[store_code]``: how many of those gallery pairs are hidden there (the
    store view's gallery row ``disabled`` if it has one, else the store-0 row's, or the gallery
    entry's own ``disabled``).
    """

    products: int
    gallery_entries: int  # (value_id, product) pairs of live products: images and videos
    gallery_rows: int  # rows in catalog_product_entity_media_gallery (scheduled versions included)
    images_on_disk: int  # files written under <media_root>/catalog/product
    ai_marked_images: int  # files carrying IPTC DigitalSourceType trainedAlgorithmicMedia in XMP
    parameters_images: int  # PNG files with an AUTOMATIC1111 "parameters" text chunk
    videos: int
    blocks: int
    pages: int
    links: dict[str, int]  # live product links by catalog_product_link_type.code
    url_rewrites: int
    stores: tuple[str, ...]
    faults: list[tuple[str, str]]
    expected_items: dict[str, dict[str, int]]
    expected_hidden_images: dict[str, int]
    product_entity_type_id: int
    attribute_ids: dict[str, int]  # product attribute code -> attribute_id
    staging: bool = False
    prefix: str = ""
    seed: int = 0
    media_root: str | None = None
    fault_entity_ids: dict[str, int] = field(default_factory=dict)
    c2pa_images: int = 0  # of the IPTC-marked files, those also signed with a C2PA manifest
    c2pa_tampered_images: int = 0  # C2PA-signed JPEGs (no XMP) changed after signing
    derivatives: int = 0  # files under <media_root>/catalog/product/cache/<hash>/ (role sizes)
    derivatives_with_xmp: int = 0  # of those, derivatives of marked images that kept their XMP


def _write_stores(tables: Tables, options: DemoOptions) -> None:
    """The admin and main websites, store groups and store views, and the configuration a reader
    needs (base URLs, locales) plus the row that marks the database as the demo's."""
    tables.rows["store_website"] = [(0, "admin", "Admin", 0, 0, 0), (1, "base", "Main Website", 0, 1, 1)]
    tables.rows["store_group"] = [
        (0, 0, "Default", 0, 0, "default"),
        (1, 1, "Main Website Store", 2, 1, "main_website_store"),
    ]
    tables.rows["store"] = [
        (0, "admin", 0, 0, "Admin", 0, 1),
        (1, "default", 1, 1, "Default Store View", 0, 1),
        (2, "de", 1, 1, "Deutsch", 1, 1),
    ]
    config = [
        ("default", 0, "web/secure/base_url", BASE_URL),
        ("default", 0, "web/unsecure/base_url", BASE_URL),
        ("stores", 2, "web/secure/base_url", f"{BASE_URL}de/"),
        ("stores", 2, "web/unsecure/base_url", f"{BASE_URL}de/"),
        ("default", 0, "general/locale/code", "en_US"),
        ("stores", 2, "general/locale/code", "de_DE"),
        ("default", 0, "web/seo/use_rewrites", "1"),
        (
            "default",
            0,
            MARKER_PATH,
            f"seed={options.seed} products={options.products} staging={int(options.staging)}",
        ),
    ]
    stamp = timestamp(DEMO_EPOCH - timedelta(days=400))
    tables.rows["core_config_data"] = [(i + 1, *row, stamp) for i, row in enumerate(config)]
    tables.flush(
        {
            "store_website": (
                "website_id",
                "code",
                "name",
                "sort_order",
                "default_group_id",
                "is_default",
            ),
            "store_group": (
                "group_id",
                "website_id",
                "name",
                "root_category_id",
                "default_store_id",
                "code",
            ),
            "store": ("store_id", "code", "website_id", "group_id", "name", "sort_order", "is_active"),
            "core_config_data": ("config_id", "scope", "scope_id", "path", "value", "updated_at"),
        }
    )


def _refuse_foreign_database(conn, engine: str, prefix: str) -> None:
    """Raise unless the tables are absent or were written by this module."""
    cur = conn.cursor()
    try:
        if not table_exists(cur, engine, prefix + "catalog_product_entity"):
            return
        if table_exists(cur, engine, prefix + "core_config_data"):
            table = quote_name(engine, prefix + "core_config_data")
            cur.execute(
                placeholder_sql(f"SELECT COUNT(*) FROM {table} WHERE path = %s", engine), (MARKER_PATH,)
            )
            if cur.fetchone()[0]:
                return
    finally:
        cur.close()
    raise DemoStoreError(
        f"the database already holds Magento tables ({prefix}catalog_product_entity) that the demo "
        "store did not write; refusing to drop them (pass force=True to overwrite)"
    )


def build_demo_store(
    db: DatabaseUrl | str,
    *,
    products: int = 200,
    media_root: Path | str | None = None,
    staging: bool = False,
    prefix: str = "",
    seed: int = 0,
    faults: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    force: bool = False,
    c2pa: SigningCredentials | None = None,
) -> DemoSummary:
    """Drop and recreate the Magento tables in ``db`` and fill them with the demo store.

    ``media_root`` is Magento's ``pub/media``: gallery files go to ``<media_root>/catalog/product``
    (none are written without it). ``staging`` builds the Adobe Commerce content-staging layout.
    ``progress(phase, done, total)`` is called as phases finish and after every product batch.
    Refuses to drop Magento tables it did not write itself unless ``force`` is set. With ``c2pa``
    signing credentials, some AI-marked files also carry a signed C2PA manifest and a few C2PA-signed
    JPEGs are changed after signing (signatures differ on every build, so such stores are not
    byte-for-byte reproducible).
    """
    if products < MIN_PRODUCTS:
        raise DemoStoreError(f"the demo store needs at least {MIN_PRODUCTS} products, not {products}")
    if prefix and not all(c.isalnum() or c == "_" for c in prefix):
        raise DemoStoreError(f"table prefix {prefix!r}: use letters, digits and underscores")
    url = as_url(db)
    root = Path(media_root) if media_root else None
    conn = open_writable(url, create_database=True)
    try:
        if not force:
            _refuse_foreign_database(conn, url.engine, prefix)
        report = progress or (lambda phase, done, total: None)
        create_schema(conn, url.engine, prefix=prefix, staging=staging)
        report("schema", 1, 1)
        options = DemoOptions(products=products, staging=staging, prefix=prefix, seed=seed, faults=faults)
        tables = Tables(conn, url.engine, prefix)
        faults_found: list[tuple[str, str]] = []
        images = ImageFiles(root, seed=seed, c2pa=c2pa)
        catalog = CatalogWriter(tables, options, images=images, faults=faults_found, progress=report)
        cms = CmsWriter(tables, options, faults=faults_found, progress=report)
        _write_stores(tables, options)
        catalog.write_eav()
        report("stores", 1, 1)
        catalog.write_products()
        cms.write()
        write_sales(tables)
        return _summary(options, tables, catalog, cms, images, faults_found, root)
    finally:
        conn.close()


def _summary(
    options: DemoOptions,
    tables: Tables,
    catalog: CatalogWriter,
    cms: CmsWriter,
    images: ImageFiles,
    faults: list[tuple[str, str]],
    media_root: Path | None,
) -> DemoSummary:
    expected = {}
    for code in STORE_CODES.values():
        expected[code] = {
            "product_image": catalog.gallery_pairs,
            "cms_block": cms.expected[code]["cms_block"],
            "cms_page": cms.expected[code]["cms_page"],
            "recommendation": catalog.recommendations,
        }
    return DemoSummary(
        products=options.products,
        gallery_entries=catalog.gallery_pairs,
        gallery_rows=catalog.gallery_rows,
        images_on_disk=images.files_written,
        ai_marked_images=images.ai_marked,
        parameters_images=images.parameters,
        c2pa_images=images.c2pa_signed,
        c2pa_tampered_images=images.c2pa_tampered,
        derivatives=images.derivatives,
        derivatives_with_xmp=images.derivatives_with_xmp,
        videos=catalog.videos,
        blocks=cms.block_count,
        pages=cms.page_count,
        links=dict(catalog.link_counts),
        url_rewrites=tables.url_rewrites,
        stores=("admin", *STORE_CODES.values()),
        faults=list(faults),
        expected_items=expected,
        expected_hidden_images=dict(catalog.hidden),
        product_entity_type_id=catalog.product_entity_type_id,
        attribute_ids=dict(catalog.attr),
        staging=options.staging,
        prefix=options.prefix,
        seed=options.seed,
        media_root=str(media_root) if media_root else None,
        fault_entity_ids=dict(catalog.fault_ids),
    )
