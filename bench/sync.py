"""Benchmark the Magento sync against a plain streaming read of the same rows.

    python bench/sync.py [--products 100000] [--small 10000] [--keep]

Builds demo stores in MariaDB (default 10,000 and 100,000 products, ~3 images each, ~2% CMS
blocks/pages, ~2 links per product) and measures, each phase in its own process so peak RSS is
the phase's own:

  (a) baseline: every row the sync reads, through a plain PyMySQL streaming cursor;
  (b) a full sync into an empty registry (media not read: image hashing is measured on its own);
  (c) a re-sync with nothing changed: incremental (the scheduled default) and full;
  (d) an incremental sync after 1% of the products changed;
  (h) image hashing: inspecting and hashing every gallery file once, cold;
  (i) ingest during a full sync: one client posts generation records, one after another, to the
      API (gunicorn) on a second empty registry while a full sync fills it; failed posts, p50/p99
      and the longest time a sync batch held the log's writer lock.

Ratios are against numbers measured in the same run; the machine is shared, so read them, not
the seconds. Targets: (b) >= 0.5x the baseline's rows/s (0.3x the floor); (c) <= 0.2x of (b)'s
time; (d) <= 0.05x of (b)'s time; peak RSS under 300 MB and flat between the two sizes; (i) 0 failed
posts and p99 < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _mariadb import admin_sql, db_url, maxrss_mb, run_child  # noqa: E402

# -- child phases (run in their own process) ------------------------------------------------


def phase_baseline(magento_url: str) -> dict:
    """Stream every row the sync reads with a plain server-side cursor."""
    import pymysql
    import pymysql.cursors

    from magento_bridge.connection import parse_database_url

    db = parse_database_url(magento_url)
    conn = pymysql.connect(
        host=db.host,
        port=db.port or 3306,
        user=db.user,
        password=db.password,
        database=db.name,
        cursorclass=pymysql.cursors.SSCursor,
    )
    queries = [
        "SELECT entity_id, sku, updated_at FROM catalog_product_entity",
        "SELECT entity_id, attribute_id, store_id, value FROM catalog_product_entity_varchar",
        "SELECT entity_id, attribute_id, store_id, value FROM catalog_product_entity_int",
        "SELECT vte.entity_id, g.value_id, g.value, g.media_type, g.disabled "
        "FROM catalog_product_entity_media_gallery_value_to_entity vte "
        "JOIN catalog_product_entity_media_gallery g ON g.value_id = vte.value_id",
        "SELECT value_id, entity_id, store_id, label, position, disabled "
        "FROM catalog_product_entity_media_gallery_value",
        "SELECT value_id, store_id, url, title FROM catalog_product_entity_media_gallery_value_video",
        "SELECT l.product_id, l.link_type_id, l.linked_product_id, p.value FROM catalog_product_link l "
        "LEFT JOIN catalog_product_link_attribute_int p ON p.link_id = l.link_id",
        "SELECT block_id, identifier, title, content, is_active, update_time FROM cms_block",
        "SELECT block_id, store_id FROM cms_block_store",
        "SELECT page_id, identifier, title, content, content_heading, is_active, update_time FROM cms_page",
        "SELECT page_id, store_id FROM cms_page_store",
    ]
    rows = 0
    started = time.perf_counter()
    for sql in queries:
        with conn.cursor() as cur:
            cur.execute(sql)
            for _row in cur:
                rows += 1
    seconds = time.perf_counter() - started
    conn.close()
    return {"seconds": seconds, "rows": rows, "rss_mb": maxrss_mb()}


def _django(registry_url: str, magento_url: str, media_root: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "sidecar.settings",
            # Production mode: with debug on, Django keeps the text of every query in memory.
            "PROVENANT_DEBUG": "0",
            "PROVENANT_SECRET_KEY": "benchmark-only-secret-key-" + "x" * 40,
            "DATABASE_URL": registry_url,
            "MAGENTO_DATABASE_URL": magento_url,
            "MAGENTO_MEDIA_ROOT": media_root,
            "PROVENANT_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def phase_migrate(registry_url: str, magento_url: str, media_root: str) -> dict:
    _django(registry_url, magento_url, media_root)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {}


def phase_sync(registry_url: str, magento_url: str, media_root: str, mode: str) -> dict:
    _django(registry_url, magento_url, media_root)
    from django.conf import settings

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
        "longest_batch_seconds": run.media.get("longest_batch_seconds"),
        "driver": settings.MYSQL_DRIVER,
        "rss_mb": maxrss_mb(),
    }


def phase_hash(registry_url: str, magento_url: str, media_root: str) -> dict:
    _django(registry_url, magento_url, media_root)
    from django.db import connection

    from magento_bridge.media import LocalMediaRoot
    from magento_bridge.models import MediaFile
    from magento_bridge.services import MediaStats, media_inspect_files

    MediaFile.objects.all().delete()
    with connection.cursor():
        pass
    from magento_bridge.connection import connect, parse_database_url

    conn = connect(parse_database_url(magento_url), read_only=True)
    with conn.cursor() as cur:
        cur.execute("SELECT value FROM catalog_product_entity_media_gallery")
        files = [r[0] for r in cur.fetchall()]
    conn.close()
    stats = MediaStats()
    source = LocalMediaRoot(media_root)
    started = time.perf_counter()
    for start in range(0, len(files), 2000):
        media_inspect_files(files=files[start : start + 2000], source=source, stats=stats, reread=True)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "files": stats.files_read, "bytes": stats.bytes_read, "rss_mb": maxrss_mb()}


def phase_touch(magento_url: str, fraction: float) -> dict:
    from magento_bridge.connection import connect, parse_database_url
    from magento_bridge.demo import touch_products

    db = parse_database_url(magento_url)
    conn = connect(db, read_only=True)
    with conn.cursor() as cur:
        cur.execute("SELECT entity_id FROM catalog_product_entity ORDER BY entity_id")
        ids = [r[0] for r in cur.fetchall()]
    conn.close()
    step = max(1, int(1 / fraction))
    chosen = ids[::step]
    touch_products(db, chosen, new_label="Changed for the benchmark")
    return {"touched": len(chosen)}


def _child(args: list[str]) -> dict:
    return run_child(__file__, *args)


def ingest_during_sync(registry_url: str, magento_url: str, media_root: str) -> dict:
    """(i): post records one after another while a full sync fills the same empty registry."""
    import ingest  # bench/ingest.py: the API server and client it measures with

    env = {**ingest._env(registry_url), "MAGENTO_DATABASE_URL": magento_url}
    token = json.loads(ingest._python(ingest.SETUP, env))  # the schema, a generator and a token
    server, port = ingest._start_server(env)
    client = ingest.Client(port, token)
    sync = subprocess.Popen(
        [sys.executable, __file__, "--child", "sync", registry_url, magento_url, media_root, "full"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    latencies: list[float] = []
    failures: dict[int, int] = {}
    run = uuid.uuid4().hex[:8]
    try:
        n = 0
        while sync.poll() is None:
            started = time.perf_counter()
            status = client.request("POST", "/api/v1/provenance/records", ingest._record(n, run))
            latencies.append(time.perf_counter() - started)
            if status != 201:
                failures[status] = failures.get(status, 0) + 1
            n += 1
        out, err = sync.communicate()
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)
    if sync.returncode != 0:
        raise SystemExit(f"the sync failed:\n{out}\n{err}")
    latencies.sort()
    return {
        "sync": json.loads(out.strip().splitlines()[-1]),
        "posts": len(latencies),
        "failures": failures,
        "p50": latencies[len(latencies) // 2] if latencies else 0.0,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0,
        "max": latencies[-1] if latencies else 0.0,
    }


# -- orchestration --------------------------------------------------------------------------


def run_size(products: int, workdir: Path, keep: bool) -> dict:
    from magento_bridge.demo import build_demo_store

    magento_db = f"provenant_bench_magento_{products}"
    registry_db = f"provenant_bench_registry_{products}"
    admin_sql(
        f"DROP DATABASE IF EXISTS `{magento_db}`",
        f"DROP DATABASE IF EXISTS `{registry_db}`",
        f"CREATE DATABASE `{magento_db}` CHARACTER SET utf8mb4",
        f"CREATE DATABASE `{registry_db}` CHARACTER SET utf8mb4",
    )
    magento_url, registry_url = db_url(magento_db), db_url(registry_db)
    media_root = workdir / f"media-{products}"
    started = time.perf_counter()
    summary = build_demo_store(magento_url, products=products, media_root=media_root, seed=11)
    build_seconds = time.perf_counter() - started
    print(
        f"\n== {products:,} products: {summary.gallery_entries:,} gallery entries, "
        f"{summary.blocks + summary.pages:,} CMS blocks/pages, {sum(summary.links.values()):,} links "
        f"(built in {build_seconds:.0f}s)",
        flush=True,
    )
    common = [registry_url, magento_url, str(media_root)]
    results = {"products": products}
    results["baseline"] = _child(["baseline", magento_url])
    _child(["migrate", *common])
    results["full"] = _child(["sync", *common, "full"])
    # The same full sync with the pure-Python driver, into a second empty registry.
    fallback_db = f"{registry_db}_pymysql"
    admin_sql(
        f"DROP DATABASE IF EXISTS `{fallback_db}`", f"CREATE DATABASE `{fallback_db}` CHARACTER SET utf8mb4"
    )
    fallback = [db_url(fallback_db), magento_url, str(media_root)]
    os.environ["PROVENANT_MYSQL_DRIVER"] = "pymysql"
    try:
        _child(["migrate", *fallback])
        results["full_pymysql"] = _child(["sync", *fallback, "full"])
    finally:
        del os.environ["PROVENANT_MYSQL_DRIVER"]
    admin_sql(f"DROP DATABASE IF EXISTS `{fallback_db}`")
    results["resync_incremental"] = _child(["sync", *common, "incremental"])
    results["resync_full"] = _child(["sync", *common, "full"])
    results["touch"] = _child(["touch", magento_url, "0.01"])
    results["incremental_1pct"] = _child(["sync", *common, "incremental"])
    results["hash"] = _child(["hash", *common])
    concurrent_db = f"{registry_db}_ingest"
    admin_sql(
        f"DROP DATABASE IF EXISTS `{concurrent_db}`",
        f"CREATE DATABASE `{concurrent_db}` CHARACTER SET utf8mb4",
    )
    results["ingest_during_sync"] = ingest_during_sync(db_url(concurrent_db), magento_url, str(media_root))
    if not keep:
        admin_sql(
            f"DROP DATABASE IF EXISTS `{magento_db}`",
            f"DROP DATABASE IF EXISTS `{registry_db}`",
            f"DROP DATABASE IF EXISTS `{concurrent_db}`",
        )
    return results


def report(r: dict) -> None:
    base, full = r["baseline"], r["full"]
    base_rate = base["rows"] / base["seconds"]
    full_rate = base["rows"] / full["seconds"]
    items = sum(sum(c.values()) for c in [{k: v["added"]} for k, v in full["counts"].items()])
    print(
        f"(a) baseline streaming read: {base['rows']:,} rows in {base['seconds']:.2f}s = {base_rate:,.0f} rows/s"
    )
    print(
        f"(b) full sync, empty registry: {full['seconds']:.2f}s = {full_rate:,.0f} source rows/s, "
        f"{items:,} items written, {full['queries']:,} queries, longest batch transaction "
        f"{full['longest_batch_seconds']:.2f}s -> {full_rate / base_rate:.2f}x baseline rows/s "
        "(target >= 0.5, floor 0.3)"
    )
    fb = r["full_pymysql"]
    print(
        f"    the same with {fb['driver']} instead of {full['driver']}: {fb['seconds']:.2f}s "
        f"-> {base['rows'] / fb['seconds'] / base_rate:.2f}x baseline rows/s"
    )
    inc = r["resync_incremental"]
    print(
        f"(c) re-sync, nothing changed, incremental: {inc['seconds']:.2f}s -> {inc['seconds'] / full['seconds']:.3f}x (b) (target <= 0.2)"
    )
    rf = r["resync_full"]
    print(
        f"    re-sync, nothing changed, full reconcile: {rf['seconds']:.2f}s -> {rf['seconds'] / full['seconds']:.3f}x (b)"
    )
    d = r["incremental_1pct"]
    changed = sum(v["changed"] for v in d["counts"].values())
    print(
        f"(d) incremental after {r['touch']['touched']:,} products (1%) changed: {d['seconds']:.2f}s, "
        f"{changed:,} items changed -> {d['seconds'] / full['seconds']:.3f}x (b) (target <= 0.05)"
    )
    h = r["hash"]
    print(
        f"(h) image hashing, cold: {h['files']:,} files, {h['bytes'] / 1e6:,.1f} MB in {h['seconds']:.2f}s "
        f"= {h['files'] / h['seconds']:,.0f} files/s"
    )
    i = r["ingest_during_sync"]
    failed = sum(i["failures"].values())
    print(
        f"(i) ingest during a full sync ({i['sync']['seconds']:.1f}s, longest batch transaction "
        f"{i['sync']['longest_batch_seconds']:.2f}s): {i['posts']:,} posts, {failed} failed {i['failures'] or ''}, "
        f"p50 {i['p50'] * 1000:.0f} ms, p99 {i['p99'] * 1000:.0f} ms, max {i['max'] * 1000:.0f} ms "
        f"(target 0 failed, p99 < 2000 ms)"
    )
    rss = {k: v["rss_mb"] for k, v in r.items() if isinstance(v, dict) and "rss_mb" in v}
    print("peak RSS (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        phase, args = sys.argv[2], sys.argv[3:]
        if phase == "baseline":
            out = phase_baseline(*args)
        elif phase == "migrate":
            out = phase_migrate(*args)
        elif phase == "sync":
            out = phase_sync(*args)
        elif phase == "hash":
            out = phase_hash(*args)
        elif phase == "touch":
            out = phase_touch(args[0], float(args[1]))
        else:
            raise SystemExit(f"unknown phase {phase}")
        print(json.dumps(out))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="the smaller size for the RSS comparison")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sidecar.settings")
    os.environ.setdefault("PROVENANT_DEBUG", "1")
    with tempfile.TemporaryDirectory(prefix="provenant-bench-") as tmp:
        results = []
        for size in sorted({options.small, options.products}):
            results.append(run_size(size, Path(tmp), options.keep))
            report(results[-1])
    if len(results) == 2:
        small, large = results
        for phase in ("full", "incremental_1pct"):
            a, b = small[phase]["rss_mb"], large[phase]["rss_mb"]
            print(
                f"RSS {phase}: {a:.0f} MB at {small['products']:,} vs {b:.0f} MB at {large['products']:,} ({b / a:.2f}x)"
            )


if __name__ == "__main__":
    main()
