"""Benchmark the sync through the REST source against the MySQL source, same store, same run.

    python bench/rest_sync.py [--products 10000] [--page-size 300] [--keep]

Builds a demo store in MariaDB, serves it over loopback with the test suite's Magento REST server
(its own process, OAuth 1.0a HMAC-SHA256 verified on every request) and measures, each sync in
its own process so peak RSS is the sync's own (media not read: hashing is the same for both
sources and measured by bench/sync.py):

  (m) a full MySQL sync into an empty registry (the baseline);
  (r) a full REST sync into another empty registry;
  (i) an incremental REST sync after 1% of the products changed.

Reported: requests made, items written per second, peak RSS, and ratios against (m). Target: no
per-product requests: requests ~= products / page size per store view (plus one listing of ids)
plus a small constant per store view and CMS surface. The server shares the machine's two cores
with the sync, so REST's seconds include Magento's side of the work here.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _mariadb import admin_sql, db_url, maxrss_mb, run_child  # noqa: E402

CREDENTIALS = {
    "MAGENTO_REST_CONSUMER_KEY": "ck-demo",
    "MAGENTO_REST_CONSUMER_SECRET": "cs-demo",
    "MAGENTO_REST_ACCESS_TOKEN": "at-demo",
    "MAGENTO_REST_ACCESS_TOKEN_SECRET": "ts-demo",
}

# -- child phases ---------------------------------------------------------------------------


def phase_serve(magento_url: str) -> None:
    """Serve the store over loopback; print the base URL; run until terminated."""
    from magento_bridge.connection import parse_database_url
    from tests.magento_bridge.rest_server import MagentoRestServer

    server = MagentoRestServer(parse_database_url(magento_url))
    print(json.dumps({"base_url": server.start()}), flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


def _django(registry_url: str, magento_url: str, source: str, base_url: str, page_size: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "sidecar.settings",
            "PROVENANT_DEBUG": "0",
            "PROVENANT_SECRET_KEY": "benchmark-only-secret-key-" + "x" * 40,
            "DATABASE_URL": registry_url,
            "MAGENTO_DATABASE_URL": magento_url,
            "MAGENTO_SOURCE": source,
            "MAGENTO_REST_BASE_URL": base_url,
            "MAGENTO_REST_PAGE_SIZE": page_size,
            "MAGENTO_REST_RATE": "0",
            "PROVENANT_LOG_LEVEL": "WARNING",
            **CREDENTIALS,
        }
    )
    import django

    django.setup()


def phase_migrate(registry_url: str, magento_url: str) -> dict:
    _django(registry_url, magento_url, "mysql", "", "300")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {}


def phase_sync(
    registry_url: str, magento_url: str, source: str, base_url: str, page_size: str, mode: str
) -> dict:
    _django(registry_url, magento_url, source, base_url, page_size)
    from magento_bridge.services import sync_run

    started = time.perf_counter()
    run = sync_run(full=mode == "full", triggered_by="bench", media=None)
    seconds = time.perf_counter() - started
    if run.status != "succeeded":
        raise SystemExit(f"sync failed: {run.error}")
    return {
        "seconds": seconds,
        "counts": run.counts,
        "queries": run.media.get("queries"),
        "rest": run.media.get("rest"),
        "rss_mb": maxrss_mb(),
    }


def phase_touch(magento_url: str, fraction: float) -> dict:
    from magento_bridge.connection import connect, parse_database_url
    from magento_bridge.demo import touch_products

    db = parse_database_url(magento_url)
    conn = connect(db, read_only=True)
    with conn.cursor() as cur:
        cur.execute("SELECT entity_id FROM catalog_product_entity ORDER BY entity_id")
        ids = [r[0] for r in cur.fetchall()]
    conn.close()
    chosen = ids[:: max(1, int(1 / fraction))]
    touch_products(db, chosen, new_label="Changed for the benchmark")
    return {"touched": len(chosen)}


def _child(args: list[str]) -> dict:
    return run_child(__file__, *args)


# -- orchestration --------------------------------------------------------------------------


def items(result: dict) -> int:
    return sum(c["added"] + c["changed"] + c["unchanged"] for c in result["counts"].values())


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        phase, args = sys.argv[2], sys.argv[3:]
        if phase == "serve":
            phase_serve(*args)
            return
        out = {"migrate": phase_migrate, "sync": phase_sync}.get(phase)
        if phase == "touch":
            print(json.dumps(phase_touch(args[0], float(args[1]))))
            return
        if out is None:
            raise SystemExit(f"unknown phase {phase}")
        print(json.dumps(out(*args)))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    options = parser.parse_args()
    n = options.products
    names = [
        f"provenant_bench_rest_magento_{n}",
        f"provenant_bench_rest_reg_m_{n}",
        f"provenant_bench_rest_reg_r_{n}",
    ]
    admin_sql(*(f"DROP DATABASE IF EXISTS `{d}`" for d in names))
    admin_sql(*(f"CREATE DATABASE `{d}` CHARACTER SET utf8mb4" for d in names))
    magento_url, reg_mysql, reg_rest = (db_url(d) for d in names)
    from magento_bridge.demo import build_demo_store

    with tempfile.TemporaryDirectory(prefix="provenant-bench-rest-") as tmp:
        started = time.perf_counter()
        summary = build_demo_store(magento_url, products=n, media_root=Path(tmp) / "media", seed=11)
        print(
            f"== {n:,} products, {len(summary.expected_items)} store views: {summary.gallery_entries:,} gallery entries, "
            f"{summary.blocks + summary.pages:,} CMS blocks/pages, {sum(summary.links.values()):,} links "
            f"(built in {time.perf_counter() - started:.0f}s)",
            flush=True,
        )
    server = subprocess.Popen(
        [sys.executable, __file__, "--child", "serve", magento_url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        base_url = json.loads(server.stdout.readline())["base_url"]
        page = str(options.page_size)
        _child(["migrate", reg_mysql, magento_url])
        _child(["migrate", reg_rest, magento_url])
        mysql = _child(["sync", reg_mysql, magento_url, "mysql", "", page, "full"])
        rest = _child(["sync", reg_rest, magento_url, "rest", base_url, page, "full"])
        touched = _child(["touch", magento_url, "0.01"])["touched"]
        incremental = _child(["sync", reg_rest, magento_url, "rest", base_url, page, "incremental"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    if not options.keep:
        admin_sql(*(f"DROP DATABASE IF EXISTS `{d}`" for d in names))

    stores = len(summary.expected_items)  # storefront store views
    size = options.page_size
    pages = math.ceil(n / size)
    budget = pages * (stores + 1)  # ids once, then every store view's product pages
    m_items, r_items = items(mysql), items(rest)
    m_rate, r_rate = m_items / mysql["seconds"], r_items / rest["seconds"]
    print(
        f"(m) MySQL full sync: {m_items:,} items in {mysql['seconds']:.2f}s = {m_rate:,.0f} items/s, "
        f"{mysql['queries']:,} queries, peak RSS {mysql['rss_mb']:.0f} MB"
    )
    r = rest["rest"]
    print(
        f"(r) REST full sync:  {r_items:,} items in {rest['seconds']:.2f}s = {r_rate:,.0f} items/s, "
        f"{r['requests']:,} requests ({r['retries']} retried, {r['bytes'] / 1e6:,.1f} MB), "
        f"peak RSS {rest['rss_mb']:.0f} MB"
    )
    print(f"    requests by endpoint: {json.dumps(r['by_endpoint'])}")
    print(
        f"    -> {r_rate / m_rate:.2f}x MySQL items/s, {rest['rss_mb'] / mysql['rss_mb']:.2f}x MySQL peak RSS; "
        f"requests {r['requests']} vs products/page size x (store views + 1) = {budget} "
        f"(+{r['requests'] - budget} for store lists and CMS)"
    )
    i = incremental["rest"]
    changed = sum(c["changed"] for c in incremental["counts"].values())
    print(
        f"(i) REST incremental after {touched:,} products (1%) changed: {incremental['seconds']:.2f}s, "
        f"{changed:,} items changed, {i['requests']:,} requests -> {incremental['seconds'] / rest['seconds']:.3f}x (r)"
    )
    if r_items != m_items:
        print(
            f"note: REST registered {m_items - r_items:,} fewer items: gallery entries disabled globally, "
            "which Magento's REST API does not return"
        )


if __name__ == "__main__":
    main()
