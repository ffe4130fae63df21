"""Fault matrix with real processes: each fault is injected into a run, the run is repeated as an
operator would, and the result must equal a clean run: `provenance_verify` passes and the registry
holds the same content items (none lost, none duplicated).

    python bench/faults.py [--products N] [--port P]

Starts its own MariaDB (own datadir and port; the shared server is never touched) holding the demo
Magento store, and runs the sidecar as `manage.py` subprocesses against per-run SQLite registries.
Faults covered:

- Magento's MariaDB SIGKILLed mid-sync (the sync fails; after a restart the next sync completes);
- the sync process SIGKILLed mid-run (the next sync takes the dead process's lock over);
- `provenance_checkpoint` SIGKILLed at a fixed delay after it starts (whether that lands inside the
  signing depends on the machine; the next checkpoint and verification must succeed either way).

- Redis (cache, rate limits) SIGKILLed while the badge API is under load, restarted 3 s later: every
  badge request must still be answered 200 (`runserver` with its own Redis on its own port);
- a real `celery -A sidecar worker` (prefork, one child; broker and results on a second private
  Redis): the child running the sync task SIGKILLed mid-sync; the task must run again and complete;
- the same worker killed as a whole (SIGKILL to its process group, so nothing rejects the message):
  a new worker gets the task back from Redis after `PROVENANT_CELERY_VISIBILITY_TIMEOUT` (30 s here)
  and completes it;
- Redis (the broker, with its append-only file as docker-compose.yml runs it) SIGKILLed and
  restarted while a sync and a checkpoint are queued and no worker runs: a worker started afterwards
  runs both; a task queued while Redis is down fails at the caller;
- `audit_package` SIGKILLed mid-build: no package ready, no ZIP at `--out`; the next build marks the
  dead one failed, removes its staging folder, and its package passes its own verify.py;
- disk full while publishing manifests (`disclosure_publish` into a 16 MiB tmpfs, filled after a
  content change; needs root to mount): a clear error, the previous version stays current, intact and
  served (`python -m http.server`); publishing works once space is free;
- the registry database (its own database in the private MariaDB, gunicorn in front) SIGKILLed and
  restarted while four clients post records, singly and in batches of 25, retrying on 5xx and
  connection errors: every acknowledged record stored exactly once. Run last: it kills the MariaDB
  that also holds the demo store.

`--only` picks a subset (`--only worker,package`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAULTS = (
    "magento",
    "sync",
    "checkpoint",
    "badge",
    "worker",
    "wholeworker",
    "queued",
    "package",
    "disk",
    "registry",
)
PYTHON = sys.executable


@dataclass
class Outcome:
    fault: str
    outcome: str
    lost: int
    duplicated: int
    verified: bool


class MariaDB:
    """A private mariadbd on its own datadir and port, started and killed by this script."""

    def __init__(self, base: Path, port: int) -> None:
        self.datadir = base / "mariadb"
        self.socket = base / "mariadb.sock"
        self.port = port
        self.process: subprocess.Popen | None = None

    def install(self) -> None:
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--user=root",
                "--auth-root-authentication-method=normal",
            ],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--port={self.port}",
                f"--socket={self.socket}",
                "--bind-address=127.0.0.1",
                "--skip-networking=0",
                "--user=root",
                "--innodb-buffer-pool-size=64M",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(60):
            ping = subprocess.run(
                ["mariadb", "-uroot", "-h127.0.0.1", f"-P{self.port}", "-e", "SELECT 1"], capture_output=True
            )
            if ping.returncode == 0:
                return
            time.sleep(0.5)
        raise SystemExit("the private MariaDB did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def sql(self, statement: str) -> None:
        subprocess.run(["mariadb", "-uroot", "-h127.0.0.1", f"-P{self.port}", "-e", statement], check=True)

    def url(self, name: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{name}"


class Sidecar:
    """`manage.py` subprocesses against one registry (a SQLite file) and the Magento store."""

    def __init__(self, base: Path, name: str, magento_url: str, key_file: Path) -> None:
        self.registry = base / f"{name}.sqlite3"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "PROVENANT_DEBUG": "1",
            "PROVENANT_VAR_DIR": str(base / name),
            "DATABASE_URL": f"sqlite:///{self.registry}",
            "MAGENTO_DATABASE_URL": magento_url,
            "MAGENTO_MEDIA_ROOT": str(base / "media"),
            "MAGENTO_RETRIES": "1",
            "MAGENTO_RETRY_BACKOFF": "0.2",
            "MAGENTO_CONNECT_TIMEOUT": "2",
            "PROVENANT_LOG_ORIGIN": "faults.test/log",
            "PROVENANT_LOG_KEY_FILE": str(key_file),
            "PROVENANT_LOG_LEVEL": "WARNING",
        }

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=900
        )

    def items(self) -> list[tuple]:
        with sqlite3.connect(self.registry) as db:
            return db.execute(
                "SELECT store_code, surface, magento_id, part_key, content_sha256 FROM provenance_contentitem "
                "WHERE removed_at IS NULL"
            ).fetchall()

    def verified(self) -> bool:
        return self.run("provenance_verify").returncode == 0


def compare(clean: list[tuple], faulted: list[tuple]) -> tuple[int, int]:
    """Rows of the clean run missing after the fault, and rows present more often than in it."""
    from collections import Counter

    want, got = Counter(clean), Counter(faulted)
    lost = sum((want - got).values())
    duplicated = sum((got - want).values())
    return lost, duplicated


def kill_mid_sync(process: subprocess.Popen, sidecar: Sidecar, delay: float, target) -> bool:
    """Call ``target`` (the kill) ``delay`` seconds after the sync run is recorded as running; False
    when the process ended first (the fault then hit nothing)."""
    while True:
        if process.poll() is not None:
            return False
        try:
            with sqlite3.connect(sidecar.registry, timeout=1) as db:
                running = db.execute("SELECT COUNT(*) FROM magento_bridge_syncrun WHERE status = 'running'")
                if running.fetchone()[0]:
                    break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    time.sleep(delay)
    if process.poll() is not None:
        return False
    target()
    return True


def kill_after(process: subprocess.Popen, delay: float, target) -> bool:
    """Call ``target`` ``delay`` seconds after ``process`` started, if it still runs."""
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        time.sleep(0.02)
    target()
    return True


def redis_under_badge_load(base: Path, clean: Sidecar, redis_port: int, web_port: int) -> Outcome:
    """Badge requests from 8 threads for 9 s; Redis is SIGKILLed at 3 s and back at 6 s."""
    import threading

    import httpx

    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    env = {**clean.env, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    subprocess.run(
        [PYTHON, "manage.py", "disclosure_defaults"], cwd=ROOT, env=env, capture_output=True, check=True
    )
    with sqlite3.connect(clean.registry) as db:
        skus = [
            r[0]
            for r in db.execute("SELECT DISTINCT sku FROM provenance_contentitem WHERE sku != '' LIMIT 40")
        ]
    web = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{web_port}/api/v1/disclosures/default"
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    try:
        for _ in range(100):
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        stop = time.monotonic() + 9

        def load(n: int) -> None:
            with httpx.Client(timeout=5) as client:
                i = n
                while time.monotonic() < stop:
                    i += 1
                    try:
                        status = str(client.get(url, params={"products": skus[i % len(skus)]}).status_code)
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1

        threads = [threading.Thread(target=load, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        time.sleep(3)
        redis.send_signal(signal.SIGKILL)
        redis.wait()
        time.sleep(3)
        redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        for t in threads:
            t.join()
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait()
        redis.send_signal(signal.SIGKILL)
        redis.wait()
    total = sum(statuses.values())
    errors = sum(n for status, n in statuses.items() if status not in ("200", "304"))
    shown = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    lost, dup = compare(clean.items(), clean.items())
    return Outcome(
        "Redis SIGKILL under badge load",
        f"{total} requests, {errors} not answered 200 ({shown})",
        lost,
        dup,
        clean.verified() and errors == 0,
    )


class Redis:
    """A private redis-server on its own port; with ``appendonly`` (the compose file's setting) queued
    tasks survive a restart."""

    def __init__(self, base: Path, port: int, *, appendonly: bool = True) -> None:
        self.dir = base / f"redis-{port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.appendonly = appendonly
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
            + ["--save", "", "--appendonly", "yes" if self.appendonly else "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if self.cli("PING") == "PONG":
                return
            time.sleep(0.1)
        raise SystemExit("the private Redis did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def cli(self, *args: str) -> str:
        done = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True)
        return done.stdout.strip()

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def _http_errors() -> tuple[type[Exception], ...]:
    import httpx

    return (httpx.HTTPError,)


class Results(list):
    """The outcomes, each printed as soon as it is known (a later crash loses none)."""

    def append(self, outcome: Outcome) -> None:
        super().append(outcome)
        print(
            f"done: {outcome.fault}: {'pass' if outcome.verified else 'FAIL'}, {outcome.outcome}", flush=True
        )


def wait_for(condition, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except (sqlite3.Error, OSError) + _http_errors():  # a table or a server not there yet
            pass
        time.sleep(step)
    return False


def sqlite_value(registry: Path, query: str, *params):
    with sqlite3.connect(registry, timeout=5) as db:
        row = db.execute(query, params).fetchone()
    return row[0] if row else None


SETUP_INGEST = """
from provenance.auth import api_client_create
from provenance.models import Generator
Generator.objects.get_or_create(name="leaflet-writer", defaults={"provider": "Example", "version": "3.1"})
print(api_client_create(name="faults-pipeline", scopes=["records:write"], actor="faults").token)
"""


def ingest_record(external_id: str) -> dict:
    import hashlib

    return {
        "generator": "leaflet-writer",
        "generator_version": "3.1",
        "prompt_sha256": hashlib.sha256(b"prompt").hexdigest(),
        "output_sha256": hashlib.sha256(external_id.encode()).hexdigest(),
        "output_media_type": "image/png",
        "generated_at": "2026-01-31T09:30:00Z",
        "external_id": external_id,
    }


def registry_restart_mid_append(
    base: Path, db: MariaDB, key_file: Path, web_port: int, seconds: float = 12.0
) -> Outcome:
    """Four clients post records (singles and batches of 25) to gunicorn on a registry in the private
    MariaDB, which is SIGKILLed 3 s in and restarted; a client retries a request on a 5xx or a
    connection error until it gets a 2xx. Every record acknowledged must be stored exactly once."""
    import threading
    from collections import Counter

    import httpx

    db.sql("CREATE DATABASE registry CHARACTER SET utf8mb4")
    run = Sidecar(base, "registry_restart", db.url("magento"), key_file)
    run.env["DATABASE_URL"] = db.url("registry")
    run.env["DATABASE_CONN_MAX_AGE"] = "600"
    migrated = run.run("migrate", "--no-input")
    if migrated.returncode:
        raise SystemExit(migrated.stdout + migrated.stderr)
    token = run.run("shell", "-c", SETUP_INGEST).stdout.strip().splitlines()[-1]
    web = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "sidecar.wsgi:application", "--bind", f"127.0.0.1:{web_port}"]
        + ["--workers", "2", "--worker-class", "gthread", "--threads", "4", "--log-level", "critical"],
        cwd=ROOT,
        env=run.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{web_port}/api/v1/provenance/records"
    headers = {"Authorization": f"Bearer {token}"}
    acked: list[str] = []
    attempted: list[str] = []
    answers: Counter = Counter()
    lock = threading.Lock()
    stop = 0.0

    def post(client: httpx.Client, url: str, payload: dict) -> httpx.Response:
        deadline = time.monotonic() + 120
        while True:
            try:
                response = client.post(url, json=payload, headers=headers)
                with lock:
                    answers[str(response.status_code)] += 1
                if response.status_code < 500:
                    return response
            except httpx.HTTPError as exc:
                with lock:
                    answers[type(exc).__name__] += 1
            if time.monotonic() > deadline:
                raise SystemExit("the registry did not come back within 120 s")
            time.sleep(0.2)

    def load(n: int) -> None:
        with httpx.Client(timeout=10) as client:
            i = 0
            while time.monotonic() < stop:
                i += 1
                if i % 2:
                    ids = [f"c{n}-{i}"]
                    with lock:
                        attempted.extend(ids)
                    response = post(client, api, ingest_record(ids[0]))
                    ok = [ids[0]] if response.status_code in (200, 201) else []
                else:
                    ids = [f"c{n}-{i}-{k}" for k in range(25)]
                    with lock:
                        attempted.extend(ids)
                    response = post(client, api + "/batch", {"records": [ingest_record(x) for x in ids]})
                    results = response.json().get("results", []) if response.status_code == 200 else []
                    ok = [r["external_id"] for r in results if r["status"] in ("created", "replayed")]
                with lock:
                    acked.extend(ok)

    try:
        for _ in range(150):
            try:
                httpx.get(f"http://127.0.0.1:{web_port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        stop = time.monotonic() + seconds
        threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(3)
        db.kill()
        time.sleep(2)
        db.start()
        for t in threads:
            t.join()
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait()
    stored_rows = subprocess.run(
        ["mariadb", "-uroot", "-h127.0.0.1", f"-P{db.port}", "-N", "-B", "registry", "-e"]
        + ["SELECT external_id FROM provenance_generationrecord"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    stored = Counter(stored_rows)
    lost = sum(1 for x in set(acked) if stored[x] == 0)
    dup = sum(n - 1 for n in stored.values() if n > 1)
    unacked = len(set(attempted) - set(acked))
    shown = ", ".join(f"{status}: {n}" for status, n in sorted(answers.items()))
    outcome = (
        f"{len(attempted)} records posted, {len(set(acked))} acknowledged, {len(stored_rows)} stored, "
        f"{unacked} never acknowledged; answers {shown}"
    )
    run.run("provenance_checkpoint")
    return Outcome("registry MariaDB SIGKILL mid-append", outcome, lost, dup, run.verified() and not unacked)


def celery_env(run: Sidecar, redis: Redis) -> None:
    run.env["REDIS_URL"] = redis.url(0)
    run.env["CELERY_BROKER_URL"] = redis.url(1)
    run.env["CELERY_RESULT_BACKEND"] = redis.url(2)


def celery_worker(run: Sidecar) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "sidecar", "worker", "--pool", "prefork", "--concurrency", "1"]
        + ["--loglevel", "WARNING", "--hostname", f"faults-{time.monotonic_ns()}@%h", "--without-mingle"]
        + ["--without-gossip"],
        cwd=ROOT,
        env=run.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def enqueue(run: Sidecar, call: str) -> subprocess.CompletedProcess:
    return run.run("shell", "-c", f"print({call}.id)")


def succeeded_syncs(run: Sidecar) -> int:
    return sqlite_value(
        run.registry, "SELECT COUNT(*) FROM magento_bridge_syncrun WHERE status = 'succeeded'"
    )


def celery_worker_killed_mid_task(
    base: Path, magento_url: str, key_file: Path, redis: Redis, baseline: list[tuple], delay: float
) -> Outcome:
    """The sync task on a real worker (prefork, one child); the child running it is SIGKILLed
    mid-sync (what an OOM kill does). With ``acks_late`` and ``task_reject_on_worker_lost`` the
    message goes back to the queue and the task runs again on the next child."""
    run = Sidecar(base, "worker_killed", magento_url, key_file)
    celery_env(run, redis)
    run.run("migrate", "--no-input")
    worker = celery_worker(run)
    try:
        queued = enqueue(run, "__import__('magento_bridge.tasks').tasks.magento_sync_task.delay(full=True)")
        if queued.returncode:
            raise SystemExit(queued.stdout + queued.stderr)
        running = "SELECT COUNT(*) FROM magento_bridge_syncrun WHERE status = 'running'"
        hit = wait_for(lambda: sqlite_value(run.registry, running), 120) and time.sleep(delay) is None
        holder = sqlite_value(run.registry, "SELECT holder FROM magento_bridge_synclock") or ""
        pid = int(holder.split(":")[1]) if holder.count(":") >= 2 else 0
        hit = hit and pid and pid != worker.pid and not succeeded_syncs(run)
        if hit:
            os.kill(pid, signal.SIGKILL)
        rerun = wait_for(lambda: succeeded_syncs(run) >= 1, 600, step=0.5)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    runs = sqlite_value(run.registry, "SELECT GROUP_CONCAT(status, ',') FROM magento_bridge_syncrun")
    run.run("provenance_checkpoint")
    lost, dup = compare(baseline, run.items())
    outcome = (
        f"{'child killed mid-sync' if hit else 'the sync ended before the kill'}; "
        f"{'task ran again and completed' if rerun else 'task NOT run again'} (runs: {runs})"
    )
    return Outcome("Celery worker child SIGKILL mid-task", outcome, lost, dup, run.verified() and rerun)


def celery_worker_killed_whole(
    base: Path, magento_url: str, key_file: Path, redis: Redis, baseline: list[tuple], delay: float
) -> Outcome:
    """The whole worker (main process and child, SIGKILL to its process group: a lost host or
    ``docker kill``) dies mid-sync, so nothing rejects the message. A new worker gets it back from
    Redis once ``PROVENANT_CELERY_VISIBILITY_TIMEOUT`` (here 30 s) has passed, and completes it."""
    run = Sidecar(base, "worker_whole", magento_url, key_file)
    celery_env(run, redis)
    run.env["PROVENANT_CELERY_VISIBILITY_TIMEOUT"] = "30"
    run.run("migrate", "--no-input")
    worker = celery_worker(run)
    replacement = None
    try:
        queued = enqueue(run, "__import__('magento_bridge.tasks').tasks.magento_sync_task.delay(full=True)")
        if queued.returncode:
            raise SystemExit(queued.stdout + queued.stderr)
        running = "SELECT COUNT(*) FROM magento_bridge_syncrun WHERE status = 'running'"
        hit = wait_for(lambda: sqlite_value(run.registry, running), 120) and time.sleep(delay) is None
        hit = hit and not succeeded_syncs(run)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=60)
        killed_at = time.monotonic()
        replacement = celery_worker(run)
        rerun = wait_for(lambda: succeeded_syncs(run) >= 1, 600, step=0.5)
        back_after = time.monotonic() - killed_at
    finally:
        for process in (worker, replacement):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
    runs = sqlite_value(run.registry, "SELECT GROUP_CONCAT(status, ',') FROM magento_bridge_syncrun")
    run.run("provenance_checkpoint")
    lost, dup = compare(baseline, run.items())
    outcome = (
        f"{'worker killed mid-sync' if hit else 'the sync ended before the kill'}; "
        + (
            f"task ran again on a new worker and completed {back_after:.0f} s after the kill"
            if rerun
            else "task NOT run again"
        )
        + f" (runs: {runs})"
    )
    return Outcome("Celery worker killed whole mid-task", outcome, lost, dup, run.verified() and rerun)


def redis_stopped_with_queued_tasks(
    base: Path, magento_url: str, key_file: Path, redis: Redis, baseline: list[tuple]
) -> Outcome:
    """With no worker running, a full sync and a checkpoint are queued; Redis is SIGKILLed and
    restarted (append-only file, as docker-compose.yml runs it); a task queued while Redis is down
    must fail loudly at the caller. A worker started afterwards runs the queued tasks."""
    run = Sidecar(base, "redis_queued", magento_url, key_file)
    celery_env(run, redis)
    run.run("migrate", "--no-input")
    redis.cli("-n", "1", "FLUSHDB")
    sync = enqueue(run, "__import__('magento_bridge.tasks').tasks.magento_sync_task.delay(full=True)")
    sign = enqueue(run, "__import__('provenance.tasks').tasks.checkpoint_sign_task.delay()")
    queued = int(redis.cli("-n", "1", "LLEN", "celery") or 0)
    time.sleep(1.5)  # appendfsync everysec: what a power cut could still lose
    redis.kill()
    started = time.monotonic()
    down = enqueue(run, "__import__('provenance.tasks').tasks.checkpoint_sign_task.delay()")
    refused_after = time.monotonic() - started
    last = (down.stderr.strip().splitlines() or [""])[-1]
    redis.start()
    survived = int(redis.cli("-n", "1", "LLEN", "celery") or 0)
    worker = celery_worker(run)
    try:
        done = wait_for(lambda: succeeded_syncs(run) >= 1, 600, step=0.5)
        signed = wait_for(
            lambda: sqlite_value(run.registry, "SELECT COUNT(*) FROM provenance_checkpoint"), 60
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    run.run("provenance_checkpoint")
    lost, dup = compare(baseline, run.items())
    outcome = (
        f"{queued} queued ({'ok' if not sync.returncode and not sign.returncode else 'enqueue failed'}), "
        f"{survived} still queued after the restart; they ran: sync {'yes' if done else 'NO'}, checkpoint "
        f"{'yes' if signed else 'NO'}; enqueuing while down: exit {down.returncode} after "
        f"{refused_after:.1f} s ({last[:80]})"
    )
    return Outcome(
        "Redis SIGKILL with queued tasks",
        outcome,
        lost,
        dup,
        run.verified() and done and bool(signed) and down.returncode != 0,
    )


def package_killed_mid_build(base: Path, source: Sidecar, key_file: Path, baseline: list[tuple]) -> Outcome:
    """``audit_package`` SIGKILLed while it builds; nothing half-built may be visible as ready, and
    the next build must produce a package whose own verify.py passes."""
    import zipfile

    run = Sidecar(base, "package_killed", source.env["MAGENTO_DATABASE_URL"], key_file)
    shutil.copy(source.registry, run.registry)
    out_dir = base / "packages"
    out = out_dir / "killed.zip"
    build = run.popen("audit_package", "--out", str(out), "--quiet")
    state = "SELECT progress FROM audits_auditpackage WHERE status = 'running' ORDER BY id DESC"
    hit = wait_for(lambda: (sqlite_value(run.registry, state) or 0) >= 30, 300, step=0.05)
    hit = hit and build.poll() is None
    if hit:
        build.send_signal(signal.SIGKILL)
    build.wait(timeout=600)
    ready_after_kill = sqlite_value(
        run.registry, "SELECT COUNT(*) FROM audits_auditpackage WHERE status = 'done'"
    )
    statuses = sqlite_value(run.registry, "SELECT GROUP_CONCAT(status, ',') FROM audits_auditpackage")
    half = out.exists()
    again = run.run("audit_package", "--out", str(out_dir / "next.zip"), "--quiet")
    leftovers = sorted(p.name for p in out_dir.iterdir() if p.name not in ("next.zip",))
    statuses_after = sqlite_value(run.registry, "SELECT GROUP_CONCAT(status, ',') FROM audits_auditpackage")
    verified_package = False
    if again.returncode == 0:
        unpacked = base / "next-package"
        with zipfile.ZipFile(out_dir / "next.zip") as archive:
            archive.extractall(unpacked)
        check = subprocess.run([PYTHON, "verify.py"], cwd=unpacked, capture_output=True, text=True)
        verified_package = check.returncode == 0
    lost, dup = compare(baseline, run.items())
    outcome = (
        f"{'killed mid-build' if hit else 'build ended before the kill'}; after the kill: {ready_after_kill} "
        f"ready, out file {'EXISTS' if half else 'absent'}, packages {statuses}; next build exit "
        f"{again.returncode}, its verify.py {'passes' if verified_package else 'FAILS'}; packages now "
        f"{statuses_after}; left in the directory: {', '.join(leftovers) or 'nothing'}"
    )
    ok = bool(hit) and not ready_after_kill and not half and verified_package and not leftovers
    return Outcome("audit_package SIGKILL mid-build", outcome, lost, dup, run.verified() and ok)


def disk_full_while_publishing(base: Path, source: Sidecar, key_file: Path, baseline: list[tuple]) -> Outcome:
    """Manifests published into a small tmpfs; the store's content changes; the filesystem is filled
    to a few KiB; the next publish must fail with a clear error while the previous version stays
    current, intact and served; once space is free, publishing works again."""
    import hashlib

    import httpx

    if os.geteuid() != 0:
        return Outcome("disk full while publishing", "skipped: mounting a tmpfs needs root", 0, 0, False)
    run = Sidecar(base, "disk_full", source.env["MAGENTO_DATABASE_URL"], key_file)
    shutil.copy(source.registry, run.registry)
    mount = base / "publish"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True)
    server = None
    try:
        first = run.run("disclosure_publish", "--dir", str(mount))
        store = mount / "default"

        def snapshot() -> dict[str, str]:
            return {
                str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(store.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(store).parts)
            }

        before = snapshot()
        pointer = (store / "current.json").read_bytes()
        run.run(
            "shell",
            "-c",
            "from disclosure.services import audit_switch_set; "
            "audit_switch_set(store_code='default', surface='cms_block', mode='suppress')",
        )
        usage = shutil.disk_usage(mount)
        filler = mount / "filler"
        with filler.open("wb") as handle:
            try:
                handle.write(b"\0" * (usage.free - 8192))
            except OSError:
                pass
        full = run.run("disclosure_publish", "--dir", str(mount))
        after = snapshot()
        intact = after == before and (store / "current.json").read_bytes() == pointer
        port = 8418
        server = subprocess.Popen(
            [PYTHON, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(mount)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/default/current.json", timeout=1), 20)
        served = httpx.get(f"http://127.0.0.1:{port}/default/current.json", timeout=5)
        version = json.loads(served.content)["version"]
        shard = sorted(n for n in before if n.startswith(version) and n.endswith("0.json"))[0]
        shard_served = httpx.get(f"http://127.0.0.1:{port}/default/{shard}", timeout=5)
        served_ok = (
            served.content == pointer and hashlib.sha256(shard_served.content).hexdigest() == before[shard]
        )
        error = (full.stderr.strip().splitlines() or [""])[-1]
        filler.unlink()
        leftovers = [p.name for p in store.iterdir() if p.name.startswith(".")]
        third = run.run("disclosure_publish", "--dir", str(mount))
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait()
        subprocess.run(["umount", str(mount)], check=False)
    lost, dup = compare(baseline, run.items())
    outcome = (
        f"first publish exit {first.returncode}; on a full disk exit {full.returncode}: {error[:120]!r}; "
        f"previous version {'intact' if intact else 'CHANGED'} and {'served' if served_ok else 'NOT served'}; "
        f"leftovers {leftovers or 'none'}; after freeing space exit {third.returncode} "
        f"({third.stdout.strip()[:60]})"
    )
    ok = (
        first.returncode == 0
        and full.returncode != 0
        and "Traceback" not in full.stderr
        and intact
        and served_ok
        and not leftovers
        and third.returncode == 0
    )
    return Outcome("disk full while publishing manifests", outcome, lost, dup, run.verified() and ok)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Fault matrix with real processes (see the module docstring)."
    )
    parser.add_argument(
        "--products", type=int, default=2000, help="products in the demo store (default 2000)"
    )
    parser.add_argument("--port", type=int, default=3417, help="port of the private MariaDB (default 3417)")
    parser.add_argument(
        "--redis-port", type=int, default=6417, help="port of the private Redis (default 6417)"
    )
    parser.add_argument(
        "--web-port", type=int, default=8417, help="port of the sidecar under load (default 8417)"
    )
    parser.add_argument("--kill-after", type=float, default=2.0, help="seconds into a sync to inject a fault")
    parser.add_argument(
        "--checkpoint-kill-after",
        type=float,
        default=1.5,
        help="seconds after provenance_checkpoint starts to SIGKILL it (start-up takes about a second)",
    )
    parser.add_argument(
        "--only",
        default=",".join(FAULTS),
        type=lambda v: set(v.split(",")),
        help=f"comma-separated subset of the faults: {', '.join(FAULTS)} (default all)",
    )
    parser.add_argument(
        "--redis-no-aof",
        action="store_true",
        help="run the broker's Redis without its append-only file (docker-compose.yml before it had one)",
    )
    options = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="provenant-faults-"))
    db = MariaDB(base, options.port)
    results = Results()
    try:
        db.install()
        db.start()
        db.sql("CREATE DATABASE magento CHARACTER SET utf8mb4")
        key_file = base / "log.key"
        boot = Sidecar(base, "boot", db.url("magento"), key_file)
        subprocess.run(
            [PYTHON, "manage.py", "provenance_keygen", "--name", "faults.test/log", "--out", str(key_file)],
            cwd=ROOT,
            env={**boot.env, "PROVENANT_LOG_KEY_FILE": ""},
            check=True,
            capture_output=True,
        )
        started = time.monotonic()
        built = boot.run(
            "magento_demo_store",
            "--products",
            str(options.products),
            "--seed",
            "7",
            "--media-root",
            str(base / "media"),
        )
        if built.returncode != 0:
            raise SystemExit(built.stdout + built.stderr)
        print(f"demo store: {options.products} products in {time.monotonic() - started:.0f} s")

        clean = Sidecar(base, "clean", db.url("magento"), key_file)
        clean.run("migrate", "--no-input")
        started = time.monotonic()
        done = clean.run("magento_sync", "--full", "--no-progress")
        sync_seconds = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
        clean.run("provenance_checkpoint")
        baseline = clean.items()
        print(
            f"clean run: {len(baseline)} content items, full sync {sync_seconds:.1f} s, verified {clean.verified()}"
        )
        delay = min(options.kill_after, sync_seconds / 3)

        # 1. Magento's database SIGKILLed mid-sync, restarted, sync again.
        if "magento" in options.only:
            run = Sidecar(base, "magento_killed", db.url("magento"), key_file)
            run.run("migrate", "--no-input")
            sync = run.popen("magento_sync", "--full", "--no-progress")
            hit = kill_mid_sync(sync, run, delay, db.kill)
            first = sync.wait(timeout=600)
            db.start()
            again = run.run("magento_sync", "--full", "--no-progress")
            run.run("provenance_checkpoint")
            lost, dup = compare(baseline, run.items())
            outcome = (
                f"{'killed mid-run' if hit else 'sync ended before the kill'}; first sync exit {first}, "
                f"after restart exit {again.returncode}"
            )
            results.append(Outcome("Magento MariaDB SIGKILL mid-sync", outcome, lost, dup, run.verified()))

        # 2. The sync process itself SIGKILLed mid-run; the next sync takes its lock over.
        if "sync" in options.only:
            run = Sidecar(base, "sync_killed", db.url("magento"), key_file)
            run.run("migrate", "--no-input")
            sync = run.popen("magento_sync", "--full", "--no-progress")
            hit = kill_mid_sync(sync, run, delay, lambda s=sync: s.send_signal(signal.SIGKILL))
            sync.wait(timeout=600)
            again = run.run("magento_sync", "--full", "--no-progress")
            run.run("provenance_checkpoint")
            lost, dup = compare(baseline, run.items())
            outcome = (
                f"{'killed mid-run' if hit else 'ended before the kill'}; next sync exit {again.returncode}"
            )
            results.append(Outcome("sync process SIGKILL mid-run", outcome, lost, dup, run.verified()))

        # 3. provenance_checkpoint SIGKILLed while signing; the next checkpoint succeeds.
        if "checkpoint" in options.only:
            run = Sidecar(base, "checkpoint_killed", db.url("magento"), key_file)
            run.run("migrate", "--no-input")
            run.run("magento_sync", "--full", "--no-progress")
            checkpoint = run.popen("provenance_checkpoint")
            hit = kill_after(
                checkpoint, options.checkpoint_kill_after, lambda c=checkpoint: c.send_signal(signal.SIGKILL)
            )
            checkpoint.wait(timeout=300)
            again = run.run("provenance_checkpoint")
            lost, dup = compare(baseline, run.items())
            outcome = f"{'killed mid-run' if hit else 'ended before the kill'}; next checkpoint exit {again.returncode}"
            results.append(
                Outcome("provenance_checkpoint SIGKILL at start+", outcome, lost, dup, run.verified())
            )

        # 4. Redis (cache and rate limits) SIGKILLed while the badge API is under load, then restarted.
        if "badge" in options.only:
            results.append(redis_under_badge_load(base, clean, options.redis_port, options.web_port))

        # 5-8. A real Celery worker on a private Redis (broker and results).
        redis = Redis(base, options.redis_port + 1, appendonly=not options.redis_no_aof)
        redis.start()
        try:
            if "worker" in options.only:
                results.append(
                    celery_worker_killed_mid_task(base, db.url("magento"), key_file, redis, baseline, delay)
                )
            if "wholeworker" in options.only:
                results.append(
                    celery_worker_killed_whole(base, db.url("magento"), key_file, redis, baseline, delay)
                )
            if "queued" in options.only:
                results.append(
                    redis_stopped_with_queued_tasks(base, db.url("magento"), key_file, redis, baseline)
                )
        finally:
            redis.kill()
        if "package" in options.only:
            results.append(package_killed_mid_build(base, clean, key_file, baseline))
        if "disk" in options.only:
            results.append(disk_full_while_publishing(base, clean, key_file, baseline))
        # Last: it kills the MariaDB that also holds the demo store.
        if "registry" in options.only:
            results.append(registry_restart_mid_append(base, db, key_file, options.web_port + 2))
    finally:
        db.kill()
        shutil.rmtree(base, ignore_errors=True)

    print()
    print(f"{'fault':<36} {'verify':<7} {'lost':>5} {'dup':>5}  outcome")
    for r in results:
        print(
            f"{r.fault:<36} {'pass' if r.verified else 'FAIL':<7} {r.lost:>5} {r.duplicated:>5}  {r.outcome}"
        )
    if any(r.lost or r.duplicated or not r.verified for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
