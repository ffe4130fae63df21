"""Magento going away during a sync: retried when it comes back; whole batches only when it does not."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command

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


def _restore_user(admin, db: DatabaseUrl) -> None:
    with admin.cursor() as cur:
        cur.execute(f"CREATE USER IF NOT EXISTS '{db.user}'@'%%' IDENTIFIED BY %s", (db.password,))
        cur.execute(f"GRANT SELECT ON `{db.name}`.* TO '{db.user}'@'%'")


def _registry() -> list[tuple]:
    return list(
        ContentItem.objects.order_by("store_code", "surface", "magento_id", "part_key").values_list(
            "store_code", "surface", "magento_id", "part_key", "content_sha256", "state_sha256", "removed_at"
        )
    )


def _log_consistent() -> None:
    out = io.StringIO()
    call_command("provenance_verify", stdout=out)
    assert "consistent" in out.getvalue().lower(), out.getvalue()


def test_magento_going_down_mid_sync_leaves_whole_batches_and_the_next_run_completes(
    mariadb_store, sync_user, settings
):
    settings.MAGENTO_RETRIES = 2
    settings.MAGENTO_BATCH_SIZE = 10  # 40 products: four product batches
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
    assert not SyncLock.objects.exists(), "the lock is released"
    # The first batch committed whole, with its log entries and the run's counts; nothing after it.
    assert run.batches == 1
    landed = ContentItem.objects.count()
    assert 0 < landed == run.total("added")
    assert SyncRun.objects.get(pk=run.pk).counts == run.counts
    assert not ContentItem.objects.filter(latest_log_index__isnull=True).exists()
    _log_consistent()

    _restore_user(admin, db)
    again = sync_run(full=True, db=db, media=mariadb_store.media)

    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    expected = sum(sum(per.values()) for per in mariadb_store.summary.expected_items.values())
    assert ContentItem.objects.count() == expected, "nothing lost, nothing duplicated"
    assert again.total("added") == expected - landed
    _log_consistent()


def test_a_failed_run_changes_whole_batches_and_the_next_run_converges(mariadb_store, sync_user, settings):
    settings.MAGENTO_RETRIES = 0
    settings.MAGENTO_BATCH_SIZE = 10
    db, admin, name = sync_user
    sync_run(full=True, db=db, media=mariadb_store.media)
    before = dict(ContentItem.objects.values_list("id", "state_sha256").filter(surface="product_image"))
    mariadb_store.sql(
        "UPDATE catalog_product_entity_media_gallery_value SET label = 'changed' WHERE store_id = 0"
    )

    def progress(phase, done, total):
        if phase == "products" and done:
            with admin.cursor() as cur:
                cur.execute(f"DROP USER IF EXISTS '{name}'@'%'")
            _kill_sessions(admin, name)

    run = sync_run(full=True, db=db, media=mariadb_store.media, progress=progress)

    assert run.status == SyncRun.Status.FAILED and run.batches == 1
    after = dict(ContentItem.objects.values_list("id", "state_sha256").filter(surface="product_image"))
    changed = {item for item, state in after.items() if state != before[item]}
    assert 0 < len(changed) == run.counts["product_image"]["changed"] < len(before)
    _log_consistent()

    _restore_user(admin, db)
    finish = sync_run(full=True, db=db, media=mariadb_store.media)
    assert finish.status == SyncRun.Status.SUCCEEDED, finish.error
    final = _registry()
    settled = sync_run(full=True, db=db, media=mariadb_store.media)
    assert settled.total("changed") == settled.total("added") == 0 and _registry() == final
    final_states = dict(ContentItem.objects.values_list("id", "state_sha256").filter(surface="product_image"))
    differ = sum(1 for item, state in final_states.items() if state != before[item])
    # Each changed image was changed once: by the failed run's batch or by the next run.
    assert run.counts["product_image"]["changed"] + finish.counts["product_image"]["changed"] == differ
    _log_consistent()


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


def test_write_batches_commit_apart_and_give_the_registry_one_large_batch_gives(mariadb_store, settings):
    settings.MAGENTO_WRITE_BATCH_SIZE = 7  # 40 products in one read batch: six product transactions
    run = sync_run(full=True, media=mariadb_store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.batches >= 6 and run.media["longest_batch_seconds"] > 0
    small = [row[:-1] for row in _registry()]  # removal times aside: none here
    ContentItem.objects.all().delete()

    settings.MAGENTO_WRITE_BATCH_SIZE = 1000
    one = sync_run(full=True, media=mariadb_store.media)
    assert one.batches < run.batches
    assert [row[:-1] for row in _registry()] == small
    assert one.counts == run.counts
