"""Benchmark audit packages on MariaDB: 10,000 and 100,000 registry items.

    python bench/package.py [--sizes 10000,100000]

For each size, in a throwaway MariaDB database (``PROVENANT_BENCH_MARIADB_URL``) and separate
processes (so each peak RSS is the phase's own):

  fill:   migrate, bulk-insert the registry (half the items synthetic, each with a review), one
          ``item.added`` log entry per item through ``log_append_many``, a generation record (logged)
          per ten items, then sign a checkpoint;
  build:  a plain streaming read of the registry and log rows (the baseline), then
          ``audit_package_build`` of everything: registers, every entry with its inclusion proof,
          documents, verify.py, manifest, ZIP — timed, with the process's peak RSS;
  verify: the package's own ``verify.py`` over the ZIP (standard library + cryptography), timed.

Targets: build under 60 s and 500 MB at 100,000 items, time growing linearly (the 100k/10k ratio
near 10, measured in the same run).
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

from _mariadb import admin_sql, db_url, django_setup, maxrss_mb, run_child  # noqa: E402


def _setup(url: str) -> None:
    django_setup(url, PROVENANT_LOG_ORIGIN="bench.provenant.invalid/log")


def phase_fill(url: str, items: int, key: str) -> dict:
    os.environ["PROVENANT_LOG_KEY"] = key
    _setup(url)
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from audits.models import Review
    from provenance.checkpoints import checkpoint_sign
    from provenance.log import log_append_many
    from provenance.models import ApiClient, ContentItem, GenerationRecord, Generator

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    now = timezone.now()
    user = User.objects.create_user("bench-approver")
    generator = Generator.objects.create(name="bench-image-model", provider="Bench", version="1")
    client = ApiClient.objects.create(name="bench-pipeline", scopes=["records:write"])
    batch = 5000
    for start in range(0, items, batch):
        rows = []
        for n in range(start, min(items, start + batch)):
            rows.append(
                ContentItem(
                    store_code="default" if n % 3 else "de",
                    surface="product_image" if n % 4 else "cms_block",
                    magento_id=n + 1,
                    part_key=str(n),
                    sku=f"SKU-{n}",
                    file_path=f"/b/e/bench-{n}.jpg",
                    origin="synthetic" if n % 2 else "human",
                    content_sha256=f"{n:064x}",
                    state_sha256=f"{n + 7:064x}",
                    first_seen_at=now,
                    changed_at=now,
                )
            )
        ContentItem.objects.bulk_create(rows)
        with transaction.atomic():
            log_append_many(
                entries=[
                    (
                        "item.added",
                        {
                            "store_code": r.store_code,
                            "surface": r.surface,
                            "magento_id": r.magento_id,
                            "part_key": r.part_key,
                            "content_sha256": r.content_sha256,
                            "origin": r.origin,
                        },
                    )
                    for r in rows
                ]
            )
    with connection.cursor() as cur:  # item n (id n+1) was logged at index n
        cur.execute("UPDATE provenance_contentitem SET latest_log_index = id - 1")
    synthetic = ContentItem.objects.filter(origin="synthetic").values_list("id", flat=True)
    Review.objects.bulk_create(
        [Review(content_item_id=pk, status="approved", decided_by=user, decided_at=now) for pk in synthetic],
        batch_size=batch,
    )
    records = [
        GenerationRecord(
            generator=generator,
            generator_version="1",
            prompt_sha256="0" * 64,
            parameters_sha256="0" * 64,
            output_sha256=f"{n:064x}",
            output_media_type="image/jpeg",
            generated_at=now,
            client=client,
            external_id=f"bench-{n}",
            submission_sha256="0" * 64,
        )
        for n in range(1, items, 10)
    ]
    GenerationRecord.objects.bulk_create(records, batch_size=batch)
    with transaction.atomic():
        entries = log_append_many(
            entries=[
                ("generation_record", {"output_sha256": r.output_sha256, "external_id": r.external_id})
                for r in records
            ]
        )
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE provenance_generationrecord SET log_index = %s + (id - %s)",
            [entries[0].index, GenerationRecord.objects.order_by("id").values_list("id", flat=True).first()],
        )
    checkpoint = checkpoint_sign()
    return {"fill_s": time.perf_counter() - started, "log_size": checkpoint.size}


def phase_build(url: str, out: str) -> dict:
    _setup(url)
    from audits.packages.build import audit_package_build
    from provenance.models import ContentItem, LogEntry

    base = maxrss_mb()
    started = time.perf_counter()  # baseline: a plain streaming read of the rows the package holds
    for _ in ContentItem.objects.values_list().iterator(chunk_size=5000):
        pass
    for _ in LogEntry.objects.values_list("index", "data").iterator(chunk_size=5000):
        pass
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    result = audit_package_build(out=out)
    return {
        "build_s": time.perf_counter() - started,
        "baseline_s": baseline,
        "rss_mb": maxrss_mb(),
        "rss_base_mb": base,
        "zip_mb": result.size / 1e6,
        "entries": result.entry_count,
        "items": result.item_count,
    }


def _child(*args: str) -> dict:
    return run_child(__file__, *args)


def measure(items: int, key: str, folder: Path) -> dict:
    name = f"provenant_bench_package_{uuid.uuid4().hex[:8]}"
    admin_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    try:
        url = db_url(name)
        result = _child("fill", url, str(items), key)
        out = folder / f"package-{items}.zip"
        result.update(_child("build", url, str(out)))
        with __import__("zipfile").ZipFile(out) as archive:
            archive.extract("verify.py", folder)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(folder / "verify.py"), str(out)], capture_output=True, text=True
        )
        result["verify_s"] = time.perf_counter() - started
        result["verified"] = done.returncode == 0
        if done.returncode:
            sys.stderr.write(done.stdout[-3000:])
        return result
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS `{name}`")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="registry sizes, comma-separated")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        phase, *rest = args.child
        if phase == "fill":
            print(json.dumps(phase_fill(rest[0], int(rest[1]), rest[2])))
        else:
            print(json.dumps(phase_build(rest[0], rest[1])))
        return

    from provenance.standards.notes import generate_signer

    _, key = generate_signer("bench.provenant.invalid/log")
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="provenant-bench-package-") as tmp:
        for items in sizes:
            results[items] = r = measure(items, key, Path(tmp))
            print(
                f"{items:>7,} items: log {r['log_size']:,} entries, {r['entries']:,} in the package; "
                f"build {r['build_s']:6.1f} s ({r['build_s'] / r['baseline_s']:.1f}x a plain read of the rows), peak RSS {r['rss_mb']:6.0f} MB (before build "
                f"{r['rss_base_mb']:.0f} MB), ZIP {r['zip_mb']:6.1f} MB; verify.py {r['verify_s']:5.1f} s "
                f"({'PASS' if r['verified'] else 'FAIL'}); fill {r['fill_s']:.1f} s",
                flush=True,
            )
    if len(sizes) >= 2:
        small, large = results[sizes[0]], results[sizes[-1]]
        growth = large["build_s"] / small["build_s"]
        print(
            f"growth {sizes[-1] // sizes[0]}x items: build time x{growth:.1f}, peak RSS "
            f"x{large['rss_mb'] / small['rss_mb']:.1f} (linear time: x{sizes[-1] / sizes[0]:.0f})"
        )
        largest = results[max(sizes)]
        ok = (
            largest["build_s"] < 60
            and largest["rss_mb"] < 500
            and all(r["verified"] for r in results.values())
        )
        print(f"targets at {max(sizes):,} items (< 60 s, < 500 MB, verifies): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
