"""The demo store: Magento 2.4 schema, deterministic content, staging, prefixes, media and faults."""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from dataclasses import asdict
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from PIL import Image, UnidentifiedImageError

from magento_bridge.connection import DatabaseUrl, connect, placeholder_sql
from magento_bridge.demo import (
    MARKER_PATH,
    DemoStoreError,
    DemoSummary,
    build_demo_store,
    gallery_path,
    mass_update_labels,
    touch_products,
)
from magento_bridge.demo.images import DERIVATIVE_ROLES
from magento_bridge.schema import REQUIRED_TABLES, STAGING_TABLES, create_schema, table_ddl, table_names
from provenance.standards.media_marks import TRAINED_ALGORITHMIC_MEDIA

PRODUCTS = 40
FILE_FAULTS = ("missing_file", "truncated_jpeg", "decompression_bomb", "not_an_image")


# -- helpers ----------------------------------------------------------------------------------


def _query(db: DatabaseUrl, sql: str, params: tuple = ()) -> list[tuple]:
    conn = connect(db, read_only=True)
    try:
        cur = conn.cursor()
        cur.execute(placeholder_sql(sql, db.engine), params)
        rows = [tuple(row) for row in cur.fetchall()]
        cur.close()
        return rows
    finally:
        conn.close()


def _scalar(db: DatabaseUrl, sql: str, params: tuple = ()):
    return _query(db, sql, params)[0][0]


def _tables(db: DatabaseUrl) -> set[str]:
    if db.engine == "sqlite":
        return {name for (name,) in _query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")} - {
            "sqlite_sequence"
        }
    return {name for (name,) in _query(db, "SHOW TABLES")}


def _dump(db: DatabaseUrl, *, prefix: str = "", staging: bool = False) -> dict[str, list[tuple]]:
    dump = {}
    for table in table_names(prefix=prefix, staging=staging):
        rows = _query(db, f'SELECT * FROM "{table}"' if db.engine == "sqlite" else f"SELECT * FROM `{table}`")
        dump[table] = sorted(rows, key=repr)
    return dump


def _tree(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _cached(path: Path) -> bool:
    """Whether ``path`` is one of the role-size derivatives in Magento's image cache."""
    return "cache" in path.parts


def _without_media_root(summary: DemoSummary) -> dict:
    return {k: v for k, v in asdict(summary).items() if k != "media_root"}


def _live(alias: str, staging: bool) -> str:
    """A WHERE fragment keeping only the live version of a staged row."""
    if not staging:
        return "1 = 1"
    version = int(time.time())
    return f"{alias}.created_in <= {version} AND {alias}.updated_in > {version}"


def _independent_expectations(db: DatabaseUrl, *, prefix: str = "", staging: bool = False):
    """Recount, straight from SQL, what a correct reader must yield per store view."""
    t = {name: f"{prefix}{name}" for name in (*REQUIRED_TABLES, *STAGING_TABLES)}
    key = "row_id" if staging else "entity_id"
    product_join = f"JOIN {t['catalog_product_entity']} p ON p.{key} = v.{key} AND {_live('p', staging)}"
    pairs = _scalar(
        db,
        f"SELECT COUNT(*) FROM {t['catalog_product_entity_media_gallery_value_to_entity']} v {product_join}",
    )
    recommendations = _scalar(
        db,
        "SELECT COUNT(*) FROM (SELECT DISTINCT l.product_id, l.link_type_id "
        f"FROM {t['catalog_product_link']} l "
        f"JOIN {t['catalog_product_entity']} p ON p.{key} = l.product_id AND {_live('p', staging)} "
        "WHERE l.link_type_id IN (1, 4, 5)) x",
    )
    expected, hidden = {}, {}
    for store_id, code in ((1, "default"), (2, "de")):
        counts = {"product_image": pairs, "recommendation": recommendations}
        for surface, id_column in (("cms_block", "block_id"), ("cms_page", "page_id")):
            cms_key = "row_id" if staging else id_column
            counts[surface] = _scalar(
                db,
                f"SELECT COUNT(DISTINCT c.{id_column}) FROM {t[surface]} c "
                f"JOIN {t[surface + '_store']} s ON s.{cms_key} = c.{cms_key} "
                f"WHERE s.store_id IN (0, %s) AND {_live('c', staging)}",
                (store_id,),
            )
        expected[code] = counts
        values = t["catalog_product_entity_media_gallery_value"]
        hidden[code] = _scalar(
            db,
            f"SELECT COUNT(*) FROM {t['catalog_product_entity_media_gallery_value_to_entity']} v "
            f"{product_join} JOIN {t['catalog_product_entity_media_gallery']} g ON g.value_id = v.value_id "
            f"LEFT JOIN {values} s0 ON s0.value_id = v.value_id AND s0.{key} = v.{key} AND s0.store_id = 0 "
            f"LEFT JOIN {values} sv ON sv.value_id = v.value_id AND sv.{key} = v.{key} AND sv.store_id = %s "
            "WHERE g.disabled = 1 OR COALESCE(sv.disabled, s0.disabled, 0) = 1",
            (store_id,),
        )
    return expected, hidden


def _assert_matches_summary(
    db: DatabaseUrl, summary: DemoSummary, *, prefix: str = "", staging: bool = False
):
    expected, hidden = _independent_expectations(db, prefix=prefix, staging=staging)
    assert summary.expected_items == expected
    assert summary.expected_hidden_images == hidden
    t = f"{prefix}catalog_product_entity"
    assert _scalar(db, f"SELECT COUNT(DISTINCT entity_id) FROM {t}") == summary.products
    assert (
        _scalar(db, f"SELECT COUNT(*) FROM {prefix}catalog_product_entity_media_gallery")
        == summary.gallery_rows
    )
    assert summary.gallery_entries == expected["default"]["product_image"]
    videos = _scalar(
        db,
        f"SELECT COUNT(*) FROM {prefix}catalog_product_entity_media_gallery_value_video WHERE store_id = 0",
    )
    assert videos == summary.videos >= 1
    assert _scalar(db, f"SELECT COUNT(DISTINCT block_id) FROM {prefix}cms_block") == summary.blocks
    assert _scalar(db, f"SELECT COUNT(DISTINCT page_id) FROM {prefix}cms_page") == summary.pages
    assert _scalar(db, f"SELECT COUNT(*) FROM {prefix}url_rewrite") == summary.url_rewrites
    key = "row_id" if staging else "entity_id"
    links = _query(
        db,
        f"SELECT lt.code, COUNT(*) FROM {prefix}catalog_product_link l "
        f"JOIN {prefix}catalog_product_link_type lt ON lt.link_type_id = l.link_type_id "
        f"JOIN {t} p ON p.{key} = l.product_id AND {_live('p', staging)} GROUP BY lt.code",
    )
    assert {code: count for code, count in links} == {code: n for code, n in summary.links.items() if n}


@pytest.fixture(scope="module")
def faulty_store(tmp_path_factory) -> tuple[DatabaseUrl, DemoSummary, Path]:
    """One store with every fault and media files, shared by the read-only tests."""
    root = tmp_path_factory.mktemp("faulty-store")
    db = DatabaseUrl(engine="sqlite", name=str(root / "magento.sqlite3"))
    media = root / "media"
    summary = build_demo_store(db, products=PRODUCTS, media_root=media)
    return db, summary, media / "catalog" / "product"


def _fault_paths(summary: DemoSummary) -> dict[str, str]:
    return {kind: where for kind, where in summary.faults if kind in FILE_FAULTS}


# -- building ---------------------------------------------------------------------------------


def test_it_builds_a_store_on_sqlite_that_matches_its_summary(faulty_store):
    db, summary, product_media = faulty_store

    _assert_matches_summary(db, summary)
    assert summary.stores == ("admin", "default", "de")
    tree = _tree(product_media)
    assert summary.images_on_disk == len([p for p in tree if not p.startswith("cache/")])
    assert summary.derivatives == len([p for p in tree if p.startswith("cache/")]) > 0
    assert summary.expected_items["default"]["cms_block"] != summary.expected_items["de"]["cms_block"]


@pytest.mark.parametrize("staging", [False, True], ids=["open-source", "commerce"])
def test_it_builds_a_store_on_mariadb_that_matches_its_summary(mariadb_url, staging):
    summary = build_demo_store(
        mariadb_url, products=PRODUCTS, staging=staging, prefix="mg_" if staging else ""
    )

    _assert_matches_summary(mariadb_url, summary, prefix=summary.prefix, staging=staging)
    assert summary.images_on_disk == 0
    skus = {sku for (sku,) in _query(mariadb_url, f"SELECT sku FROM {summary.prefix}catalog_product_entity")}
    assert {"DEV-BP/200", "SKN-ALOE GEL", "SUP-MAGNÉSIUM"} <= skus


def test_it_creates_a_missing_mariadb_database(mariadb_server):
    db = DatabaseUrl(
        engine="mysql",
        name=f"provenant_t_{uuid.uuid4().hex[:12]}",
        host=mariadb_server.host,
        port=mariadb_server.port,
        user=mariadb_server.user,
        password=mariadb_server.password,
    )
    try:
        summary = build_demo_store(db, products=15, faults=False)
        assert _scalar(db, "SELECT COUNT(*) FROM catalog_product_entity") == summary.products == 15
    finally:
        admin = connect(mariadb_server, read_only=False)
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db.name}`")
        admin.close()


def test_it_builds_the_same_store_for_the_same_seed(tmp_path):
    first_db = DatabaseUrl(engine="sqlite", name=str(tmp_path / "one.sqlite3"))
    second_db = DatabaseUrl(engine="sqlite", name=str(tmp_path / "two.sqlite3"))

    first = build_demo_store(first_db, products=30, media_root=tmp_path / "one", staging=True, seed=7)
    second = build_demo_store(second_db, products=30, media_root=tmp_path / "two", staging=True, seed=7)

    assert _dump(first_db, staging=True) == _dump(second_db, staging=True)
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")
    assert _without_media_root(first) == _without_media_root(second)


def test_another_seed_builds_different_content(tmp_path):
    first_db = DatabaseUrl(engine="sqlite", name=str(tmp_path / "one.sqlite3"))
    second_db = DatabaseUrl(engine="sqlite", name=str(tmp_path / "two.sqlite3"))
    build_demo_store(first_db, products=20, seed=1)
    build_demo_store(second_db, products=20, seed=2)

    names = "SELECT value FROM catalog_product_entity_varchar WHERE attribute_id = 73 ORDER BY entity_id"
    assert _query(first_db, names) != _query(second_db, names)


def test_gallery_rows_do_not_depend_on_writing_files(tmp_path):
    with_files = DatabaseUrl(engine="sqlite", name=str(tmp_path / "files.sqlite3"))
    without_files = DatabaseUrl(engine="sqlite", name=str(tmp_path / "plain.sqlite3"))
    build_demo_store(with_files, products=20, media_root=tmp_path / "media")
    build_demo_store(without_files, products=20)

    assert _dump(with_files) == _dump(without_files)


def test_it_refuses_to_drop_magento_tables_it_did_not_write(sqlite_url):
    conn = connect(sqlite_url, read_only=False)
    create_schema(conn, "sqlite")
    conn.execute("INSERT INTO catalog_product_entity (sku) VALUES ('REAL-PRODUCT')")
    conn.commit()
    conn.close()

    with pytest.raises(DemoStoreError, match="refusing to drop"):
        build_demo_store(sqlite_url, products=15)
    assert _query(sqlite_url, "SELECT sku FROM catalog_product_entity") == [("REAL-PRODUCT",)]

    build_demo_store(sqlite_url, products=15, force=True)
    build_demo_store(sqlite_url, products=15)  # its own store is fine to rebuild
    assert _scalar(sqlite_url, "SELECT COUNT(*) FROM core_config_data WHERE path = ?", (MARKER_PATH,)) == 1


def test_it_refuses_too_small_a_store(sqlite_url):
    with pytest.raises(DemoStoreError, match="at least"):
        build_demo_store(sqlite_url, products=3)


# -- schema -----------------------------------------------------------------------------------


def test_the_mysql_ddl_uses_magento_column_types():
    ddl = "\n".join(table_ddl("mysql"))

    assert "`entity_id` int(10) unsigned NOT NULL AUTO_INCREMENT" in ddl
    assert "`sku` varchar(64) NULL DEFAULT NULL" in ddl
    assert "`content` mediumtext NULL DEFAULT NULL" in ddl
    assert "`updated_at` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp()" in ddl
    assert "UNIQUE KEY `CATALOG_PRODUCT_ENTITY_VARCHAR_ENTITY_ID_ATTRIBUTE_ID_STORE_ID`" in ddl
    assert "UNIQUE KEY `CATALOG_PRODUCT_LINK_LINK_TYPE_ID_PRODUCT_ID_LINKED_PRODUCT_ID`" in ddl
    assert "UNIQUE KEY `URL_REWRITE_REQUEST_PATH_STORE_ID` (`request_path`, `store_id`)" in ddl


def test_the_mariadb_columns_have_magento_types(mariadb_url):
    conn = connect(mariadb_url, read_only=False)
    create_schema(conn, "mysql", staging=True)
    conn.close()

    types = dict(
        _query(
            mariadb_url,
            "SELECT CONCAT(table_name, '.', column_name), column_type FROM information_schema.columns "
            "WHERE table_schema = DATABASE()",
        )
    )
    assert types["catalog_product_entity.row_id"] == "int(10) unsigned"
    assert types["catalog_product_entity.created_in"] == "bigint(20) unsigned"
    assert types["catalog_product_entity_varchar.row_id"] == "int(10) unsigned"
    assert types["catalog_product_entity_media_gallery_value.store_id"] == "smallint(5) unsigned"
    assert types["eav_attribute.attribute_id"] == "smallint(5) unsigned"
    assert types["cms_page.content"] == "mediumtext"
    assert types["cms_block_store.row_id"] == "int(10) unsigned"
    assert types["sequence_product.sequence_value"] == "int(10) unsigned"
    assert "catalog_product_entity_varchar.entity_id" not in types


def test_every_table_and_index_carries_the_prefix(sqlite_url):
    summary = build_demo_store(sqlite_url, products=15, prefix="mg_")

    assert _tables(sqlite_url) == set(table_names(prefix="mg_"))
    indexes = _query(sqlite_url, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    assert indexes and all(name.startswith("MG_") for (name,) in indexes)
    assert summary.prefix == "mg_"


@pytest.mark.parametrize(
    ("prefix", "staging", "moved"),
    [("", False, False), ("mg_", False, True), ("", True, True)],
    ids=["stock", "prefixed", "commerce"],
)
def test_attribute_and_entity_type_ids_move_with_a_prefix_or_staging(sqlite_url, prefix, staging, moved):
    summary = build_demo_store(sqlite_url, products=15, prefix=prefix, staging=staging)

    type_id = _scalar(
        sqlite_url,
        f"SELECT entity_type_id FROM {prefix}eav_entity_type WHERE entity_type_code = 'catalog_product'",
    )
    ids = dict(
        _query(
            sqlite_url,
            f"SELECT attribute_code, attribute_id FROM {prefix}eav_attribute WHERE entity_type_id = ?",
            (type_id,),
        )
    )
    assert type_id == summary.product_entity_type_id
    assert ids == summary.attribute_ids
    assert (type_id != 4) is moved
    assert (ids["name"] != 73 and ids["status"] != 97) is moved
    # The same codes exist for categories, with other ids.
    category_name = _scalar(
        sqlite_url,
        f"SELECT a.attribute_id FROM {prefix}eav_attribute a JOIN {prefix}eav_entity_type t "
        "ON t.entity_type_id = a.entity_type_id "
        "WHERE t.entity_type_code = 'catalog_category' AND a.attribute_code = 'name'",
    )
    assert category_name != ids["name"]


# -- content staging --------------------------------------------------------------------------


def test_the_commerce_layout_keeps_old_live_and_future_versions_apart(sqlite_url):
    summary = build_demo_store(sqlite_url, products=PRODUCTS, staging=True)
    _assert_matches_summary(sqlite_url, summary, staging=True)

    live = _query(
        sqlite_url, f"SELECT entity_id, row_id FROM catalog_product_entity p WHERE {_live('p', True)}"
    )
    assert sorted(eid for eid, _ in live) == list(range(1, PRODUCTS + 1))
    row_ids = {row_id for (row_id,) in _query(sqlite_url, "SELECT row_id FROM catalog_product_entity")}
    assert not row_ids & set(range(1, PRODUCTS + 1))

    name_id = summary.attribute_ids["name"]
    names = _query(
        sqlite_url,
        "SELECT p.created_in, p.updated_in, v.value FROM catalog_product_entity p "
        "JOIN catalog_product_entity_varchar v ON v.row_id = p.row_id "
        "AND v.store_id = 0 AND v.attribute_id = ?",
        (name_id,),
    )
    now = int(time.time())
    old = [name for created, updated, name in names if updated <= now]
    future = [name for created, updated, name in names if created > now]
    current = [name for created, updated, name in names if created <= now < updated]
    assert old and all(name.startswith("OLD ") for name in old)
    assert future and all(name.startswith("FUTURE ") for name in future)
    assert not any(name and name.startswith(("OLD ", "FUTURE ")) for name in current)

    blocks = _query(sqlite_url, "SELECT title, created_in, updated_in FROM cms_block")
    assert any(title.startswith("FUTURE ") and created > now for title, created, _ in blocks)
    assert any(title.startswith("OLD ") and updated <= now for title, _, updated in blocks)

    # Links: product_id is a row_id, linked_product_id an entity_id.
    links = _query(sqlite_url, "SELECT product_id, linked_product_id FROM catalog_product_link")
    assert all(product_id in row_ids for product_id, _ in links)
    assert all(1 <= linked <= PRODUCTS for _, linked in links)
    # Every value row belongs to some version; url_rewrite stays on entity_id.
    orphans = _scalar(
        sqlite_url,
        "SELECT COUNT(*) FROM catalog_product_entity_varchar v "
        "LEFT JOIN catalog_product_entity p ON p.row_id = v.row_id WHERE p.row_id IS NULL",
    )
    assert orphans == 0
    rewrites = _query(sqlite_url, "SELECT DISTINCT entity_id FROM url_rewrite WHERE entity_type = 'product'")
    assert {eid for (eid,) in rewrites} == set(range(1, PRODUCTS + 1))
    assert _scalar(sqlite_url, "SELECT COUNT(*) FROM sequence_product") == PRODUCTS
    assert _scalar(sqlite_url, "SELECT COUNT(*) FROM sequence_cms_block") == summary.blocks


def test_a_scheduled_version_adds_an_image_that_is_not_live_yet(sqlite_url):
    summary = build_demo_store(sqlite_url, products=PRODUCTS, staging=True)

    all_pairs = _scalar(
        sqlite_url, "SELECT COUNT(*) FROM catalog_product_entity_media_gallery_value_to_entity"
    )
    scheduled_only = _scalar(
        sqlite_url,
        "SELECT COUNT(*) FROM catalog_product_entity_media_gallery WHERE value LIKE '/s/c/scheduled_%'",
    )
    assert scheduled_only > 0
    assert summary.gallery_rows == summary.gallery_entries + scheduled_only
    assert all_pairs > summary.gallery_entries


# -- store content ----------------------------------------------------------------------------


def test_stores_and_base_urls_are_configured(faulty_store):
    db, _, _ = faulty_store

    assert _query(db, "SELECT store_id, code FROM store ORDER BY store_id") == [
        (0, "admin"),
        (1, "default"),
        (2, "de"),
    ]
    config = {
        (scope, scope_id, path): value
        for scope, scope_id, path, value in _query(
            db, "SELECT scope, scope_id, path, value FROM core_config_data"
        )
    }
    assert config[("default", 0, "web/secure/base_url")] == "https://shop.example.test/"
    assert config[("stores", 2, "web/secure/base_url")] == "https://shop.example.test/de/"
    assert not any(path == "web/secure/base_media_url" for _, _, path in config)


def test_link_positions_disagree_with_insertion_order(faulty_store):
    db, _, _ = faulty_store
    rows = _query(
        db,
        "SELECT l.product_id, l.link_type_id, l.link_id, a.value FROM catalog_product_link l "
        "JOIN catalog_product_link_attribute_int a ON a.link_id = l.link_id "
        "JOIN catalog_product_link_attribute la "
        "ON la.product_link_attribute_id = a.product_link_attribute_id "
        "AND la.link_type_id = l.link_type_id AND la.product_link_attribute_code = 'position' "
        "ORDER BY l.product_id, l.link_type_id, l.link_id",
    )
    lists: dict[tuple[int, int], list[int]] = {}
    for product_id, link_type, _, position in rows:
        lists.setdefault((product_id, link_type), []).append(position)
    longer = [positions for positions in lists.values() if len(positions) > 1]
    assert longer and all(positions != sorted(positions) for positions in longer)
    assert not _query(db, "SELECT link_id FROM catalog_product_link WHERE product_id = linked_product_id")
    assert _scalar(db, "SELECT COUNT(*) FROM catalog_product_link WHERE link_type_id = 3") > 0


def test_an_identifier_is_shared_by_blocks_in_two_store_views(faulty_store):
    db, _, _ = faulty_store
    rows = _query(
        db,
        "SELECT b.identifier, s.store_id FROM cms_block b JOIN cms_block_store s ON s.block_id = b.block_id "
        "WHERE b.identifier = 'patient-notice' ORDER BY s.store_id",
    )
    assert rows == [("patient-notice", 1), ("patient-notice", 2)]
    assert _scalar(db, "SELECT COUNT(*) FROM cms_block WHERE is_active = 0") > 0
    assert _scalar(db, "SELECT COUNT(*) FROM cms_block_store WHERE store_id = 0") > 0


def test_gallery_paths_follow_magentos_dispersion(faulty_store):
    db, _, _ = faulty_store
    paths = [path for (path,) in _query(db, "SELECT value FROM catalog_product_entity_media_gallery")]

    assert len(paths) == len(set(paths))
    for path in paths:
        name = path.rsplit("/", 1)[1]
        assert path == gallery_path(name)
    assert "/b/_/b.jpg" in paths or any(p.startswith("/b/_/b.") for p in paths)
    assert gallery_path(".hidden.png") == "/_/h/.hidden.png"


def test_store_views_override_names_status_labels_and_roles(faulty_store):
    db, summary, _ = faulty_store

    def values(backend: str, code: str, where: str) -> int:
        return _scalar(
            db,
            f"SELECT COUNT(*) FROM catalog_product_entity_{backend} WHERE attribute_id = ? AND {where}",
            (summary.attribute_ids[code],),
        )

    assert values("varchar", "name", "store_id = 2")
    assert values("int", "status", "store_id = 2 AND value = 2")  # disabled in "de" only
    assert values("int", "status", "store_id = 0 AND value = 2")  # disabled everywhere
    assert values("int", "visibility", "value = 1")
    assert values("varchar", "thumbnail", "value = 'no_selection'")
    assert values("varchar", "image", "store_id = 2")
    gallery_values = (
        "SELECT COUNT(*) FROM catalog_product_entity_media_gallery_value WHERE store_id = ? AND disabled = 1"
    )
    assert _scalar(db, gallery_values, (2,)) and _scalar(db, gallery_values, (0,))
    video = _query(db, "SELECT provider, url FROM catalog_product_entity_media_gallery_value_video")
    assert video and all(
        p == "youtube" and u.startswith("https://www.youtube.com/watch?v=") for p, u in video
    )


# -- media files and faults -------------------------------------------------------------------


def test_gallery_files_decode_except_the_faults(faulty_store):
    db, summary, product_media = faulty_store
    faults = set(_fault_paths(summary).values())
    formats = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}

    checked = 0
    for (path,) in _query(db, "SELECT value FROM catalog_product_entity_media_gallery"):
        if path in faults:
            continue
        with Image.open(product_media / path.lstrip("/")) as image:
            image.load()
            assert image.format == formats[path.rsplit(".", 1)[1]]
            assert 32 <= image.width <= 96 and 32 <= image.height <= 96
        checked += 1
    assert checked == summary.images_on_disk - (len(faults) - 1)  # the missing file is not on disk


def test_ai_marked_images_carry_the_iptc_digital_source_type(faulty_store):
    _, summary, product_media = faulty_store

    marked, with_parameters = 0, 0
    for path in (path for path in product_media.rglob("*") if path.is_file() and not _cached(path)):
        data = path.read_bytes()
        if TRAINED_ALGORITHMIC_MEDIA.encode() in data:
            marked += 1
            with Image.open(io.BytesIO(data)) as image:
                xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
                xmp = xmp.decode() if isinstance(xmp, bytes) else xmp
                assert "http://iptc.org/std/Iptc4xmpExt/2008-02-29/" in xmp
                assert "DigitalSourceType" in xmp and TRAINED_ALGORITHMIC_MEDIA in xmp
        if path.suffix == ".png" and b"tEXtparameters" in data:
            with_parameters += 1
            with Image.open(io.BytesIO(data)) as image:
                assert "Steps:" in image.info["parameters"]
    assert marked == summary.ai_marked_images > 0
    assert with_parameters == summary.parameters_images > 0
    assert marked < summary.images_on_disk / 4  # most images carry nothing


def test_the_decompression_bomb_is_refused_by_pillow_and_small_on_disk(faulty_store):
    _, summary, product_media = faulty_store
    bomb = product_media / _fault_paths(summary)["decompression_bomb"].lstrip("/")

    assert bomb.stat().st_size < 2048
    with pytest.raises(Image.DecompressionBombError):
        Image.open(bomb)


def test_the_other_file_faults_are_missing_truncated_or_not_images(faulty_store):
    _, summary, product_media = faulty_store
    paths = {kind: product_media / path.lstrip("/") for kind, path in _fault_paths(summary).items()}

    assert not paths["missing_file"].exists()
    with Image.open(paths["truncated_jpeg"]) as image, pytest.raises(OSError, match="truncated"):
        image.load()
    with pytest.raises(UnidentifiedImageError):
        Image.open(paths["not_an_image"])
    assert b"<script>" in paths["not_an_image"].read_bytes()


def test_row_faults_are_in_the_database(faulty_store):
    db, summary, _ = faulty_store
    faults = dict(summary.faults)

    entity_id = int(faults["null_name"].split(":")[1])
    names = _query(
        db,
        "SELECT value FROM catalog_product_entity_varchar WHERE entity_id = ? AND attribute_id = ?",
        (entity_id, summary.attribute_ids["name"]),
    )
    assert names == [(None,)]
    value_id = int(faults["script_label"].split(":")[1])
    label = _scalar(
        db,
        "SELECT label FROM catalog_product_entity_media_gallery_value WHERE value_id = ? AND store_id = 0",
        (value_id,),
    )
    assert label == "<script>alert(1)</script>"
    block_id = int(faults["cms_script"].split(":")[1])
    content = _scalar(db, "SELECT content FROM cms_block WHERE block_id = ?", (block_id,))
    assert "<script>" in content and not content.rstrip().endswith("</div>")


def test_cache_derivatives_are_role_sizes_and_most_lose_their_xmp(faulty_store):
    _, summary, product_media = faulty_store
    with_xmp = 0
    for path in (path for path in product_media.rglob("*") if path.is_file() and _cached(path)):
        cache_hash, *gallery = path.relative_to(product_media / "cache").parts
        original = product_media.joinpath(*gallery)
        data = path.read_bytes()
        with Image.open(path) as image, Image.open(original) as source:
            image.load()
            assert image.size == (DERIVATIVE_ROLES[cache_hash],) * 2
            assert image.format == source.format
        with_xmp += TRAINED_ALGORITHMIC_MEDIA.encode() in data
    assert with_xmp == summary.derivatives_with_xmp
    assert 0 < with_xmp < summary.derivatives / 2


def test_faults_can_be_left_out(tmp_path):
    db = DatabaseUrl(engine="sqlite", name=str(tmp_path / "clean.sqlite3"))
    summary = build_demo_store(db, products=PRODUCTS, media_root=tmp_path / "media", faults=False)

    assert summary.faults == []
    assert not _query(db, "SELECT value_id FROM catalog_product_entity_varchar WHERE value IS NULL")
    assert not _query(
        db, "SELECT record_id FROM catalog_product_entity_media_gallery_value WHERE label LIKE '%<script%'"
    )
    assert not _query(db, "SELECT block_id FROM cms_block WHERE content LIKE '%<script%'")
    files = [path for path in (tmp_path / "media").rglob("*") if path.is_file() and not _cached(path)]
    assert len(files) == summary.images_on_disk == summary.gallery_rows
    for path in files:
        with Image.open(path) as image:
            image.load()


# -- changes after the build ------------------------------------------------------------------


@pytest.mark.parametrize("staging", [False, True], ids=["open-source", "commerce"])
def test_touch_products_relabels_the_first_image_and_bumps_updated_at(sqlite_url, staging):
    build_demo_store(sqlite_url, products=20, staging=staging)
    key = "row_id" if staging else "entity_id"
    before = dict(
        _query(
            sqlite_url,
            f"SELECT entity_id, updated_at FROM catalog_product_entity p WHERE {_live('p', staging)}",
        )
    )

    changed = touch_products(sqlite_url, [3, 5], staging=staging, new_label="Relabelled")

    assert changed == 2
    after = dict(
        _query(
            sqlite_url,
            f"SELECT entity_id, updated_at FROM catalog_product_entity p WHERE {_live('p', staging)}",
        )
    )
    assert after[3] > max(before.values()) and after[5] > max(before.values())
    assert after[4] == before[4]
    labels = _query(
        sqlite_url,
        f"SELECT p.entity_id, v.position FROM catalog_product_entity_media_gallery_value v "
        f"JOIN catalog_product_entity p ON p.{key} = v.{key} "
        f"WHERE v.store_id = 0 AND v.label = 'Relabelled' AND {_live('p', staging)}",
    )
    assert sorted(labels) == [(3, 1), (5, 1)]


def test_mass_update_labels_leaves_updated_at_alone(sqlite_url):
    build_demo_store(sqlite_url, products=20)
    before = _query(sqlite_url, "SELECT entity_id, updated_at FROM catalog_product_entity ORDER BY entity_id")

    changed = mass_update_labels(sqlite_url, [6, 7, 8], new_label="Bulk label")

    assert changed == 3
    assert (
        _query(sqlite_url, "SELECT entity_id, updated_at FROM catalog_product_entity ORDER BY entity_id")
        == before
    )
    assert (
        _scalar(
            sqlite_url,
            "SELECT COUNT(*) FROM catalog_product_entity_media_gallery_value WHERE label = 'Bulk label'",
        )
        == 3
    )


def test_touch_products_works_on_mariadb(mariadb_url):
    build_demo_store(mariadb_url, products=15, staging=True)

    assert touch_products(mariadb_url, [2], staging=True, new_label="Neu") == 1
    assert mass_update_labels(mariadb_url, [3], staging=True, new_label="Bulk") == 1
    labels = {
        label
        for (label,) in _query(mariadb_url, "SELECT label FROM catalog_product_entity_media_gallery_value")
    }
    assert {"Neu", "Bulk"} <= labels


# -- the management command -------------------------------------------------------------------


def test_the_command_builds_a_store_from_a_url(tmp_path):
    out = io.StringIO()
    url = f"sqlite:///{tmp_path / 'cmd.sqlite3'}"

    call_command(
        "magento_demo_store",
        "--products",
        "20",
        "--database",
        url,
        "--media-root",
        str(tmp_path / "m"),
        stdout=out,
    )

    output = out.getvalue()
    assert "Expected items per store view:" in output
    assert "product_image" in output and "recommendation" in output
    assert "decompression_bomb" in output
    assert any((tmp_path / "m" / "catalog" / "product").rglob("*.jpg"))
    db = DatabaseUrl(engine="sqlite", name=str(tmp_path / "cmd.sqlite3"))
    assert _scalar(db, "SELECT COUNT(*) FROM catalog_product_entity") == 20


def test_the_command_resolves_a_database_alias_and_says_when_no_files_are_written(
    tmp_path, monkeypatch, settings
):
    settings.MAGENTO_MEDIA_ROOT = ""
    settings.MAGENTO_TABLE_PREFIX = "shop_"
    name = str(tmp_path / "alias.sqlite3")
    monkeypatch.setitem(
        django_settings.DATABASES, "demo_magento", {"ENGINE": "django.db.backends.sqlite3", "NAME": name}
    )
    out = io.StringIO()

    call_command(
        "magento_demo_store",
        "--products",
        "15",
        "--database",
        "demo_magento",
        "--commerce",
        "--no-faults",
        stdout=out,
    )

    assert "gallery files are not written" in out.getvalue()
    assert "Deliberate faults" not in out.getvalue()
    db = DatabaseUrl(engine="sqlite", name=name)
    assert "shop_sequence_product" in _tables(db)


def test_the_command_needs_a_database(settings):
    settings.MAGENTO_DATABASE_URL = ""

    with pytest.raises(CommandError, match="MAGENTO_DATABASE_URL"):
        call_command("magento_demo_store", "--products", "15")
    with pytest.raises(CommandError, match="neither a URL nor"):
        call_command("magento_demo_store", "--database", "no_such_alias")
