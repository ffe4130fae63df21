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
  badge request must still be answered 200 (`runserver` with its own Redis on its own port).

Not covered here yet: the registry database restarted mid-append, Redis stopped with queued tasks, a
Celery worker SIGKILLed mid-task, disk full while publishing manifests.
"""

from __future__ import annotations

import argparse
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
    options = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="provenant-faults-"))
    db = MariaDB(base, options.port)
    results: list[Outcome] = []
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
        run = Sidecar(base, "sync_killed", db.url("magento"), key_file)
        run.run("migrate", "--no-input")
        sync = run.popen("magento_sync", "--full", "--no-progress")
        hit = kill_mid_sync(sync, run, delay, lambda s=sync: s.send_signal(signal.SIGKILL))
        sync.wait(timeout=600)
        again = run.run("magento_sync", "--full", "--no-progress")
        run.run("provenance_checkpoint")
        lost, dup = compare(baseline, run.items())
        outcome = f"{'killed mid-run' if hit else 'ended before the kill'}; next sync exit {again.returncode}"
        results.append(Outcome("sync process SIGKILL mid-run", outcome, lost, dup, run.verified()))

        # 3. provenance_checkpoint SIGKILLed while signing; the next checkpoint succeeds.
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
        outcome = (
            f"{'killed mid-run' if hit else 'ended before the kill'}; next checkpoint exit {again.returncode}"
        )
        results.append(Outcome("provenance_checkpoint SIGKILL at start+", outcome, lost, dup, run.verified()))

        # 4. Redis (cache and rate limits) SIGKILLed while the badge API is under load, then restarted.
        results.append(redis_under_badge_load(base, clean, options.redis_port, options.web_port))
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
