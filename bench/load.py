"""Storefront load while a full sync runs: the badge API (gunicorn, as in production) and the
published manifests (a static file server) from client threads, first idle, then during a full sync
of the demo store; errors, p50/p99 and throughput during the sync as a ratio of idle.

    python bench/load.py [--products N] [--seconds S] [--threads T] [--sync-nice N[,N...]]

A phase per ``--sync-nice`` value runs a full sync at that CPU priority (``nice``): 0 is the sync
competing with the web workers as equals, 10 is how the compose file's worker runs it
(``cpu_shares``, the same lever for containers). Each phase prints its throughput as a ratio of
idle and how long the sync took, so the cost of the priority to the sync is printed too.

The Magento store is a throwaway database on the benchmark MariaDB (bench/_mariadb.py), the registry
a SQLite file; nothing is killed. The target (issue 19) is 0 errors and throughput within 20% of idle.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mariadb import ROOT, scratch_database  # noqa: E402

PYTHON = sys.executable


def manage(env: dict, *args: str) -> None:
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def hammer(
    urls: list[str], seconds: float, threads: int, while_running: subprocess.Popen | None = None
) -> dict:
    """GET the URLs round-robin from ``threads`` clients for ``seconds`` (or until ``while_running``
    ends, so a phase measures only time with the sync running): count, errors, latencies."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    began = time.monotonic()
    stop = began + seconds

    def client(n: int) -> None:
        mine: list[float] = []
        with httpx.Client(timeout=10) as http:
            i = n
            while time.monotonic() < stop and (while_running is None or while_running.poll() is None):
                i += 1
                started = time.perf_counter()
                try:
                    status = http.get(urls[i % len(urls)]).status_code
                    failed = None if status == 200 else str(status)
                except httpx.HTTPError as exc:
                    failed = type(exc).__name__
                mine.append(time.perf_counter() - started)
                if failed:
                    with lock:
                        errors[failed] = errors.get(failed, 0) + 1
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    latencies.sort()
    elapsed = time.monotonic() - began
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Storefront load during a full sync (see the module docstring)."
    )
    parser.add_argument("--products", type=int, default=5000, help="demo store products (default 5000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per phase (default 20)")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--port", type=int, default=8418, help="gunicorn port (default 8418)")
    parser.add_argument("--static-port", type=int, default=8419, help="manifest server port (default 8419)")
    parser.add_argument(
        "--sync-nice",
        default="0,10",
        help="comma-separated CPU priorities (nice values) of the sync, one phase each (default 0,10)",
    )
    options = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="provenant-load-"))
    magento_url, drop = scratch_database()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PROVENANT_SECRET_KEY": "bench-only-" + "k" * 50,
        "PROVENANT_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PROVENANT_SSL_REDIRECT": "0",
        "PROVENANT_VAR_DIR": str(base),
        "DATABASE_URL": f"sqlite:///{base / 'registry.sqlite3'}",
        "MAGENTO_DATABASE_URL": magento_url,
        "MAGENTO_MEDIA_ROOT": str(base / "media"),
        "PROVENANT_DISCLOSURE_PUBLISH_DIR": str(base / "manifests"),
        "PROVENANT_LOG_LEVEL": "WARNING",
        "PROVENANT_RATE_LIMIT_BADGES": "0",
    }
    processes: list[subprocess.Popen] = []
    try:
        manage(
            {**env, "PROVENANT_DEBUG": "1"},
            "magento_demo_store",
            "--products",
            str(options.products),
            "--seed",
            "7",
        )
        manage(env, "migrate", "--no-input")
        manage(env, "disclosure_defaults")
        manage(env, "magento_sync", "--full", "--no-progress")
        with sqlite3.connect(base / "registry.sqlite3") as db:
            skus = [
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT sku FROM provenance_contentitem WHERE sku != '' LIMIT 200"
                )
            ]
        processes.append(
            subprocess.Popen(
                [
                    str(Path(PYTHON).parent / "gunicorn"),
                    "-w",
                    "2",
                    "-b",
                    f"127.0.0.1:{options.port}",
                    "sidecar.wsgi",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        processes.append(
            subprocess.Popen(
                [PYTHON, "-m", "http.server", str(options.static_port), "--bind", "127.0.0.1"],
                cwd=base / "manifests",
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        api = f"http://127.0.0.1:{options.port}/api/v1/disclosures/default"
        for _ in range(100):
            try:
                httpx.get(api, timeout=1)
                httpx.get(f"http://127.0.0.1:{options.static_port}/default/current.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        pointer = httpx.get(f"http://127.0.0.1:{options.static_port}/default/current.json").json()
        print("manifest pointer:", json.dumps(pointer)[:200])
        urls = [f"{api}?products={','.join(skus[i : i + 12])}" for i in range(0, len(skus), 12)]
        urls.append(f"http://127.0.0.1:{options.static_port}/default/current.json")

        idle = hammer(urls, options.seconds, options.threads)
        phases = []
        for nice in (int(value) for value in options.sync_nice.split(",")):
            started = time.monotonic()
            sync = subprocess.Popen(
                ["nice", "-n", str(nice), PYTHON, "manage.py", "magento_sync", "--full", "--no-progress"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            busy = hammer(urls, options.seconds, options.threads, while_running=sync)
            running = sync.poll() is None
            sync.wait()
            phases.append((nice, busy, running, time.monotonic() - started))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait()
        drop()

    print(f"{options.products} products, {options.threads} threads, {options.seconds:.0f} s per phase")
    print(
        f"{'phase':<22} {'requests':>9} {'req/s':>8} {'/idle':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'sync s':>7}  errors"
    )
    rows = [("idle", idle, None, None)] + [
        (f"sync at nice {nice}{'' if running else ' (ended)'}", busy, busy["rps"], took)
        for nice, busy, running, took in phases
    ]
    for name, result, rps, took in rows:
        ratio = f"{rps / idle['rps']:.2f}" if rps is not None and idle["rps"] else "1.00"
        print(
            f"{name:<22} {result['requests']:>9} {result['rps']:>8.1f} {ratio:>6} {result['p50_ms']:>8.1f} "
            f"{result['p99_ms']:>8.1f} {took or 0:>7.0f}  {result['errors'] or 0}"
        )
    print("target: throughput during a sync >= 0.80 of idle, 0 errors; '(ended)': the sync finished first")


if __name__ == "__main__":
    main()
