"""Benchmark the ingest API: generation records per second from one client on loopback.

    python bench/ingest.py [--records 2000] [--batch-records 10000] [--database sqlite|mariadb|both]

Starts the app under gunicorn (one worker process, threaded, keep-alive) on 127.0.0.1 over a
throwaway database (a SQLite file in a temporary directory, and/or a fresh MariaDB database on
``PROVENANT_BENCH_MARIADB_URL``, default ``mysql://root@127.0.0.1:3306/test``), then sends from one
client, sequentially, over one keep-alive connection:

  (a) baseline: a trivial authenticated GET of one record (token check, one lookup, the latest
      checkpoint) - the cost of a request through the same stack;
  (b) ``POST /api/v1/provenance/records``: N distinct generation records, each validated, stored,
      appended to the transparency log and matched against the registry;
  (c) a replay of the same N records (idempotent answers);
  (d) ``POST /api/v1/provenance/records/batch``: M further records, 1,000 per request;

and measures the database's own limit in the same run: (e) single-row INSERT + COMMIT
transactions per second, sequential, on a scratch table of the same database.

Targets: (b) at least 300 records/s, (d) at least 5,000 records/s. Ratios are against (a) and (e)
measured in the same run; the machine is shared, so read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _mariadb import SERVER, scratch_database  # noqa: E402

TARGET = 300.0
BATCH_TARGET = 5000.0
BATCH_SIZE = 1000
WARM_UP = 50
COMMITS = 1000

SETUP = """
import json, django
django.setup()
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
# The schema straight from the models, so the benchmark runs on any checkout.
settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
call_command("migrate", run_syncdb=True, verbosity=0)
from provenance.auth import api_client_create
from provenance.models import Generator
Generator.objects.create(name="bench-writer", version="1.0")
print(json.dumps(api_client_create(name="bench", scopes=["records:write"], actor="bench").token))
"""

COUNT = """
import django
django.setup()
from provenance.log import log_size
from provenance.models import GenerationRecord
print(GenerationRecord.objects.count(), log_size())
"""


COMMIT_RATE = f"""
import json, time, django
django.setup()
from django.db import connection
with connection.cursor() as cur:
    cur.execute("CREATE TABLE bench_commit (id INTEGER PRIMARY KEY, value VARCHAR(64))")
connection.set_autocommit(True)
started = time.perf_counter()
for n in range({COMMITS}):
    with connection.cursor() as cur:
        cur.execute("INSERT INTO bench_commit (id, value) VALUES (%s, %s)", [n, "x" * 64])
elapsed = time.perf_counter() - started
with connection.cursor() as cur:
    cur.execute("DROP TABLE bench_commit")
print(json.dumps({COMMITS} / elapsed))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sidecar.settings",
        "DATABASE_URL": database_url,
        "PROVENANT_SECRET_KEY": "bench-only-" + "x" * 40,
        "PROVENANT_SSL_REDIRECT": "0",
        "PROVENANT_ALLOWED_HOSTS": "127.0.0.1",
        "PROVENANT_LOG_LEVEL": "ERROR",
        "DATABASE_CONN_MAX_AGE": "600",
    }


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return done.stdout.strip().splitlines()[-1]


def _start_server(
    env: dict[str, str], *, workers: int = 1, threads: int = 2, keep_alive: int = 60
) -> tuple[subprocess.Popen, int]:
    """gunicorn (threaded, keep-alive) on a free loopback port, once it accepts connections."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "sidecar.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads)]
        + ["--keep-alive", str(keep_alive), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, port
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.1)


class Client:
    """One keep-alive connection, as a pipeline would hold it."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: dict | None = None) -> int:
        self.conn.request(method, path, body=json.dumps(body) if body else None, headers=self.headers)
        response = self.conn.getresponse()
        self.last_body = response.read()
        return response.status

    def close(self) -> None:
        self.conn.close()


def _record(n: int, run: str) -> dict:
    return {
        "generator": "bench-writer",
        "generator_version": "1.0",
        "prompt_text": f"Describe product {n} for the catalogue.",
        "inputs": [hashlib.sha256(f"input-{run}-{n}".encode()).hexdigest()],
        "parameters": {"seed": n, "temperature": 0.7, "max_tokens": 400},
        "output_sha256": hashlib.sha256(f"output-{run}-{n}".encode()).hexdigest(),
        "output_media_type": "image/png",
        "generated_at": "2026-01-31T09:30:00Z",
        "pipeline_run_id": run,
        "external_id": f"{run}-{n}",
    }


def _timed(label: str, count: int, send, expected: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        status = send(n)
        if status != expected:
            raise SystemExit(f"{label}: request {n} answered {status}, expected {expected}")
    return count / (time.perf_counter() - started)


def bench(database: str, database_url: str, records: int, batch_records: int) -> dict[str, float]:
    env = _env(database_url)
    token = json.loads(_python(SETUP, env))
    commits = json.loads(_python(COMMIT_RATE, env))
    server, port = _start_server(env)
    client = Client(port, token)
    try:
        run = uuid.uuid4().hex[:8]
        post = "/api/v1/provenance/records"
        _timed("warm-up", WARM_UP, lambda n: client.request("POST", post, _record(n, "w")), 201)
        one = f"{post}/{json.loads(client.last_body)['id']}"
        _timed("warm-up", WARM_UP, lambda n: client.request("GET", one), 200)

        baseline = _timed("baseline", records, lambda n: client.request("GET", one), 200)
        ingest = _timed("ingest", records, lambda n: client.request("POST", post, _record(n, run)), 201)
        replay = _timed("replay", records, lambda n: client.request("POST", post, _record(n, run)), 200)

        def send_batch(n: int) -> int:
            first = n * BATCH_SIZE
            batch = [_record(i, run + "b") for i in range(first, min(first + BATCH_SIZE, batch_records))]
            status = client.request("POST", post + "/batch", {"records": batch})
            if status == 200 and json.loads(client.last_body)["created"] != len(batch):
                raise SystemExit(f"batch {n}: {client.last_body[:300]!r}")
            return status

        batches = -(-batch_records // BATCH_SIZE)
        started = time.perf_counter()
        _timed("batch", batches, send_batch, 200)
        batch = batch_records / (time.perf_counter() - started)
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)
    stored, logged = (int(v) for v in _python(COUNT, env).split())
    expected = WARM_UP + records + batch_records
    if stored != expected or logged != stored:
        raise SystemExit(f"{database}: {stored} records stored and {logged} log entries, expected {expected}")
    return {"baseline": baseline, "ingest": ingest, "replay": replay, "batch": batch, "commits": commits}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=2000, help="records sent one per request")
    parser.add_argument("--batch-records", type=int, default=10000, help="records sent 1,000 per request")
    parser.add_argument("--database", choices=("sqlite", "mariadb", "both"), default="both")
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="provenant-bench-") as tmp:
            results["sqlite"] = bench(
                "sqlite", f"sqlite:///{tmp}/provenant.sqlite3", args.records, args.batch_records
            )
    if args.database in ("mariadb", "both"):
        try:
            url, drop = scratch_database()
        except Exception as exc:  # noqa: BLE001 - report and carry on with what can run
            print(f"MariaDB at {SERVER} is not reachable ({exc}); skipped")
        else:
            try:
                results["mariadb"] = bench("mariadb", url, args.records, args.batch_records)
            finally:
                drop()

    print(
        f"ingest API, one client, keep-alive, {args.records} requests per phase (after {WARM_UP} warm-up), "
        f"{args.batch_records} records in batches of {BATCH_SIZE}; (e) = {COMMITS} single-row commits"
    )
    print(
        f"{'database':<9} {'(a) GET/s':>10} {'(b) rec/s':>10} {'(b)/(a)':>8} {'(c) replay/s':>13} "
        f"{'(d) batch rec/s':>16} {'(e) commits/s':>14} {'(b)/(e)':>8} {'(d)/(e)':>8}  targets"
    )
    for database, r in results.items():
        single = "ok" if r["ingest"] >= TARGET else "MISSED"
        batched = "ok" if r["batch"] >= BATCH_TARGET else "MISSED"
        print(
            f"{database:<9} {r['baseline']:>10.0f} {r['ingest']:>10.0f} {r['ingest'] / r['baseline']:>8.2f} "
            f"{r['replay']:>13.0f} {r['batch']:>16.0f} {r['commits']:>14.0f} "
            f"{r['ingest'] / r['commits']:>8.2f} {r['batch'] / r['commits']:>8.2f}  "
            f"(b) >= {TARGET:.0f}: {single}; (d) >= {BATCH_TARGET:.0f}: {batched}"
        )


if __name__ == "__main__":
    main()
