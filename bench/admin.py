"""Benchmark the admin at scale: every changelist and the compliance dashboard on a big registry.

    python bench/admin.py [--items 1000000] [--log-entries N] [--rounds 3] [--reuse] [--keep]

Builds (or, with ``--reuse``, reuses) a MariaDB database on ``PROVENANT_BENCH_MARIADB_URL`` (default
``mysql://root@127.0.0.1:3306/test``) named after the size, migrated with the project's migrations,
and fills it with bulk ``INSERT … SELECT`` from MariaDB's sequence engine (``seq_1_to_N``), not
through the sync:

  - ``--items`` content items over three store views and the four surfaces (a fifth synthetic, a
    tenth suspected, 2 % removed, 1 % with a problem), and as many log entries (``--log-entries``);
  - a tenth as many generation records, audit events, media files and derivatives, a fiftieth as
    many reviews, and 2,000 sync runs.

The build time of each table is printed. Then, as a signed-in superuser through Django's test
client (the whole middleware stack, templates rendered), it times every registered ModelAdmin's
changelist: page 1 with the default filters, and each list filter's first choice; and the
compliance dashboard, cold (the first request after its cached summaries expire) and warm. Each
page is requested ``--rounds`` times after one warm-up; the median is printed with the page's query
count and its slowest query.

Baselines measured in the same run: (a) a trivial indexed SELECT (one content item by primary
key) and (b) the admin index page (the cost of an admin request that touches no big table). The
goal is < 500 ms per page; read the ratios, the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _mariadb import SERVER, admin_sql, db_url  # noqa: E402

GOAL_MS = 500.0
CHUNK = 250_000


def _configure(database: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "sidecar.settings",
            "DATABASE_URL": db_url(database),
            "PROVENANT_SECRET_KEY": "bench-only-" + "x" * 40,
            "PROVENANT_SSL_REDIRECT": "0",
            "PROVENANT_ALLOWED_HOSTS": "testserver",
            "PROVENANT_LOG_LEVEL": "ERROR",
            "PROVENANT_TOTP_REQUIRED": "0",
        }
    )
    import django

    django.setup()


def _fill(model, count: int, exprs: dict[str, str], start: int = 1, **template) -> float:
    """``INSERT INTO <model's table> SELECT … FROM seq_<a>_to_<b>`` in chunks: columns in ``exprs``
    are SQL over the sequence's ``seq``, every other column takes the value the model would save
    for ``model(**template)``. Returns the seconds it took."""
    from django.db import connection, transaction
    from django.db.models import AutoField, BigAutoField

    obj = model(**template)
    columns, selects, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.column not in exprs and isinstance(field, (AutoField, BigAutoField)):
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in exprs:
            selects.append(exprs[field.column].replace("%", "%%"))
        else:
            selects.append("%s")
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    table = connection.ops.quote_name(model._meta.db_table)
    started = time.perf_counter()
    for low in range(start, start + count, CHUNK):
        high = min(low + CHUNK - 1, start + count - 1)
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(selects)} FROM seq_{low}_to_{high}"
        )
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, params)
    return time.perf_counter() - started


def build(items: int, log_entries: int) -> list[tuple[str, int, float]]:
    """Fill the registry; returns (table, rows, seconds) per table."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from audits.models import AuditEvent, AuditHead, Review
    from magento_bridge.models import Derivative, MediaFile, SyncRun
    from provenance.models import ApiClient, ContentItem, GenerationRecord, Generator, LogEntry, LogHead

    get_user_model().objects.create_superuser("bench", "bench@example.invalid", "bench-password")
    generators = [Generator.objects.create(name=f"bench-gen-{n}", version="1.0") for n in range(5)]
    client = ApiClient.objects.create(name="bench", scopes=["records:write"])
    tenth, fiftieth = max(items // 10, 1), max(items // 50, 1)
    timings = []

    def timed(model, count, exprs, **template):
        timings.append((model._meta.db_table, count, _fill(model, count, exprs, **template)))

    timed(
        ContentItem,
        items,
        {
            "store_code": "ELT(1 + seq % 3, 'default', 'de', 'fr')",
            "surface": "CASE WHEN seq % 20 < 14 THEN 'product_image' WHEN seq % 20 < 18 THEN 'recommendation'"
            " WHEN seq % 20 = 18 THEN 'cms_block' ELSE 'cms_page' END",
            "id": "seq",
            "magento_id": "seq",
            "sku": "CONCAT('SKU-', seq DIV 3)",
            "file_path": "IF(seq % 20 < 14, CONCAT('/a/b/img', seq, '.jpg'), '')",
            "identifier": "IF(seq % 20 >= 18, CONCAT('cms-', seq), '')",
            "title": "CONCAT('Item ', seq)",
            "origin": "ELT(1 + (seq DIV 7) % 10, 'unknown', 'unknown', 'unknown', 'unknown', 'unknown',"
            " 'unknown', 'synthetic', 'synthetic', 'suspected', 'human')",
            "c2pa_state": "CASE WHEN seq % 13 = 0 THEN 'valid' WHEN seq % 97 = 0 THEN 'invalid' ELSE '' END",
            "problem_code": "IF(seq % 101 = 0, 'file_missing', '')",
            "removed_at": "IF(seq % 50 = 0, NOW(6), NULL)",
            "is_hidden": "seq % 41 = 0",
            "is_enabled": "seq % 31 <> 0",
            "content_sha256": "SHA2(seq, 256)",
            "latest_log_index": "seq - 1",
            "last_seen_at": "NOW(6) - INTERVAL seq SECOND",
        },
    )
    timed(
        LogEntry,
        log_entries,
        {
            "index": "seq - 1",
            "kind": "ELT(1 + seq % 3, 'item_seen', 'item_changed', 'generation_record')",
            "data": 'CONCAT(\'{"kind":"item_seen","n":\', seq, \'}\')',
            "leaf_hash": 'UNHEX(SHA2(CONCAT(CHAR(0), \'{"kind":"item_seen","n":\', seq, \'}\'), 256))',
        },
    )
    LogHead.objects.update_or_create(pk=LogHead.SINGLETON_ID, defaults={"size": log_entries})
    timed(
        GenerationRecord,
        tenth,
        {
            "generator_id": f"{generators[0].pk} + seq % 5",
            "prompt_sha256": "SHA2(CONCAT('p', seq), 256)",
            "parameters_sha256": "SHA2('{}', 256)",
            "output_sha256": "SHA2(seq * 10, 256)",
            "output_media_type": "ELT(1 + seq % 2, 'image/png', 'text/html')",
            "generated_at": "NOW(6) - INTERVAL seq MINUTE",
            "external_id": "CONCAT('ext-', seq)",
            "submission_sha256": "SHA2(CONCAT('s', seq), 256)",
        },
        client=client,
        generator=generators[0],
        generator_version="1.0",
    )
    # The trail is a hash chain: the bulk events follow the head, and the head moves past them (the
    # chain does not verify, which the admin does not read).
    head, _ = AuditHead.objects.get_or_create(pk=AuditHead.SINGLETON_ID)
    offset = head.seq
    timed(
        AuditEvent,
        tenth,
        {
            "seq": f"seq + {offset}",
            "at": "NOW(6) - INTERVAL seq SECOND",
            "actor": "ELT(1 + seq % 3, 'alice', 'bob', 'system:sync')",
            "action": "ELT(1 + seq % 4, 'review.submit', 'review.approve', 'auth.login', 'sync.run')",
            "object_type": "ELT(1 + seq % 2, 'review', 'contentitem')",
            "object_id": "seq % 1000",
            "prev_hash": "SHA2(seq - 1, 256)",
            "hash": "SHA2(CONCAT('e', seq), 256)",
        },
    )
    with connection.cursor() as cur:
        cur.execute("SELECT SHA2(CONCAT('e', %s), 256)", [tenth])
        AuditHead.objects.filter(pk=head.pk).update(seq=offset + tenth, hash=cur.fetchone()[0])
    timed(
        Review,
        fiftieth,
        {
            "content_item_id": "seq * 7",
            "status": "ELT(1 + seq % 5, 'pending', 'in_review', 'changes_requested', 'approved', 'rejected')",
            "risk": "1 + seq % 5",
            "queued_at": "NOW(6) - INTERVAL seq MINUTE",
        },
    )
    timed(
        MediaFile,
        tenth,
        {
            "path": "CONCAT('/a/b/img', seq, '.jpg')",
            "sha256": "SHA2(seq, 256)",
            "format": "ELT(1 + seq % 3, 'JPEG', 'PNG', 'WEBP')",
            "problem_code": "IF(seq % 101 = 0, 'file_missing', '')",
        },
    )
    timed(
        Derivative,
        tenth,
        {
            # Product images only (seq % 20 < 14 above): every 20th item from the first one.
            "item_id": "1 + (seq - 1) * 10",
            "path": "CONCAT('/cache/', ELT(1 + seq % 3, 'h1', 'h2', 'h3'), '/a/b/img', seq, '.jpg')",
            "cache_hash": "ELT(1 + seq % 3, 'h1', 'h2', 'h3')",
            "xmp_source_type": "IF(seq % 2 = 0, 'http://cv.iptc.org/newscodes/digitalsourcetype/"
            "trainedAlgorithmicMedia', '')",
            "c2pa_state": "IF(seq % 5 = 0, 'valid', '')",
            "problem_code": "IF(seq % 97 = 0, 'unreadable', '')",
        },
    )
    timed(
        SyncRun,
        2000,
        {
            "mode": "ELT(1 + seq % 2, 'incremental', 'full')",
            "status": "IF(seq % 17 = 0, 'failed', 'succeeded')",
            "store_code": "ELT(1 + seq % 4, '', 'default', 'de', 'fr')",
            "started_at": "NOW(6) - INTERVAL seq * 15 MINUTE",
            "finished_at": "NOW(6) - INTERVAL seq * 15 MINUTE + INTERVAL 2 MINUTE",
        },
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE TABLE " + ", ".join(t for t, _, _ in timings))
        cur.fetchall()
    return timings


def _median_ms(fn, rounds: int) -> float:
    fn()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _page(client, url: str) -> tuple:
    """(response, queries, slowest query's ms and SQL) of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url}: HTTP {response.status_code}")
    slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]), default={"time": 0, "sql": ""})
    return response, len(ctx), float(slowest["time"]) * 1000, slowest["sql"]


def _filter_urls(model_admin, user, base: str) -> list[tuple[str, str]]:
    """(label, url) of each list filter's first choice on the changelist's page 1."""
    from django.test import RequestFactory

    request = RequestFactory().get(base)
    request.user = user
    cl = model_admin.get_changelist_instance(request)
    urls = []
    for spec in cl.filter_specs:
        choices = [c for c in spec.choices(cl) if not c.get("selected")]
        if choices:
            urls.append((f"{spec.title}: {choices[0]['display']}", base + choices[0]["query_string"]))
    return urls


def measure(rounds: int, verbose: bool) -> int:
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from provenance.models import ContentItem

    user = get_user_model().objects.get(username="bench")
    client = Client()
    client.force_login(user)
    pk = ContentItem.objects.order_by("-id").values_list("id", flat=True).first()

    def indexed_select():
        with connection.cursor() as cur:
            cur.execute("SELECT id, store_code FROM provenance_contentitem WHERE id = %s", [pk])
            cur.fetchall()

    select_ms = _median_ms(indexed_select, 50)
    index_ms = _median_ms(lambda: client.get(reverse("admin:index")), rounds)
    print(f"baseline (a) indexed SELECT by primary key: {select_ms:.2f} ms")
    print(f"baseline (b) admin index page:              {index_ms:.1f} ms\n")
    print(f"{'page':<72} {'ms':>8} {'×(b)':>6} {'queries':>7} {'slowest':>8}  goal")

    missed = 0

    def row(label: str, url: str, ms: float, queries: int, slow_ms: float, slow_sql: str) -> None:
        nonlocal missed
        ok = ms < GOAL_MS
        missed += not ok
        print(
            f"{label[:72]:<72} {ms:8.1f} {ms / index_ms:6.1f} {queries:7d} {slow_ms:8.1f}  {'met' if ok else 'MISSED'}"
        )
        if verbose and not ok:
            print(f"    {url}\n    slowest: {slow_sql[:400]}")

    dashboard = reverse("audits:dashboard")
    cache.clear()
    _, queries, slow_ms, slow_sql = _page(client, dashboard)
    started = time.perf_counter()
    cache.clear()
    _page(client, dashboard)
    row(
        "dashboard (cold cache)",
        dashboard,
        (time.perf_counter() - started) * 1000,
        queries,
        slow_ms,
        slow_sql,
    )
    ms = _median_ms(lambda: client.get(dashboard), rounds)
    _, queries, slow_ms, slow_sql = _page(client, dashboard)
    row("dashboard (warm)", dashboard, ms, queries, slow_ms, slow_sql)

    for model, model_admin in sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label):
        base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        pages = [(f"{model._meta.label}", base)] + [
            (f"{model._meta.label} [{label}]", url) for label, url in _filter_urls(model_admin, user, base)
        ]
        for label, url in pages:
            ms = _median_ms(lambda url=url: client.get(url), rounds)
            _, queries, slow_ms, slow_sql = _page(client, url)
            row(label, url, ms, queries, slow_ms, slow_sql)
    print(f"\n{missed} page(s) over {GOAL_MS:.0f} ms")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000, help="content items (default 1,000,000)")
    parser.add_argument("--log-entries", type=int, help="log entries (default: as many as items)")
    parser.add_argument("--rounds", type=int, default=3, help="timed requests per page (median printed)")
    parser.add_argument("--reuse", action="store_true", help="reuse the database of this size if it exists")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (for --reuse)")
    parser.add_argument("--verbose", action="store_true", help="print the URL and slowest SQL of slow pages")
    args = parser.parse_args()
    log_entries = args.items if args.log_entries is None else args.log_entries
    name = f"provenant_bench_admin_{args.items}_{log_entries}"
    print(f"MariaDB {SERVER}, database {name}: {args.items:,} items, {log_entries:,} log entries")

    from magento_bridge.connection import connect, parse_database_url

    conn = connect(parse_database_url(SERVER), read_only=False, connect_timeout=3)
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", [name])
        exists = cur.fetchone()[0] > 0
    conn.close()
    if exists and not args.reuse:
        admin_sql(f"DROP DATABASE `{name}`")
        exists = False
    if not exists:
        admin_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    try:
        _configure(name)
        from django.core.management import call_command

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrate: {time.perf_counter() - started:.1f} s")
        if not exists:
            started = time.perf_counter()
            for table, rows, seconds in build(args.items, log_entries):
                print(
                    f"  {table:<32} {rows:>10,} rows {seconds:7.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)"
                )
            print(f"build: {time.perf_counter() - started:.1f} s\n")
        measure(args.rounds, args.verbose)
    finally:
        if not args.keep:
            admin_sql(f"DROP DATABASE IF EXISTS `{name}`")


if __name__ == "__main__":
    main()
