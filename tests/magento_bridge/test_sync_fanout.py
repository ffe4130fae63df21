"""The sync fanned out on Celery: eager (no broker) in this process, and on real worker processes
with Redis as broker and result backend and MariaDB for the registry and the Magento store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis

from magento_bridge import fanout
from magento_bridge.connection import DatabaseUrl, connect
from magento_bridge.fanout import sync_fan_out, sync_fanout_products
from magento_bridge.models import SyncCursor, SyncRun
from magento_bridge.reader import MagentoUnavailable
from magento_bridge.services import sync_run
from provenance.integrity import integrity_check
from provenance.models import ContentItem, LogEntry

ROOT = Path(__file__).resolve().parents[2]


def expected(store) -> dict[str, dict[str, int]]:
    return {code: {s: n for s, n in per.items() if n} for code, per in store.summary.expected_items.items()}


def registry_counts() -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for code, surface in ContentItem.objects.filter(removed_at__isnull=True).values_list(
        "store_code", "surface"
    ):
        result.setdefault(code, {}).setdefault(surface, 0)
        result[code][surface] += 1
    return result


def assert_verified() -> None:
    report = integrity_check(chunk_size=500, max_findings=20)
    assert report.ok, report


# -- eager: no broker, the chords run in this process -------------------------------------


@pytest.mark.django_db
def test_the_fanned_out_sync_registers_what_the_single_process_sync_does(settings, mariadb_store):
    settings.MAGENTO_WRITE_BATCH_SIZE = 7
    run = sync_fan_out(full=True, triggered_by="test")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert registry_counts() == expected(mariadb_store)
    assert run.total("added") == ContentItem.objects.count()
    assert LogEntry.objects.filter(kind="item.added").count() == ContentItem.objects.count()
    assert run.batches == len([k for k in run.landed if not k.startswith("finish:")]) > 10
    assert {k.split(":")[0] for k in run.landed} == {"media", "products", "cms_block", "cms_page", "finish"}
    assert run.media["files_read"] > 0 and run.cursors["default"]["product_image"]
    assert SyncCursor.objects.filter(last_full_at__isnull=False).count() == 8  # 2 store views x 4 surfaces
    entries = LogEntry.objects.count()

    # The single-process sync over the same registry finds everything as the fan-out left it.
    again = sync_run(full=True, triggered_by="test")
    assert again.status == SyncRun.Status.SUCCEEDED
    assert again.total("added") == again.total("changed") == again.total("removed") == 0
    assert again.counts == {
        surface: {**c, "added": 0, "unchanged": c["added"]} for surface, c in run.counts.items()
    }
    assert LogEntry.objects.count() == entries
    assert_verified()


@pytest.mark.django_db
def test_an_incremental_fan_out_after_nothing_changed_writes_nothing(settings, mariadb_store):
    first = sync_fan_out(full=True)
    entries = LogEntry.objects.count()
    run = sync_fan_out()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.mode, run.total("added"), run.total("changed"), run.total("removed")) == (
        "incremental",
        0,
        0,
        0,
    )
    assert LogEntry.objects.count() == entries
    assert first.cursors == run.cursors


@pytest.mark.django_db
def test_a_batch_run_again_after_it_landed_writes_nothing_twice(settings, mariadb_store):
    settings.MAGENTO_WRITE_BATCH_SIZE = 10
    run = sync_fan_out(full=True)
    entries, landed = LogEntry.objects.count(), dict(run.landed)
    key = next(k for k in run.landed if k.startswith("products:de:"))
    first, last = (int(n) for n in key.rsplit(":", 1)[1].split("-"))
    ids = sorted(
        ContentItem.objects.filter(store_code="de", magento_id__gte=first, magento_id__lte=last)
        .values_list("magento_id", flat=True)
        .distinct()
    )
    plan = {"since": {"de": {"products": None}}, "seen_at": run.started_at.isoformat(), "full": True}
    redone = sync_fanout_products.apply(args=(run.pk, {**plan, "media": True}, "de", ids)).get()

    assert redone == {"key": key, "ok": True, "redone": True}
    assert LogEntry.objects.count() == entries
    run.refresh_from_db()
    assert run.landed == landed


@pytest.mark.django_db
def test_a_failed_batch_fails_the_run_naming_it_and_the_next_run_redoes_it(
    settings, mariadb_store, monkeypatch
):
    settings.MAGENTO_WRITE_BATCH_SIZE = 10
    real = fanout.content_items_apply_batch

    def flaky(**kwargs):
        if kwargs["store_codes"] == ["de"] and min(kwargs["covered_ids"]) == 11:
            raise MagentoUnavailable("Magento went away while reading products 11-20")
        return real(**kwargs)

    monkeypatch.setattr(fanout, "content_items_apply_batch", flaky)
    failed = sync_fan_out(full=True, triggered_by="test")

    assert failed.status == SyncRun.Status.FAILED
    assert "batch products:de:11-20 failed: Magento went away" in failed.error
    assert "the next run reads the rest again" in failed.error
    assert "products:de:11-20" not in failed.landed and "products:de:1-10" in failed.landed
    assert failed.batches == len(failed.landed) and failed.finished_at is not None
    assert not SyncCursor.objects.exists()  # cursors unmoved: the next run reads everything again
    assert not ContentItem.objects.filter(store_code="de", magento_id__range=(11, 20)).exists()
    landed_items = ContentItem.objects.count()
    assert landed_items == failed.total("added") > 0

    monkeypatch.setattr(fanout, "content_items_apply_batch", real)
    rerun = sync_fan_out(triggered_by="test")  # incremental, but no cursor yet: everything
    assert rerun.status == SyncRun.Status.SUCCEEDED, rerun.error
    assert registry_counts() == expected(mariadb_store)
    assert rerun.total("added") == ContentItem.objects.count() - landed_items
    assert LogEntry.objects.filter(kind="item.added").count() == ContentItem.objects.count()
    assert_verified()


@pytest.mark.django_db
def test_magento_sync_fan_out_without_a_broker_runs_here(mariadb_store):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("magento_sync", "--full", "--fan-out", "--no-progress", stdout=out)
    assert "Full reconcile sync of all store views: succeeded" in out.getvalue()
    assert registry_counts() == expected(mariadb_store)


# -- real workers on Redis, registry and store in MariaDB ---------------------------------


@pytest.fixture
def make_database(mariadb_server):
    """``make_database()``: a fresh, empty MariaDB database, dropped afterwards."""
    names: list[str] = []

    def make() -> DatabaseUrl:
        name = f"provenant_t_{uuid.uuid4().hex[:12]}"
        admin = connect(mariadb_server, read_only=False)
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
        admin.close()
        names.append(name)
        return DatabaseUrl(
            engine="mysql",
            name=name,
            host=mariadb_server.host,
            port=mariadb_server.port,
            user=mariadb_server.user,
            password=mariadb_server.password,
        )

    yield make
    admin = connect(mariadb_server, read_only=False)
    with admin.cursor() as cur:
        for name in names:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    admin.close()


class Registry:
    """A sidecar configuration (environment) on its own MariaDB registry, run as subprocesses."""

    def __init__(self, db: DatabaseUrl, store, *, broker: str = "", write_batch: int = 200) -> None:
        self.db = db
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sidecar.settings",
            "PROVENANT_DEBUG": "1",
            "DATABASE_URL": db.url(),
            "MAGENTO_DATABASE_URL": store.db.url(),
            "MAGENTO_MEDIA_ROOT": str(store.media_root),
            "MAGENTO_WRITE_BATCH_SIZE": str(write_batch),
        }
        for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "MAGENTO_SYNC_FAN_OUT"):
            self.env.pop(name, None)
        if broker:
            self.env["CELERY_BROKER_URL"] = self.env["CELERY_RESULT_BACKEND"] = broker
        self.manage("migrate", "--no-input", "-v", "0")

    def manage(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def sql(self, statement: str) -> list[tuple]:
        conn = connect(self.db, read_only=False)
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return list(cur.fetchall())
        finally:
            conn.close()

    def items(self) -> Counter:
        return Counter(
            self.sql(
                "SELECT store_code, surface, magento_id, part_key, state_sha256, content_sha256, "
                "removed_at IS NULL FROM provenance_contentitem"
            )
        )

    def log_kinds(self) -> Counter:
        return Counter(dict(self.sql("SELECT kind, COUNT(*) FROM provenance_logentry GROUP BY kind")))

    def duplicated_log_entries(self) -> int:
        """Entries logging the same item version (target and state) more than once."""
        names = ("kind", "store_code", "surface", "magento_id", "part_key", "state_sha256")
        rows = [json.loads(bytes(data)) for (data,) in self.sql("SELECT data FROM provenance_logentry")]
        rows = [tuple(row.get(name) for name in names) for row in rows]
        return sum(n - 1 for n in Counter(rows).values() if n > 1)


@pytest.fixture
def workers(redis_url, tmp_path):
    """``workers(registry, concurrency=2)``: a started ``celery worker`` (prefork) for ``registry``,
    logging to a file (a pipe nobody reads would fill up and stop the worker)."""
    started: list[tuple[subprocess.Popen, Path]] = []

    def start(registry: Registry, *, concurrency: int = 2) -> subprocess.Popen:
        redis.Redis.from_url(redis_url).flushdb()  # nothing left over from an interrupted run
        log = tmp_path / f"worker-{len(started)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "sidecar", "worker", "--pool", "prefork"]
            + ["--concurrency", str(concurrency), "--loglevel", "INFO", "--without-heartbeat"]
            + ["--without-mingle", "--without-gossip", "--hostname", f"fanout-{uuid.uuid4().hex[:8]}@%h"],
            env=registry.env,
            cwd=ROOT,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append((process, log))
        process.log = log
        return process

    yield start
    for process, log in started:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        print(log.read_text()[-20000:])  # shown when the test fails


def single_process_reference(make_database, store) -> Registry:
    reference = Registry(make_database(), store)
    reference.manage("magento_sync", "--full", "--no-progress")
    return reference


def test_two_workers_register_what_the_single_process_sync_does(
    make_database, make_store, workers, redis_url
):
    store = make_store(make_database(), products=60)
    reference = single_process_reference(make_database, store)
    fanned = Registry(make_database(), store, broker=redis_url, write_batch=10)
    workers(fanned, concurrency=2)

    done = fanned.manage("magento_sync", "--full", "--fan-out", "--no-progress")

    assert "succeeded" in done.stdout, done.stdout + done.stderr
    assert fanned.items() == reference.items()
    assert fanned.log_kinds() == reference.log_kinds()
    assert fanned.duplicated_log_entries() == 0
    [(batches, tasks)] = fanned.sql(
        "SELECT batches, JSON_VALUE(media, '$.fan_out.tasks') FROM magento_bridge_syncrun"
    )
    assert batches > 12 and int(tasks) > 12
    fanned.manage("provenance_verify")


def test_a_worker_child_killed_mid_batch_loses_and_duplicates_nothing(
    make_database, make_store, workers, redis_url, tmp_path
):
    store = make_store(make_database(), products=100)
    reference = single_process_reference(make_database, store)
    fanned = Registry(make_database(), store, broker=redis_url, write_batch=4)
    worker = workers(fanned, concurrency=2)
    sync_log = tmp_path / "sync.log"
    sync = subprocess.Popen(
        [sys.executable, "manage.py", "magento_sync", "--full", "--fan-out", "--no-progress"],
        env=fanned.env,
        cwd=ROOT,
        stdout=sync_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    # Once product batches are landing, SIGKILL a pool child (what an OOM kill does): with acks_late
    # and reject_on_worker_lost its task goes back to the queue and a new child runs it.
    deadline = time.monotonic() + 300
    killed = None
    while time.monotonic() < deadline and killed is None and sync.poll() is None:
        rows = fanned.sql(
            "SELECT COUNT(*) FROM magento_bridge_syncrun, JSON_TABLE(JSON_KEYS(landed), '$[*]' "
            "COLUMNS (k VARCHAR(200) PATH '$')) AS keys_ WHERE k LIKE 'products:%' AND status = 'running'"
        )
        if rows and rows[0][0] >= 5:
            children = subprocess.run(
                ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True
            ).stdout.split()
            if children:
                killed = int(children[0])
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    sync.wait(timeout=600)
    output = sync_log.read_text()

    assert killed is not None, "the run ended before a worker child could be killed"
    # The child was running a task (billiard names the job it lost), which ran again.
    assert "Worker exited prematurely: signal 9 (SIGKILL) Job:" in worker.log.read_text()
    assert sync.returncode == 0, output
    assert "succeeded" in output
    assert fanned.items() == reference.items()  # 0 lost, 0 duplicated
    assert fanned.log_kinds() == reference.log_kinds()
    assert fanned.duplicated_log_entries() == 0
    [(status, batches)] = fanned.sql("SELECT status, batches FROM magento_bridge_syncrun")
    assert status == "succeeded" and batches > 40
    fanned.manage("provenance_verify")
