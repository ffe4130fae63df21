"""Benchmark the separation scan on MariaDB against a plain keyset read of the same rows.

    python bench/separation.py [--rows 100000]

In a throwaway MariaDB Magento database (``PROVENANT_BENCH_MARIADB_URL``) with ``--rows`` customers,
quotes, orders and payments each (1% of them test records):

  (a) baseline: the same keyset batches (``WHERE entity_id > last ORDER BY entity_id LIMIT n``) of the
      same columns, read and discarded;
  (b) ``separation_scan``: the read plus marker matching, masking and storing the findings.

Ratios are against (a) measured in the same run. Targets: (b) within 3x of (a); peak RSS under
300 MB (batches keep memory flat).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _mariadb import admin_sql, db_url, maxrss_mb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows per table")
    args = parser.parse_args()
    name = f"provenant_bench_separation_{uuid.uuid4().hex[:8]}"
    admin_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run(db_url(name), args.rows, Path(tmp))
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS `{name}`")


def _fill(url: str, rows: int) -> None:
    from magento_bridge.connection import connect, parse_database_url
    from magento_bridge.schema import create_schema

    conn = connect(parse_database_url(url), read_only=False)
    try:
        create_schema(conn, "mysql")
        with conn.cursor() as cur:
            for start in range(1, rows + 1, 5000):
                ids = range(start, min(start + 5000, rows + 1))

                def email(i: int) -> str:
                    return f"qa{i}@example.com" if i % 100 == 0 else f"shopper{i}@mail.demo-clinic.example"

                cur.executemany(
                    "INSERT INTO customer_entity (entity_id, website_id, email, store_id, firstname, lastname) "
                    "VALUES (%s, 1, %s, 1, %s, %s)",
                    [(i, email(i), f"First{i}", f"Last{i}") for i in ids],
                )
                cur.executemany(
                    "INSERT INTO quote (entity_id, store_id, customer_email, customer_firstname, customer_lastname) "
                    "VALUES (%s, 1, %s, %s, %s)",
                    [(i, email(i), f"First{i}", f"Last{i}") for i in ids],
                )
                cur.executemany(
                    "INSERT INTO sales_order (entity_id, store_id, increment_id, customer_email, customer_firstname, "
                    "customer_lastname) VALUES (%s, 1, %s, %s, %s, %s)",
                    [(i, f"{i:09d}", email(i), f"First{i}", f"Last{i}") for i in ids],
                )
                cur.executemany(
                    "INSERT INTO sales_order_payment (entity_id, parent_id, method) VALUES (%s, %s, %s)",
                    [(i, i, "checkmo" if i % 100 == 0 else "braintree") for i in ids],
                )
        conn.commit()
    finally:
        conn.close()


def run(url: str, rows: int, tmp: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "sidecar.settings",
            "PROVENANT_DEBUG": "0",
            "PROVENANT_SECRET_KEY": "bench-only-not-a-secret-" + "x" * 40,
            "DATABASE_URL": f"sqlite:///{tmp / 'provenant.sqlite3'}",
            "PROVENANT_VAR_DIR": str(tmp),
            "MAGENTO_DATABASE_URL": url,
            "PROVENANT_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _fill(url, rows)

    from django.conf import settings

    from audits.checks.separation import TABLES, separation_scan
    from magento_bridge.services import magento_reader

    batch = settings.SEPARATION_BATCH_SIZE
    reader = magento_reader()
    started = time.perf_counter()
    read = 0
    for spec in TABLES:
        columns = ", ".join(
            c
            for c in ("entity_id", spec.email, spec.first, spec.last, spec.store, spec.created, spec.method)
            if c
        )
        last = 0
        while True:
            got = reader.read(
                f"SELECT {columns} FROM {reader.t(spec.table)} WHERE entity_id > %s ORDER BY entity_id LIMIT %s",
                [last, batch],
            )
            read += len(got)
            if len(got) < batch:
                break
            last = int(got[-1][0])
    baseline = time.perf_counter() - started
    reader.close()

    started = time.perf_counter()
    scan = separation_scan(triggered_by="bench")
    elapsed = time.perf_counter() - started
    assert scan.status == "succeeded", scan.error
    print(f"rows per table: {rows:,}; rows read: {read:,}; findings: {scan.findings_count:,}")
    print(f"(a) baseline keyset read: {baseline:8.2f} s  {read / baseline:12,.0f} rows/s")
    print(f"(b) separation scan:      {elapsed:8.2f} s  {scan.rows_scanned / elapsed:12,.0f} rows/s")
    print(
        f"ratio (b)/(a): {elapsed / baseline:.2f}x (target <= 3x); peak RSS {maxrss_mb():.0f} MB (target < 300)"
    )


if __name__ == "__main__":
    main()
