"""Benchmark the transparency log on MariaDB against plain inserts of the same rows.

    python bench/log.py [--entries 1000000] [--batch 1000] [--proofs 1000] [--consistency 100] [--keep]

In a throwaway MariaDB database, each phase in its own process so peak RSS is the phase's own:

  (a) baseline: the same number of plain rows, of the same size as the log's entries, inserted
      with ``executemany`` in batches into one table, one transaction per batch; then, for
      reference, the same rows as multi-row INSERTs of literals, the way the log writes;
  (b) the log: ``log_append_many`` in batches (one caller transaction each), then one checkpoint
      signed over the whole tree (consistency proof included);
  (c) proofs: inclusion and consistency proofs at random tree sizes through the selectors the
      endpoints use, each verified against the root of its size; median and worst time per proof,
      longest proof against ceil(log2 n);
  (d) the integrity check behind ``manage.py provenance_verify`` over the whole log (time, and
      peak RSS to show it streams).

Ratios are against numbers measured in the same run; read them, not the seconds. Targets: (b) at
least 3,000 appends/s and within 2x of (a)'s time; median proof under 2 ms; inclusion proofs at
most ceil(log2 n) hashes, consistency proofs at most ceil(log2 n) + 1 (the bound of RFC 6962
§2.1.2).

Ingest throughput is measured by whoever owns the ingest API: :func:`ingest_throughput` takes a
callable that submits one record, or pass ``--ingest module:factory`` (a function returning such
a callable) to run it in this process after the phases above.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _mariadb import admin_sql, db_url, maxrss_mb, run_child  # noqa: E402
from _mariadb import django_setup as _django  # noqa: E402
from _mariadb import item_payload as payload  # noqa: E402

# -- child phases (run in their own process) ------------------------------------------------


def phase_schema(url: str) -> dict:
    _django(url)
    from django.db import connection

    from provenance.models import Checkpoint, ContentItem, LogEntry, LogHash, LogHead, LogKey

    with connection.schema_editor() as editor:
        for model in (LogEntry, LogHash, LogHead, LogKey, Checkpoint, ContentItem):
            editor.create_model(model)
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench_plain (id BIGINT NOT NULL PRIMARY KEY, kind VARCHAR(64) NOT NULL, "
            "data LONGBLOB NOT NULL, leaf_hash BINARY(32) NOT NULL, created_at DATETIME(6) NOT NULL)"
        )
    return {}


def phase_baseline(url: str, entries: int, batch: int, literal: bool = False) -> dict:
    _django(url)
    from django.db import connection, transaction
    from django.utils import timezone

    from provenance.standards.canonical import canonical_json

    # Same sizes as the log's rows: the canonical JSON of a representative entry, varied per row.
    sample = canonical_json({**payload(0), "kind": "item.added", "time": "2026-01-01T00:00:00.000000Z"})
    now = timezone.now().replace(tzinfo=None)
    started = time.perf_counter()
    for start in range(0, entries, batch):
        rows = []
        for n in range(start, min(start + batch, entries)):
            data = n.to_bytes(8, "big") + sample[8:]
            rows.append((n, "item.added", data, hashlib.sha256(data).digest(), now))
        with transaction.atomic(), connection.cursor() as cur:
            if literal:
                cur.execute(
                    "INSERT INTO bench_plain (id, kind, data, leaf_hash, created_at) VALUES "
                    + ",".join(f"({i},'{k}',X'{d.hex()}',X'{h.hex()}','{t}')" for i, k, d, h, t in rows)
                )
            else:
                cur.executemany(
                    "INSERT INTO bench_plain (id, kind, data, leaf_hash, created_at) VALUES (%s, %s, %s, %s, %s)",
                    rows,
                )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": entries, "row_bytes": len(sample), "rss_mb": maxrss_mb()}


def phase_append(url: str, entries: int, batch: int) -> dict:
    _django(url)
    from django.conf import settings
    from django.db import transaction

    from provenance.checkpoints import checkpoint_sign
    from provenance.log import log_append_many
    from provenance.models import LogEntry
    from provenance.standards.notes import generate_signer

    started = time.perf_counter()
    for start in range(0, entries, batch):
        with transaction.atomic():
            log_append_many(
                entries=[("item.added", payload(n)) for n in range(start, min(start + batch, entries))]
            )
    seconds = time.perf_counter() - started
    sample = LogEntry.objects.order_by("index").values_list("data", flat=True).first()

    _, key = generate_signer("bench.provenant.localhost/log")
    settings.LOG_SIGNING_KEY = key
    settings.TSA_URL = ""
    sign_started = time.perf_counter()
    checkpoint_sign()  # the first checkpoint: the whole tree from scratch
    first_sign = time.perf_counter() - sign_started
    with transaction.atomic():
        log_append_many(entries=[("item.added", payload(entries + k)) for k in range(batch)])
    sign_started = time.perf_counter()
    checkpoint = checkpoint_sign()  # with a consistency proof from the previous one
    second_sign = time.perf_counter() - sign_started
    return {
        "seconds": seconds,
        "entries": entries,
        "row_bytes": len(bytes(sample)),
        "sign_first_ms": first_sign * 1000,
        "sign_next_ms": second_sign * 1000,
        "size": checkpoint.size,
        "rss_mb": maxrss_mb(),
    }


def phase_proofs(url: str, inclusion: int, consistency: int, seed: int) -> dict:
    _django(url)
    from provenance.log import log_consistency_proof, log_entries, log_inclusion_proof, log_root, log_size
    from provenance.standards import merkle

    rng = random.Random(seed)
    size = log_size()
    inclusion_ms, consistency_ms = [], []
    worst_inclusion = worst_consistency = 0  # proof length minus ceil(log2 n)
    longest = 0
    for _ in range(inclusion):
        n = rng.randint(1, size)
        index = rng.randrange(n)
        started = time.perf_counter()
        proof = log_inclusion_proof(index, n)
        inclusion_ms.append((time.perf_counter() - started) * 1000)
        leaf = log_entries(index, index + 1)[0].leaf_hash
        merkle.verify_inclusion(bytes(leaf), index, n, proof, log_root(n))
        longest = max(longest, len(proof))
        worst_inclusion = max(worst_inclusion, len(proof) - math.ceil(math.log2(n)) if n > 1 else len(proof))
    for _ in range(consistency):
        new = rng.randint(1, size)
        old = rng.randint(1, new)
        started = time.perf_counter()
        proof = log_consistency_proof(old, new)
        consistency_ms.append((time.perf_counter() - started) * 1000)
        merkle.verify_consistency(old, new, log_root(old), log_root(new), proof)
        longest = max(longest, len(proof))
        worst_consistency = max(
            worst_consistency, len(proof) - math.ceil(math.log2(new)) if new > 1 else len(proof)
        )
    return {
        "size": size,
        "inclusion_median_ms": statistics.median(inclusion_ms),
        "inclusion_max_ms": max(inclusion_ms),
        "consistency_median_ms": statistics.median(consistency_ms),
        "consistency_max_ms": max(consistency_ms),
        "longest_proof": longest,
        "ceil_log2_size": math.ceil(math.log2(size)),
        "inclusion_excess": worst_inclusion,
        "consistency_excess": worst_consistency,
        "rss_mb": maxrss_mb(),
    }


def phase_verify(url: str) -> dict:
    _django(url)
    from provenance.integrity import integrity_check

    started = time.perf_counter()
    report = integrity_check()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "entries": report.entries_checked,
        "hashes": report.hashes_checked,
        "ok": report.ok,
        "findings": [str(f) for f in report.findings[:5]],
        "rss_mb": maxrss_mb(),
    }


def ingest_throughput(submit: Callable[[int], object], count: int = 2000) -> dict:
    """Call ``submit(i)`` for i in 0..count-1 (one record each, from one client) and report records/s."""
    started = time.perf_counter()
    for i in range(count):
        submit(i)
    seconds = time.perf_counter() - started
    return {"records": count, "seconds": seconds, "per_second": count / seconds}


def _child(args: list[str]) -> dict:
    return run_child(__file__, *args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--proofs", type=int, default=1000, help="inclusion proofs")
    parser.add_argument("--consistency", type=int, default=100, help="consistency proofs")
    parser.add_argument("--seed", type=int, default=9162)
    parser.add_argument("--ingest", help="module:factory returning a callable that submits one record")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        phase, *rest = args.child
        handlers = {
            "schema": lambda: phase_schema(rest[0]),
            "baseline": lambda: phase_baseline(rest[0], int(rest[1]), int(rest[2]), rest[3] == "literal"),
            "append": lambda: phase_append(rest[0], int(rest[1]), int(rest[2])),
            "proofs": lambda: phase_proofs(rest[0], int(rest[1]), int(rest[2]), int(rest[3])),
            "verify": lambda: phase_verify(rest[0]),
        }
        print(json.dumps(handlers[phase]()))
        return

    name = f"provenant_bench_log_{os.getpid()}"
    url = db_url(name)
    admin_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    try:
        n, batch = str(args.entries), str(args.batch)
        print(f"MariaDB database {name}: {args.entries:,} entries in batches of {args.batch:,}", flush=True)
        _child(["schema", url])
        base = _child(["baseline", url, n, batch, "executemany"])
        print(
            f"(a) baseline executemany: {base['rows']:,} rows of {base['row_bytes']} B in {base['seconds']:.1f} s "
            f"= {base['rows'] / base['seconds']:,.0f} rows/s, peak RSS {base['rss_mb']:.0f} MB",
            flush=True,
        )
        admin_sql(f"TRUNCATE TABLE `{name}`.bench_plain")
        literal = _child(["baseline", url, n, batch, "literal"])
        print(
            f"    the same rows as multi-row literal INSERTs (how the log writes): {literal['seconds']:.1f} s "
            f"= {literal['rows'] / literal['seconds']:,.0f} rows/s",
            flush=True,
        )
        log = _child(["append", url, n, batch])
        rate = log["entries"] / log["seconds"]
        print(
            f"(b) log_append_many:      {log['entries']:,} entries of {log['row_bytes']} B in {log['seconds']:.1f} s "
            f"= {rate:,.0f} appends/s, peak RSS {log['rss_mb']:.0f} MB",
            flush=True,
        )
        print(
            f"    checkpoint: first (size {log['size'] - args.batch:,}) {log['sign_first_ms']:.1f} ms, "
            f"next (size {log['size']:,}, with consistency proof) {log['sign_next_ms']:.1f} ms",
            flush=True,
        )
        proofs = _child(["proofs", url, str(args.proofs), str(args.consistency), str(args.seed)])
        print(
            f"(c) {args.proofs:,} inclusion proofs: median {proofs['inclusion_median_ms']:.2f} ms, "
            f"max {proofs['inclusion_max_ms']:.2f} ms; {args.consistency} consistency proofs: median "
            f"{proofs['consistency_median_ms']:.2f} ms, max {proofs['consistency_max_ms']:.2f} ms; "
            f"peak RSS {proofs['rss_mb']:.0f} MB",
            flush=True,
        )
        print(
            f"    longest proof {proofs['longest_proof']} hashes, ceil(log2 {proofs['size']:,}) = "
            f"{proofs['ceil_log2_size']}; worst excess over ceil(log2 n) at its own n: inclusion "
            f"{proofs['inclusion_excess']}, consistency {proofs['consistency_excess']}",
            flush=True,
        )
        verify = _child(["verify", url])
        print(
            f"(d) provenance_verify: {verify['entries']:,} entries and {verify['hashes']:,} stored hashes "
            f"rebuilt in {verify['seconds']:.1f} s, {'consistent' if verify['ok'] else verify['findings']}, "
            f"peak RSS {verify['rss_mb']:.0f} MB",
            flush=True,
        )
        ratio = log["seconds"] / base["seconds"]
        print("\nTargets:")
        print(f"  appends/s >= 3,000:                   {rate:,.0f}  {'OK' if rate >= 3000 else 'MISSED'}")
        print(f"  log time <= 2x baseline:              {ratio:.2f}x  {'OK' if ratio <= 2 else 'MISSED'}")
        print(f"  (against the literal-INSERT rows:     {log['seconds'] / literal['seconds']:.2f}x)")
        median = max(proofs["inclusion_median_ms"], proofs["consistency_median_ms"])
        print(f"  median proof < 2 ms:                  {median:.2f} ms  {'OK' if median < 2 else 'MISSED'}")
        # RFC 6962 §2.1.2: a consistency proof has at most ceil(log2 n) + 1 hashes.
        ok = proofs["inclusion_excess"] <= 0 and proofs["consistency_excess"] <= 1
        print(f"  inclusion <= ceil(log2 n), consistency <= ceil(log2 n) + 1: {'OK' if ok else 'MISSED'}")

        if args.ingest:
            module, _, factory = args.ingest.partition(":")
            _django(url)
            submit = getattr(importlib.import_module(module), factory)()
            result = ingest_throughput(submit)
            print(
                f"(d) ingest: {result['records']:,} records in {result['seconds']:.1f} s = {result['per_second']:,.0f}/s"
            )
    finally:
        if not args.keep:
            admin_sql(f"DROP DATABASE IF EXISTS `{name}`")


if __name__ == "__main__":
    main()
