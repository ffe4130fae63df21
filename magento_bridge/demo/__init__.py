"""A deterministic fictional healthcare store in the Magento 2.4 schema, with its media files.

Writes the tables of :mod:`magento_bridge.schema` (Magento 2.4 ``db_schema.xml``, optionally the
Adobe Commerce content-staging layout) straight into MySQL/MariaDB or SQLite: a website with an
English and a German store view, EAV attributes, products with galleries, image roles, product
videos, product links, CMS blocks and pages, URL rewrites, customers and orders, and gallery files
under ``<media_root>/catalog/product``. The same seed always gives the same rows and the same file
bytes.

The store is built to catch readers that cut corners, and a handful of deliberate faults (listed in
the summary) stand in for what real stores contain: missing, truncated, hostile and non-image files,
script in labels and CMS content, a product without a name.

Rooms: :mod:`~magento_bridge.demo.store` builds it (store views, summary),
:mod:`~magento_bridge.demo.catalog` writes products, galleries and links,
:mod:`~magento_bridge.demo.images` the gallery files, :mod:`~magento_bridge.demo.cms` blocks and pages,
:mod:`~magento_bridge.demo.sales` shoppers and test records, :mod:`~magento_bridge.demo.tables` the rows
and connection they share, and :mod:`~magento_bridge.demo.changes` changes a built store as Magento's
admin or a mass update would.
"""

from magento_bridge.demo.changes import mass_update_labels, touch_products
from magento_bridge.demo.images import gallery_path
from magento_bridge.demo.sales import DEMO_TEST_RECORDS
from magento_bridge.demo.store import MARKER_PATH, MIN_PRODUCTS, DemoStoreError, DemoSummary, build_demo_store

__all__ = [
    "DEMO_TEST_RECORDS",
    "MARKER_PATH",
    "MIN_PRODUCTS",
    "DemoStoreError",
    "DemoSummary",
    "build_demo_store",
    "gallery_path",
    "mass_update_labels",
    "touch_products",
]
