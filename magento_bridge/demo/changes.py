"""Change a built demo store the way Magento changes a real one, so syncs have something to find:
an admin save (new label, newer ``updated_at``) or a mass update that leaves ``updated_at`` alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from magento_bridge.connection import DatabaseUrl, placeholder_sql
from magento_bridge.demo.tables import as_url, open_writable, quote_name, timestamp


def _live_keys(cur, engine: str, prefix: str, staging: bool, entity_ids: Sequence[int]) -> dict[int, int]:
    """entity_id -> the key its value rows use (the live row_id with staging)."""
    if not staging:
        return {int(eid): int(eid) for eid in entity_ids}
    version = int(time.time())
    table = quote_name(engine, prefix + "catalog_product_entity")
    keys: dict[int, int] = {}
    for chunk in _chunks(entity_ids, 500):
        marks = ", ".join(["%s"] * len(chunk))
        sql = (
            f"SELECT entity_id, row_id FROM {table} WHERE entity_id IN ({marks}) "
            "AND created_in <= %s AND updated_in > %s"
        )
        cur.execute(placeholder_sql(sql, engine), (*chunk, version, version))
        keys.update({int(eid): int(row_id) for eid, row_id in cur.fetchall()})
    return keys


def _chunks(items: Sequence[int], size: int) -> Iterable[list[int]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _relabel_first_images(
    db: DatabaseUrl | str,
    entity_ids: Iterable[int],
    *,
    prefix: str,
    staging: bool,
    new_label: str,
    bump: bool,
) -> int:
    url = as_url(db)
    engine = url.engine
    key = "row_id" if staging else "entity_id"
    values = quote_name(engine, prefix + "catalog_product_entity_media_gallery_value")
    entities = quote_name(engine, prefix + "catalog_product_entity")
    conn = open_writable(url)
    try:
        cur = conn.cursor()
        if engine == "mysql":
            conn.begin()
        keys = _live_keys(cur, engine, prefix, staging, list(entity_ids))
        first: dict[int, tuple[int, int]] = {}  # key -> (position, value_id)
        for chunk in _chunks(list(keys.values()), 500):
            marks = ", ".join(["%s"] * len(chunk))
            cur.execute(
                placeholder_sql(
                    f"SELECT {key}, value_id, position FROM {values}"
                    f" WHERE store_id = 0 AND {key} IN ({marks})",
                    engine,
                ),
                chunk,
            )
            for row_key, value_id, position in cur.fetchall():
                candidate = (position if position is not None else 1 << 31, int(value_id))
                if int(row_key) not in first or candidate < first[int(row_key)]:
                    first[int(row_key)] = candidate
        cur.executemany(
            placeholder_sql(
                f"UPDATE {values} SET label = %s WHERE store_id = 0 AND value_id = %s AND {key} = %s", engine
            ),
            [(new_label, value_id, row_key) for row_key, (_, value_id) in sorted(first.items())],
        )
        if bump and first:
            cur.execute(f"SELECT MAX(updated_at) FROM {entities}")
            latest = cur.fetchone()[0]
            if isinstance(latest, str):
                latest = datetime.strptime(latest, "%Y-%m-%d %H:%M:%S")
            stamp = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            if latest is not None and latest >= stamp:
                stamp = latest + timedelta(seconds=1)
            for chunk in _chunks(sorted(first), 500):
                marks = ", ".join(["%s"] * len(chunk))
                cur.execute(
                    placeholder_sql(
                        f"UPDATE {entities} SET updated_at = %s WHERE {key} IN ({marks})", engine
                    ),
                    (timestamp(stamp), *chunk),
                )
        conn.commit()
        cur.close()
        return len(first)
    finally:
        conn.close()


def touch_products(
    db: DatabaseUrl | str,
    entity_ids: Iterable[int],
    *,
    prefix: str = "",
    staging: bool = False,
    new_label: str,
) -> int:
    """Relabel each product's first gallery image (store 0) and bump its ``updated_at``.

    This is what a save in the Magento admin does. ``updated_at`` becomes the current time, or one
    second past the newest ``updated_at`` in the table if that is later. Returns how many
    products changed.
    """
    return _relabel_first_images(
        db, entity_ids, prefix=prefix, staging=staging, new_label=new_label, bump=True
    )


def mass_update_labels(
    db: DatabaseUrl | str,
    entity_ids: Iterable[int],
    *,
    prefix: str = "",
    staging: bool = False,
    new_label: str,
) -> int:
    """Relabel each product's first gallery image (store 0) and leave ``updated_at`` alone.

    Magento's mass attribute updates, ``saveAttribute()`` and SQL imports change content this way,
    which is why incremental syncs need periodic full reconciles. Returns how many products changed.
    """
    return _relabel_first_images(
        db, entity_ids, prefix=prefix, staging=staging, new_label=new_label, bump=False
    )
