"""The sync fanned out on Celery: one run shared by any number of workers.

A coordinator (:func:`sync_fan_out`, called by the scheduled task) takes the sync lock, records the
run and reads what is to be done; the work then runs as tasks any worker may take:

1. a chord of **media tasks**, one per batch of gallery files (``MAGENTO_WRITE_BATCH_SIZE`` files):
   reading, hashing and detection (XMP, C2PA, watermark, fingerprint), stored per file in
   :class:`~magento_bridge.models.MediaFile`;
2. its callback starts a chord of **registry tasks**, one per store view and surface: products
   (images and recommendations, read together from the same rows) in batches of
   ``MAGENTO_WRITE_BATCH_SIZE`` products, and each CMS surface;
3. that chord's callback (:func:`sync_fanout_finish`) finishes the run: removals and cursors per
   store view (in one transaction each), the derivative walk, the run's status and summary.

Every batch commits in its own transaction with its log entries and its entry in
:attr:`SyncRun.landed <magento_bridge.models.SyncRun.landed>`, under the log's writer lock
(:func:`provenance.log.log_head_lock`), which is taken first, before any registry row is read or
locked: batches of parallel workers queue for it one at a time and never hold one lock while waiting
for another, so they cannot deadlock on MariaDB. A batch redone after a lost worker (tasks are
``acks_late`` and rejected back to the queue when their worker dies) finds its key in ``landed`` and
writes nothing; one that had not committed is applied as the first time. A batch that fails is
reported to the callback, which marks the run failed naming it and leaves the cursors unmoved, so
the next run reads those rows again.

Without a broker (``CELERY_TASK_ALWAYS_EAGER``) the chords run in the caller's process, in order,
with the same results.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from celery import chord, shared_task
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, OperationalError, transaction
from django.utils import timezone

from magento_bridge.derivatives import derivatives_check
from magento_bridge.locks import sync_lock_acquire, sync_lock_release
from magento_bridge.models import MediaFile, SyncRun
from magento_bridge.reader import MagentoError, StoreView
from magento_bridge.records import (
    SURFACE_CMS_BLOCK,
    SURFACE_CMS_PAGE,
    SURFACE_PRODUCT_IMAGE,
    SURFACE_RECOMMENDATION,
    SURFACES,
)
from magento_bridge.services import (
    MediaResult,
    MediaStats,
    _cursor_map,
    _inspection_from_row,
    _newer,
    _observed_cms,
    _observed_products,
    _save_cursors,
    _since,
    _store_code_check,
    configured_media_source,
    magento_reader,
    media_inspect_files,
)
from provenance.log import log_head_lock
from provenance.services import (
    ApplyCounts,
    content_items_apply_batch,
    content_items_remove_missing,
    source_rules_active,
)

logger = logging.getLogger(__name__)

PRODUCTS = "products"
PRODUCT_SURFACES = (SURFACE_PRODUCT_IMAGE, SURFACE_RECOMMENDATION)
CMS_SURFACES = (SURFACE_CMS_BLOCK, SURFACE_CMS_PAGE)
GROUPS: dict[str, tuple[str, ...]] = {
    PRODUCTS: PRODUCT_SURFACES,
    SURFACE_CMS_BLOCK: (SURFACE_CMS_BLOCK,),
    SURFACE_CMS_PAGE: (SURFACE_CMS_PAGE,),
}
# MariaDB's "lock wait timeout exceeded" and "deadlock found": the batch is tried again.
_RETRYABLE = {1205, 1213}
_LAND_ATTEMPTS = 8

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True}


# -- the coordinator ----------------------------------------------------------------------


def sync_fan_out(
    *, store_code: str | None = None, full: bool = False, triggered_by: str = "", media: bool = True
) -> SyncRun:
    """Start a fanned-out sync of one store view or all of them and return its run.

    Raises :class:`~magento_bridge.locks.SyncAlreadyRunning` and
    :class:`~magento_bridge.reader.UnknownStoreError` without recording a run, like
    :func:`magento_bridge.services.sync_run`. With a broker the run is returned ``running`` (the
    workers finish it and release the lock); without one the tasks run here and it is returned
    finished. ``media=False`` skips reading media files.
    """
    holder = sync_lock_acquire()
    try:
        if store_code:
            _store_code_check(store_code, None)
        run = SyncRun.objects.create(
            source=SyncRun.Source.MYSQL,
            store_code=store_code or "",
            mode=SyncRun.Mode.FULL if full else SyncRun.Mode.INCREMENTAL,
            triggered_by=triggered_by[:150],
        )
    except BaseException:
        sync_lock_release(holder=holder)
        raise
    try:
        plan = _plan(run, store_code=store_code, full=full, media=media, holder=holder)
        media_tasks = [
            sync_fanout_media.si(run.pk, plan, key, paths) for key, paths in _media_batches(plan.pop("files"))
        ]
        registry = sync_fanout_registry.s(run_id=run.pk, plan=plan)
        if media_tasks:
            chord(media_tasks)(registry)
        else:
            registry.delay([])
    except MagentoError as exc:
        _fail(run, str(exc))
        sync_lock_release(holder=holder)
        logger.error("Magento sync failed before its batches were dispatched: %s", exc)
    except BaseException as exc:
        _fail(run, f"{type(exc).__name__}: {exc}")
        sync_lock_release(holder=holder)
        raise
    run.refresh_from_db()
    return run


def _plan(run: SyncRun, *, store_code: str | None, full: bool, media: bool, holder: str) -> dict:
    """What every task of the run needs to know, as JSON: store views, per store view and surface
    group where to read from, when the run saw things, the lock holder, the files to read."""
    with magento_reader() as reader:
        codes = [store_code] if store_code else (settings.MAGENTO_STORES or None)
        stores = reader.store_views(codes)
        cursors = _cursor_map(stores)
        since = {
            store.code: {
                group: _iso(_since(cursors, [store], surfaces, full)) for group, surfaces in GROUPS.items()
            }
            for store in stores
        }
        product_since = [_parse(since[s.code][PRODUCTS]) for s in stores]
        oldest = None if None in product_since else min(product_since)
        media_on = media and configured_media_source() is not None
        files = reader.gallery_files(updated_since=oldest) if media_on else []
        queries = reader.source_stats().get("queries", 0)
    return {
        "stores": [s.code for s in stores],
        "since": since,
        "seen_at": timezone.now().isoformat(),
        "full": full,
        "media": media_on,
        "media_wanted": media,
        "holder": holder,
        "files": files,
        "queries": queries,
    }


def _media_batches(files: Sequence[str]) -> list[tuple[str, list[str]]]:
    size = settings.MAGENTO_WRITE_BATCH_SIZE
    return [
        (f"media:{start // size + 1}", list(files[start : start + size]))
        for start in range(0, len(files), size)
    ]


# -- batches ------------------------------------------------------------------------------


def _landed_already(run_id: int, key: str) -> bool:
    return key in (SyncRun.objects.filter(pk=run_id).values_list("landed", flat=True).first() or {})


def _land(run_id: int, key: str, write: Callable[[], dict | None], *, log_lock: bool) -> tuple[bool, float]:
    """Commit one batch: ``write`` and the batch's entry in ``SyncRun.landed``, in one transaction.

    Returns (whether it was written now, seconds the transaction took). With ``log_lock`` the log's
    writer lock is taken first, so parallel batches queue for it before locking anything else.
    Lock wait timeouts and deadlocks roll the batch back and it is tried again.
    """
    for attempt in range(1, _LAND_ATTEMPTS + 1):
        started = time.perf_counter()
        try:
            with transaction.atomic():
                if log_lock:
                    log_head_lock(DEFAULT_DB_ALIAS)
                run = SyncRun.objects.select_for_update().get(pk=run_id)
                if key in run.landed:
                    return False, 0.0
                entry = write() or {}
                run.landed = {**run.landed, key: entry}
                run.batches = len(run.landed)
                run.save(update_fields=["landed", "batches"])
            return True, time.perf_counter() - started
        except OperationalError as exc:
            code = exc.args[0] if exc.args else None
            if code not in _RETRYABLE or attempt == _LAND_ATTEMPTS:
                raise
            logger.info("Batch %s of run %s waited too long for a lock; trying again", key, run_id)
    raise AssertionError("unreachable")


def _outcome(key: str, call: Callable[[], dict]) -> dict:
    """Run a batch and report it to the chord: failures are results, so the callback always runs
    and can name the batch that failed."""
    try:
        return {"key": key, "ok": True, **call()}
    except MagentoError as exc:
        logger.error("Sync batch %s failed: %s", key, exc)
        return {"key": key, "ok": False, "error": str(exc)}
    except Exception as exc:
        logger.exception("Sync batch %s failed unexpectedly", key)
        return {"key": key, "ok": False, "error": f"{type(exc).__name__}: {exc}"}


def _counts_entry(counts: dict[str, ApplyCounts]) -> dict[str, dict[str, int]]:
    return {surface: c.as_dict() for surface, c in counts.items()}


@shared_task(**TASK_OPTIONS)
def sync_fanout_media(run_id: int, plan: dict, key: str, paths: list[str]) -> dict:
    """Read, hash and examine one batch of media files (the slow part, outside any transaction),
    then record the batch as landed."""

    def work() -> dict:
        if _landed_already(run_id, key):
            return {"redone": True}
        source = configured_media_source()
        stats = MediaStats(configured=source is not None)
        if source is not None:
            try:
                media_inspect_files(files=paths, source=source, stats=stats, reread=plan["full"])
            except IntegrityError:  # the same batch, delivered twice, ran at the same time
                stats = MediaStats()
                media_inspect_files(files=paths, source=source, stats=stats, reread=plan["full"])
        _land(run_id, key, lambda: {"media": stats.as_dict()}, log_lock=False)
        return {}

    return _outcome(key, work)


def _stored_media(files: list[str], *, full: bool) -> dict[str, MediaResult]:
    """The media tasks' results for ``files``; a file they did not read (added to Magento since the
    run started) is read now."""
    rows = {row.path: row for row in MediaFile.objects.filter(path__in=files)}
    results = {
        path: MediaResult(_inspection_from_row(row), tuple(row.marks or ())) for path, row in rows.items()
    }
    missing = [path for path in files if path not in rows]
    source = configured_media_source() if missing else None
    if source is not None:
        stats = MediaStats()
        results.update(media_inspect_files(files=missing, source=source, stats=stats, reread=full))
    return results


@shared_task(**TASK_OPTIONS)
def sync_fanout_products(run_id: int, plan: dict, store_code: str, entity_ids: list[int]) -> dict:
    """One batch of one store view's products: their gallery images and recommendation lists."""
    key = f"{PRODUCTS}:{store_code}:{entity_ids[0]}-{entity_ids[-1]}"

    def work() -> dict:
        if _landed_already(run_id, key):
            return {"redone": True}
        seen_at = _parse(plan["seen_at"])
        since = _parse(plan["since"][store_code][PRODUCTS])
        with magento_reader() as reader:
            stores = reader.store_views([store_code])
            batches = list(reader.product_batches(stores, updated_since=since, entity_ids=entity_ids))
            queries = reader.source_stats().get("queries", 0)
        files = sorted({e.file for b in batches for e in b.gallery if e.file})
        media_results = _stored_media(files, full=plan["full"]) if plan["media"] else None
        observed = [obs for b in batches for obs in _observed_products(b, media_results)]
        covered = [i for b in batches for i in b.entity_ids]
        newest = None
        for b in batches:
            newest = _newer(newest, b.max_updated_at)
        rules = source_rules_active()

        def write() -> dict:
            counts = content_items_apply_batch(
                store_codes=[store_code],
                surfaces=PRODUCT_SURFACES,
                observed=observed,
                covered_ids=covered,
                seen_at=seen_at,
                rules=rules,
            )
            return {"counts": _counts_entry(counts), "newest": _iso(newest), "queries": queries}

        _, seconds = _land(run_id, key, write, log_lock=True)
        return {"seconds": round(seconds, 3)}

    return _outcome(key, work)


@shared_task(**TASK_OPTIONS)
def sync_fanout_cms(run_id: int, plan: dict, store_code: str, surface: str) -> dict:
    """One store view's CMS blocks or pages, each read batch committed on its own."""
    key = f"{surface}:{store_code}"

    def work() -> dict:
        seen_at = _parse(plan["seen_at"])
        since = _parse(plan["since"][store_code][surface])
        rules = source_rules_active()
        longest = 0.0
        with magento_reader() as reader:
            stores = reader.store_views([store_code])
            for ids, contents, batch_newest in reader.cms_batches(surface, stores, updated_since=since):
                batch_key = f"{key}:{ids[0]}-{ids[-1]}"
                observed = [_observed_cms(c) for c in contents]
                queries = reader.source_stats().get("queries", 0)

                def write(ids=ids, observed=observed, batch_newest=batch_newest, queries=queries) -> dict:
                    counts = content_items_apply_batch(
                        store_codes=[store_code],
                        surfaces=[surface],
                        observed=observed,
                        covered_ids=ids,
                        seen_at=seen_at,
                        rules=rules,
                    )
                    return {"counts": _counts_entry(counts), "newest": _iso(batch_newest), "queries": queries}

                _, seconds = _land(run_id, batch_key, write, log_lock=True)
                longest = max(longest, seconds)
        return {"seconds": round(longest, 3)}

    return _outcome(key, work)


# -- the chord callbacks ------------------------------------------------------------------


@shared_task(**TASK_OPTIONS)
def sync_fanout_registry(results: list[dict], run_id: int, plan: dict) -> None:
    """After the media chord: the registry chord, per store view and surface (or, when a media
    batch failed, the end of the run)."""
    if _failed(results):
        sync_fanout_finish.delay(results, run_id=run_id, plan=plan)
        return
    try:
        with magento_reader() as reader:
            ids = {
                code: reader.product_ids(updated_since=_parse(plan["since"][code][PRODUCTS]))
                for code in plan["stores"]
            }
    except MagentoError as exc:
        sync_fanout_finish.delay(
            [{"key": "products:plan", "ok": False, "error": str(exc)}], run_id=run_id, plan=plan
        )
        return
    size = settings.MAGENTO_WRITE_BATCH_SIZE
    tasks = [
        sync_fanout_products.si(run_id, plan, code, store_ids[start : start + size])
        for code, store_ids in ids.items()
        for start in range(0, len(store_ids), size)
    ]
    tasks += [
        sync_fanout_cms.si(run_id, plan, code, surface) for code in plan["stores"] for surface in CMS_SURFACES
    ]
    chord(tasks)(sync_fanout_finish.s(run_id=run_id, plan=plan))


def _failed(results: list[dict]) -> list[dict]:
    return [r for r in results or [] if not r.get("ok")]


@shared_task(**TASK_OPTIONS)
def sync_fanout_finish(results: list[dict], run_id: int, plan: dict) -> int:
    """End the run: on success removals and cursors per store view, the derivative walk and the
    summary; when a batch failed, the run is marked failed naming it. Releases the lock."""
    run = SyncRun.objects.get(pk=run_id)
    if run.status != SyncRun.Status.RUNNING:  # redone after it already finished
        sync_lock_release(holder=plan["holder"])
        return run.pk
    failed = _failed(results)
    try:
        if failed:
            first = failed[0]
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            run.error = (
                f"batch {first['key']} failed{more}: {first['error']}; {len(run.landed)} batch(es) landed "
                "and the cursors did not move, so the next run reads the rest again"
            )
            run.status = SyncRun.Status.FAILED
            logger.error("Magento sync %s failed: %s", run.pk, run.error)
        else:
            cursors = _finish_stores(run, plan)
            run.refresh_from_db()
            run.cursors = cursors
            source = configured_media_source() if plan["media"] else None
            derivative_stats = derivatives_check(store_codes=plan["stores"], source=source)
            run.media = {**_summary_media(run, plan, results), "derivatives": derivative_stats.as_dict()}
            run.status = SyncRun.Status.SUCCEEDED
    except MagentoError as exc:
        run.status = SyncRun.Status.FAILED
        run.error = str(exc)
        logger.error("Magento sync %s failed while finishing: %s", run.pk, exc)
    except Exception as exc:
        run.status = SyncRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        logger.exception("Magento sync %s failed unexpectedly while finishing", run.pk)
    finally:
        run.counts = _summary_counts(run)
        if run.status == SyncRun.Status.FAILED and not run.media:
            run.media = {}
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "counts", "cursors", "media", "batches"])
        sync_lock_release(holder=plan["holder"])
    return run.pk


def _finish_stores(run: SyncRun, plan: dict) -> dict[str, dict[str, str | None]]:
    """Per store view, in one transaction: mark removed what Magento no longer has and move the
    cursors to the newest change the landed batches read."""
    seen_at = _parse(plan["seen_at"])
    with magento_reader() as reader:
        live = {PRODUCTS: reader.product_ids()}
        live.update({surface: reader.cms_ids(surface) for surface in CMS_SURFACES})
        views = {s.code: s for s in reader.store_views(plan["stores"])}
    cursors: dict[str, dict[str, str | None]] = {}
    for code in plan["stores"]:
        store: StoreView = views[code]
        newest = _newest_per_group(run.landed, code)
        removed: dict[str, ApplyCounts] = {}
        key = f"finish:{code}"
        with transaction.atomic():
            log_head_lock(DEFAULT_DB_ALIAS)
            locked = SyncRun.objects.select_for_update().get(pk=run.pk)
            done = key in locked.landed  # a finish redone after a lost worker
            for group, surfaces in GROUPS.items():
                since = plan["since"][code][group]
                for surface in surfaces:
                    if done:
                        continue
                    removed[surface] = ApplyCounts(
                        removed=content_items_remove_missing(
                            store_code=code, surface=surface, live_ids=live[group], removed_at=seen_at
                        )
                    )
                _save_cursors([store], surfaces, newest.get(group), full=since is None, at=seen_at)
                for surface in surfaces:
                    value = newest.get(group)
                    cursors.setdefault(code, {})[surface] = value.isoformat() if value else None
            if not done:
                locked.landed = {**locked.landed, key: {"counts": _counts_entry(removed)}}
                locked.save(update_fields=["landed"])
    return cursors


def _newest_per_group(landed: dict, store_code: str) -> dict[str, datetime | None]:
    newest: dict[str, datetime | None] = {}
    for key, entry in landed.items():
        group, _, rest = key.partition(":")
        if rest.split(":", 1)[0] != store_code or group not in GROUPS:
            continue
        newest[group] = _newer(newest.get(group), _parse(entry.get("newest")))
    return newest


def _summary_counts(run: SyncRun) -> dict[str, dict[str, int]]:
    totals = {surface: ApplyCounts() for surface in SURFACES}
    for entry in (run.landed or {}).values():
        for surface, counts in (entry.get("counts") or {}).items():
            totals.setdefault(surface, ApplyCounts()).add(ApplyCounts(**counts))
    return {surface: c.as_dict() for surface, c in totals.items()}


def _summary_media(run: SyncRun, plan: dict, results: list[dict]) -> dict:
    stats = {"configured": plan["media"], "files_seen": 0, "files_read": 0, "bytes_read": 0, "problems": 0}
    seconds = 0.0
    queries = plan.get("queries", 0)
    for entry in run.landed.values():
        media = entry.get("media")
        if media:
            for name in ("files_seen", "files_read", "bytes_read", "problems"):
                stats[name] += int(media.get(name, 0))
            seconds += float(media.get("seconds", 0.0))
        queries += int(entry.get("queries", 0))
    longest = max((float(r.get("seconds", 0.0)) for r in results), default=0.0)
    return {
        **stats,
        "seconds": round(seconds, 3),
        "queries": queries,
        "engine": "mysql",
        "longest_batch_seconds": round(longest, 3),
        "fan_out": {"batches": len(run.landed), "tasks": len(results)},
    }


def _fail(run: SyncRun, error: str) -> None:
    run.status = SyncRun.Status.FAILED
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])


# -- helpers ------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
