"""Benchmark the fanned-out sync: one Celery worker process against two.

    python bench/fanout.py [--products 5000] [--write-batch 200] [--no-media] [--keep]

Builds a demo store in MariaDB (``--products``, ~3 images each, with their files) and measures a
full sync into an empty MariaDB registry three ways, each from the same store:

  (a) baseline: the single-process sync (``manage.py magento_sync --full``, no broker);
  (b) the fan-out (``magento_sync --full --fan-out``) on ``celery worker -c 1`` over Redis;
  (c) the same on ``celery worker -c 2``.

The time is the run's own (``SyncRun.finished_at - started_at``: planning, every media and registry
batch, removals, cursors and the derivative walk), with the workers started and ready before the run
is dispatched. Printed: seconds, items per second and the ratios (b)/(c) (the goal: >= 1.6x faster
with two worker processes) and (a)/(b) (what the fan-out's bookkeeping costs on one). Ratios are
against numbers measured in the same run; the machine is shared, so read them, not the seconds.

Redis: ``PROVENANT_BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/14``; the database is flushed).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _mariadb import admin_sql, db_url  # noqa: E402

REDIS = os.environ.get("PROVENANT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def environment(registry_url: str, magento_url: str, media_root: str, *, broker: bool, options) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sidecar.settings",
        "PYTHONPATH": str(ROOT),
        "PROVENANT_DEBUG": "0",  # with debug on, Django keeps every query's text in memory
        "PROVENANT_SECRET_KEY": "benchmark-only-secret-key-" + "x" * 40,
        "PROVENANT_LOG_LEVEL": "WARNING",
        "DATABASE_URL": registry_url,
        "MAGENTO_DATABASE_URL": magento_url,
        "MAGENTO_MEDIA_ROOT": "" if options.no_media else media_root,
        "MAGENTO_WRITE_BATCH_SIZE": str(options.write_batch),
    }
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "MAGENTO_SYNC_FAN_OUT"):
        env.pop(name, None)
    if broker:
        env["CELERY_BROKER_URL"] = env["CELERY_RESULT_BACKEND"] = REDIS
    return env


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def fresh_registry(name: str) -> str:
    admin_sql(f"DROP DATABASE IF EXISTS `{name}`", f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return db_url(name)


def run_record(env: dict) -> dict:
    code = (
        "import json; from magento_bridge.models import SyncRun; r = SyncRun.objects.latest('id'); "
        "print(json.dumps({'status': r.status, 'seconds': r.duration_seconds, 'items': "
        "sum(r.total(k) for k in ('added', 'changed', 'unchanged')), 'batches': r.batches, "
        "'longest': (r.media or {}).get('longest_batch_seconds'), 'error': r.error}))"
    )
    import json

    return json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])


def start_worker(env: dict, concurrency: int) -> subprocess.Popen:
    """A ``celery worker`` (prefork) with ``concurrency`` processes, returned once it is ready."""
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "sidecar", "worker", "--pool", "prefork"]
        + ["--concurrency", str(concurrency), "--loglevel", "INFO", "--without-heartbeat"]
        + ["--without-mingle", "--without-gossip", "--hostname", f"bench-{uuid.uuid4().hex[:8]}@%h"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    ready = threading.Event()

    def drain() -> None:
        for line in process.stdout:
            if " ready." in line:
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(120):
        os.killpg(process.pid, signal.SIGTERM)
        raise SystemExit("the Celery worker did not become ready in 120 s")
    return process


def stop_worker(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=120)


def measure(label: str, env: dict, args: list[str], *, concurrency: int | None) -> dict:
    manage(env, "migrate", "--no-input", "-v", "0")
    worker = start_worker(env, concurrency) if concurrency else None
    try:
        manage(env, "magento_sync", "--full", "--no-progress", *args)
    finally:
        if worker is not None:
            stop_worker(worker)
    record = run_record(env)
    if record["status"] != "succeeded":
        raise SystemExit(f"{label}: the sync failed: {record['error']}")
    print(
        f"  {label:<34} {record['seconds']:8.1f} s  {record['items'] / record['seconds']:8.0f} items/s  "
        f"({record['batches']} batches, longest write {record['longest']} s)",
        flush=True,
    )
    return record


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--write-batch", type=int, default=200, help="MAGENTO_WRITE_BATCH_SIZE (default 200)")
    parser.add_argument("--no-media", action="store_true", help="do not read media files")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sidecar.settings")
    os.environ.setdefault("PROVENANT_DEBUG", "1")
    from magento_bridge.demo import build_demo_store

    magento_db = f"provenant_bench_fanout_magento_{options.products}"
    registries = [f"provenant_bench_fanout_{name}_{options.products}" for name in ("single", "c1", "c2")]
    with tempfile.TemporaryDirectory(prefix="provenant-bench-") as tmp:
        admin_sql(
            f"DROP DATABASE IF EXISTS `{magento_db}`", f"CREATE DATABASE `{magento_db}` CHARACTER SET utf8mb4"
        )
        magento_url = db_url(magento_db)
        media_root = str(Path(tmp) / "media")
        started = time.perf_counter()
        summary = build_demo_store(
            magento_url, products=options.products, media_root=Path(media_root), seed=11
        )
        print(
            f"== {options.products:,} products, {summary.gallery_entries:,} gallery entries "
            f"(built in {time.perf_counter() - started:.0f}s); media {'off' if options.no_media else 'on'}, "
            f"write batches of {options.write_batch} products, {os.cpu_count()} CPUs",
            flush=True,
        )
        try:
            single = measure(
                "(a) single process",
                environment(
                    fresh_registry(registries[0]), magento_url, media_root, broker=False, options=options
                ),
                [],
                concurrency=None,
            )
            one = measure(
                "(b) fan-out, celery -c 1",
                environment(
                    fresh_registry(registries[1]), magento_url, media_root, broker=True, options=options
                ),
                ["--fan-out"],
                concurrency=1,
            )
            two = measure(
                "(c) fan-out, celery -c 2",
                environment(
                    fresh_registry(registries[2]), magento_url, media_root, broker=True, options=options
                ),
                ["--fan-out"],
                concurrency=2,
            )
        finally:
            if not options.keep:
                admin_sql(*(f"DROP DATABASE IF EXISTS `{name}`" for name in [magento_db, *registries]))
    assert single["items"] == one["items"] == two["items"], (single, one, two)
    print(f"two worker processes vs one: {one['seconds'] / two['seconds']:.2f}x faster (goal >= 1.6x)")
    print(
        f"fan-out on one worker vs the single-process sync: {single['seconds'] / one['seconds']:.2f}x the speed"
    )


if __name__ == "__main__":
    main()
