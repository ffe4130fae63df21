"""Benchmark the consent API: lookups at 32 concurrent clients, and events recorded per second.

    python bench/consent.py [--subjects 5000] [--events 1000] [--seconds 10] [--clients 32]

Starts the app under gunicorn as production runs it (3 threaded workers, keep-alive) over a fresh
MariaDB database (``PROVENANT_BENCH_MARIADB_URL``, default ``mysql://root@127.0.0.1:3306/test``)
with the shared cache on Redis (``PROVENANT_BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/13``),
then, on loopback:

  (e1) ``POST /api/v1/consent/events``: N events from one client, one per request (keep-alive);
  (e2) ``POST /api/v1/consent/events/batch``: the consent of every subject, 1,000 events a request;
  (a)  baseline: a trivial authenticated GET (one generation record) from C concurrent clients;
  (b)  ``GET /api/v1/consent/<subject>`` of random subjects from C concurrent clients (the cache
       fills as it goes; a write drops a subject's entry, so this is the steady state).

Clients are processes of threads, each thread one keep-alive connection sending back to back.
Target: (b) p99 < 10 ms. The machine is shared and the clients run on it too: read (b) against
(a), measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _mariadb import SERVER, scratch_database  # noqa: E402
from ingest import Client, _env, _python, _record, _start_server  # noqa: E402

REDIS = os.environ.get("PROVENANT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
TARGET_P99_MS = 10.0
BATCH = 1000
PROCESSES = 4

SETUP = """
import json, django
django.setup()
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
call_command("migrate", run_syncdb=True, verbosity=0)
cache.clear()
from provenance.auth import api_client_create
from provenance.models import Generator
Generator.objects.create(name="bench-writer", version="1.0")
scopes = ["consent:write", "consent:read", "records:write", "records:read"]
print(json.dumps(api_client_create(name="bench", scopes=scopes, actor="bench").token))
"""


def _event(subject: int, n: int) -> dict:
    return {
        "subject": f"cmp-{subject:08d}",
        "purpose": "personalisation",
        "state": "granted" if n % 3 else "withdrawn",
        "policy_version": "2026-01",
        "source": "cookie-banner",
        "occurred_at": f"2026-03-01T10:{n // 60 % 60:02d}:{n % 60:02d}Z",
    }


def _client_process(port: int, token: str, paths: list[str], threads: int, seconds: float, out) -> None:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run(seed: int) -> None:
        rng = random.Random(seed)
        client = Client(port, token)
        mine = []
        bad = 0
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status = client.request("GET", rng.choice(paths))
                mine.append(time.perf_counter() - started)
                bad += status != 200
        finally:
            client.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    workers = [threading.Thread(target=run, args=(os.getpid() * 100 + i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, errors[0]))


def _concurrent(port: int, token: str, paths: list[str], clients: int, seconds: float) -> dict:
    queue = multiprocessing.Queue()
    per = [clients // PROCESSES + (1 if i < clients % PROCESSES else 0) for i in range(PROCESSES)]
    procs = [
        multiprocessing.Process(target=_client_process, args=(port, token, paths, n, seconds, queue))
        for n in per
        if n
    ]
    for p in procs:
        p.start()
    latencies: list[float] = []
    errors = 0
    for _ in procs:
        got, bad = queue.get()
        latencies.extend(got)
        errors += bad
    for p in procs:
        p.join()
    latencies.sort()

    def pct(q: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return {"rps": len(latencies) / seconds, "p50": pct(0.50), "p99": pct(0.99), "errors": errors}


def bench(url: str, args) -> dict:
    env = {
        **_env(url),
        "REDIS_URL": REDIS,
        "PROVENANT_CONSENT_SUBJECT_KEY": "bench-consent-subject-key-" + "k" * 32,
    }
    token = json.loads(_python(SETUP, env))
    server, port = _start_server_production(env)
    client = Client(port, token)
    try:
        post = "/api/v1/consent/events"
        started = time.perf_counter()
        for n in range(args.events):
            status = client.request("POST", post, _event(n % args.subjects, n))
            if status not in (200, 201):
                raise SystemExit(f"event {n}: {status} {client.last_body[:300]!r}")
        single = args.events / (time.perf_counter() - started)

        started = time.perf_counter()
        for first in range(0, args.subjects, BATCH):
            batch = [_event(s, 3600 + s) for s in range(first, min(first + BATCH, args.subjects))]
            if client.request("POST", post + "/batch", {"events": batch}) != 200:
                raise SystemExit(f"batch at {first}: {client.last_body[:300]!r}")
        batched = args.subjects / (time.perf_counter() - started)

        if client.request("POST", "/api/v1/provenance/records", _record(0, "consent-bench")) != 201:
            raise SystemExit(f"record: {client.last_body[:300]!r}")
        baseline_path = f"/api/v1/provenance/records/{json.loads(client.last_body)['id']}"
        lookups = [f"/api/v1/consent/cmp-{s:08d}" for s in range(args.subjects)]
        _concurrent(port, token, [baseline_path, *lookups[:200]], args.clients, 2)  # warm-up
        baseline = _concurrent(port, token, [baseline_path], args.clients, args.seconds)
        lookup = _concurrent(port, token, lookups, args.clients, args.seconds)
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)
    return {"single": single, "batched": batched, "baseline": baseline, "lookup": lookup}


def _start_server_production(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """gunicorn as docker-compose runs it: 3 workers of 4 threads, keep-alive."""
    return _start_server(env, workers=3, threads=4, keep_alive=75)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=5000, help="subjects with a recorded consent")
    parser.add_argument("--events", type=int, default=1000, help="events sent one per request")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each concurrent phase")
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive clients")
    args = parser.parse_args()
    try:
        url, drop = scratch_database()
    except Exception as exc:  # noqa: BLE001
        raise SystemExit(f"MariaDB at {SERVER} is not reachable ({exc})") from None
    try:
        r = bench(url, args)
    finally:
        drop()
    a, b = r["baseline"], r["lookup"]
    print(
        f"consent API on MariaDB + Redis, gunicorn 3x4 threads, {os.cpu_count()} CPUs shared with the clients"
    )
    print(f"(e1) events, one per request:   {r['single']:8.0f} events/s")
    print(f"(e2) events, {BATCH} per request: {r['batched']:8.0f} events/s")
    print(f"{'':4} {'phase':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for label, m in (("(a) baseline: authenticated GET", a), ("(b) GET /api/v1/consent/<subject>", b)):
        print(f"{'':4} {label:<34} {m['rps']:8.0f} {m['p50']:8.2f} {m['p99']:8.2f} {m['errors']:7d}")
    verdict = "ok" if b["p99"] < TARGET_P99_MS else "MISSED"
    print(
        f"(b)/(a): p99 {b['p99'] / a['p99']:.2f}x, throughput {b['rps'] / a['rps']:.2f}x; "
        f"target (b) p99 < {TARGET_P99_MS:.0f} ms at {args.clients} clients: {verdict}"
    )


if __name__ == "__main__":
    main()
