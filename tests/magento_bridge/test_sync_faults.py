"""Magento going away during a sync: retried when it comes back, no partial rows when it does not."""

from __future__ import annotations

import uuid

import pytest

from magento_bridge.connection import DatabaseUrl, connect
from magento_bridge.locks import SyncAlreadyRunning, sync_lock_acquire, sync_lock_release
from magento_bridge.models import SyncLock, SyncRun
from magento_bridge.services import sync_run
from provenance.models import ContentItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def sync_user(mariadb_store):
    """A least-privilege MariaDB user (SELECT on the store only), dropped afterwards."""
    name = f"prov_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    admin = connect(mariadb_store.db, read_only=False)
    with admin.cursor() as cur:
        cur.execute(f"CREATE USER '{name}'@'%%' IDENTIFIED BY %s", (password,))
        cur.execute(f"GRANT SELECT ON `{mariadb_store.db.name}`.* TO '{name}'@'%'")
    db = DatabaseUrl(
        engine="mysql",
        name=mariadb_store.db.name,
        host=mariadb_store.db.host,
        port=mariadb_store.db.port,
        user=name,
        password=password,
    )
    yield db, admin, name
    with admin.cursor() as cur:
        cur.execute(f"DROP USER IF EXISTS '{name}'@'%'")
    admin.close()


def _kill_sessions(admin, user: str) -> int:
    with admin.cursor() as cur:
        cur.execute("SELECT id FROM information_schema.processlist WHERE user = %s", (user,))
        ids = [r[0] for r in cur.fetchall()]
        for session in ids:
            cur.execute(f"KILL {int(session)}")
    return len(ids)


def test_the_sync_reads_through_a_select_only_user_in_a_read_only_session(mariadb_store, sync_user):
    db, _admin, _name = sync_user
    run = sync_run(full=True, db=db, media=mariadb_store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert ContentItem.objects.count() == run.total("added") > 0


def test_a_dropped_connection_mid_sync_is_retried_and_the_run_completes(mariadb_store, sync_user):
    db, admin, name = sync_user
    killed = []

    def progress(phase, done, total):
        if phase == "products" and done and not killed:
            killed.append(_kill_sessions(admin, name))

    run = sync_run(full=True, db=db, media=mariadb_store.media, progress=progress)

    assert killed == [1]
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    expected = sum(sum(per.values()) for per in mariadb_store.summary.expected_items.values())
    assert ContentItem.objects.count() == expected


def test_magento_going_down_mid_sync_fails_the_run_and_writes_nothing(mariadb_store, sync_user, settings):
    settings.MAGENTO_RETRIES = 2
    db, admin, name = sync_user
    state = {"down": False}

    def progress(phase, done, total):
        if phase == "products" and done and not state["down"]:
            with admin.cursor() as cur:
                cur.execute(f"DROP USER '{name}'@'%'")
            _kill_sessions(admin, name)
            state["down"] = True

    run = sync_run(full=True, db=db, media=mariadb_store.media, progress=progress)

    assert state["down"]
    assert run.status == SyncRun.Status.FAILED
    assert "unreachable after 3 attempt(s)" in run.error
    assert run.finished_at is not None
    assert ContentItem.objects.count() == 0, "no partial rows"
    assert run.total("added") == 0
    assert not SyncLock.objects.exists(), "the lock is released"


def test_a_failed_run_keeps_the_previous_registry_intact(mariadb_store, sync_user, settings):
    settings.MAGENTO_RETRIES = 0
    db, admin, name = sync_user
    sync_run(full=True, db=db, media=mariadb_store.media)
    before = list(ContentItem.objects.order_by("id").values_list("id", "state_sha256", "last_seen_at"))
    mariadb_store.sql(
        "UPDATE catalog_product_entity_media_gallery_value SET label = 'changed' WHERE store_id = 0"
    )

    def progress(phase, done, total):
        if phase == "products" and done:
            with admin.cursor() as cur:
                cur.execute(f"DROP USER IF EXISTS '{name}'@'%'")
            _kill_sessions(admin, name)

    run = sync_run(full=True, db=db, media=mariadb_store.media, progress=progress)
    assert run.status == SyncRun.Status.FAILED
    assert (
        list(ContentItem.objects.order_by("id").values_list("id", "state_sha256", "last_seen_at")) == before
    )


def test_two_syncs_never_overlap():
    holder = sync_lock_acquire()
    with pytest.raises(SyncAlreadyRunning, match="another Magento sync is running"):
        sync_lock_acquire()
    with pytest.raises(SyncAlreadyRunning):
        sync_run()
    assert not SyncRun.objects.exists()
    sync_lock_release(holder=holder)
    assert sync_lock_acquire()


def test_an_expired_lock_from_a_crashed_worker_is_taken_over():
    sync_lock_acquire(seconds=60)
    SyncLock.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert sync_lock_acquire()
