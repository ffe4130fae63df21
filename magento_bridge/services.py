"""The sync: read Magento, feed the registry, record the run.

An incremental sync reads what changed since the per-store, per-surface cursors (``updated_at`` for
products, ``update_time`` for CMS content); a full sync reads everything and reconciles by content
hash, because Magento's timestamps miss mass updates, ``saveAttribute()`` calls and SQL imports.
Both detect removals by comparing Magento's live ids with the registry.

Each batch the source reads is applied in its own transaction, together with its log entries and
the run's counts, so the log's writer lock is held for one batch at a time and ingest waits
briefly instead of failing. Removals and the cursors are written only after the last batch, in a
final transaction. A run that stops part-way (Magento gone, the worker killed) leaves whole batches
only, its cursors unmoved: the next run reads those rows again, and applying an observation twice
changes nothing but ``last_seen_at``, so nothing is duplicated or lost.

After the product batches, in a step of its own, :func:`magento_bridge.derivatives.derivatives_check`
looks at what shoppers receive: Magento's cached derivatives of synthetic and suspected images.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from magento_bridge.connection import DatabaseUrl, parse_database_url
from magento_bridge.derivatives import derivatives_check
from magento_bridge.locks import sync_lock_acquire, sync_lock_release
from magento_bridge.media import (
    MediaInspection,
    MediaProblem,
    MediaSource,
    fetch_and_inspect,
    media_source_for,
)
from magento_bridge.models import MediaFile, SyncCursor, SyncRun
from magento_bridge.reader import MagentoError, MagentoReader, ProductBatch, StoreView, UnknownStoreError
from magento_bridge.records import (
    SURFACE_CMS_BLOCK,
    SURFACE_CMS_PAGE,
    SURFACE_PRODUCT_IMAGE,
    SURFACE_RECOMMENDATION,
    SURFACES,
    CmsContent,
    GalleryEntry,
    ProductLinkSet,
)
from magento_bridge.rest import MagentoRestReader
from magento_bridge.rest_client import MagentoRestClient, OAuthCredentials
from provenance.images import detector_key, image_evidence
from provenance.services import (
    ApplyCounts,
    ObservedItem,
    content_items_apply_batch,
    content_items_remove_missing,
    source_rules_active,
)
from provenance.standards.hashing import cms_content_sha256, link_list_sha256

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


class MagentoNotConfigured(MagentoError):
    """No Magento database is configured."""


# -- configuration ------------------------------------------------------------------------


def magento_database() -> DatabaseUrl:
    """The Magento database from settings (the ``magento`` alias)."""
    if not settings.MAGENTO_DATABASE_URL:
        raise MagentoNotConfigured(
            "MAGENTO_DATABASE_URL is not set: point it at the store's database (a read-only user)"
        )
    return parse_database_url(settings.MAGENTO_DATABASE_URL)


def magento_reader(db: DatabaseUrl | None = None) -> MagentoReader | MagentoRestReader:
    """The configured source: the MySQL reader, or the REST reader when ``MAGENTO_SOURCE=rest``
    (an explicit ``db`` always means MySQL)."""
    if db is None and settings.MAGENTO_SOURCE == "rest":
        return MagentoRestReader(magento_rest_client())
    return MagentoReader(
        db or magento_database(),
        prefix=settings.MAGENTO_TABLE_PREFIX,
        batch_size=settings.MAGENTO_BATCH_SIZE,
        retries=settings.MAGENTO_RETRIES,
        backoff=settings.MAGENTO_RETRY_BACKOFF,
        connect_timeout=settings.MAGENTO_CONNECT_TIMEOUT,
    )


def magento_rest_client() -> MagentoRestClient:
    """The REST client from settings (``MAGENTO_REST_*``)."""
    if not settings.MAGENTO_REST_BASE_URL:
        raise MagentoNotConfigured("MAGENTO_REST_BASE_URL is not set: point it at the store's base URL")
    oauth = None
    if settings.MAGENTO_REST_AUTH == "oauth":
        secrets = (
            settings.MAGENTO_REST_CONSUMER_KEY,
            settings.MAGENTO_REST_CONSUMER_SECRET,
            settings.MAGENTO_REST_ACCESS_TOKEN,
            settings.MAGENTO_REST_ACCESS_TOKEN_SECRET,
        )
        if all(secrets):
            oauth = OAuthCredentials(*secrets)
    return MagentoRestClient(
        settings.MAGENTO_REST_BASE_URL,
        auth=settings.MAGENTO_REST_AUTH,
        oauth=oauth,
        bearer_token=settings.MAGENTO_REST_ACCESS_TOKEN,
        page_size=settings.MAGENTO_REST_PAGE_SIZE,
        rate=settings.MAGENTO_REST_RATE,
        concurrency=settings.MAGENTO_REST_CONCURRENCY,
        timeout=settings.MAGENTO_REST_TIMEOUT,
        retries=settings.MAGENTO_RETRIES,
        backoff=settings.MAGENTO_RETRY_BACKOFF,
        max_retry_after=settings.MAGENTO_REST_MAX_RETRY_AFTER,
    )


def configured_media_source() -> MediaSource | None:
    return media_source_for(
        media_root=settings.MAGENTO_MEDIA_ROOT,
        media_base_url=settings.MAGENTO_MEDIA_BASE_URL,
        timeout=settings.MEDIA_HTTP_TIMEOUT,
    )


def _store_media_source(stores: Sequence[StoreView]) -> MediaSource | None:
    urls = [s.media_base_url for s in stores if s.media_base_url]
    return media_source_for(media_base_url=urls[0], timeout=settings.MEDIA_HTTP_TIMEOUT) if urls else None


# -- observations ---------------------------------------------------------------------------


def _observed_image(entry: GalleryEntry, media: MediaResult | None) -> ObservedItem:
    inspection = media.inspection if media is not None else None
    evidence = list(media.marks) if media is not None else []
    if inspection is None:
        problem_code, problem, digest = (
            "media_unavailable",
            "no media source configured (MAGENTO_MEDIA_ROOT or MAGENTO_MEDIA_BASE_URL)",
            "",
        )
    else:
        problem_code = inspection.problem.value if inspection.problem else ""
        problem = inspection.detail if inspection.problem else ""
        digest = inspection.sha256 or ""
    return ObservedItem(
        store_code=entry.store_code,
        surface=SURFACE_PRODUCT_IMAGE,
        magento_id=entry.entity_id,
        part_key=str(entry.value_id),
        sku=entry.sku,
        gallery_value_id=entry.value_id,
        file_path=entry.file,
        media_type=entry.media_type,
        video_url=entry.video_url,
        title=entry.product_name,
        label=entry.label,
        image_roles=list(entry.roles),
        position=entry.position,
        is_enabled=entry.product_enabled,
        is_visible=entry.product_visibility != 1,
        is_hidden=entry.hidden,
        content_sha256=digest,
        problem_code=problem_code,
        problem=problem,
        media_evidence=evidence,
        magento_updated_at=entry.updated_at,
    )


def _observed_links(links: ProductLinkSet) -> ObservedItem:
    return ObservedItem(
        store_code=links.store_code,
        surface=SURFACE_RECOMMENDATION,
        magento_id=links.entity_id,
        part_key=links.link_type,
        sku=links.sku,
        link_type=links.link_type,
        title=links.product_name,
        is_enabled=links.product_enabled,
        linked_skus=list(links.linked_skus),
        content_sha256=link_list_sha256(links.linked_skus),
        magento_updated_at=links.updated_at,
    )


def _observed_cms(content: CmsContent) -> ObservedItem:
    return ObservedItem(
        store_code=content.store_code,
        surface=content.surface,
        magento_id=content.content_id,
        identifier=content.identifier,
        title=content.title,
        is_enabled=content.is_active,
        all_stores=content.all_stores,
        content_sha256=cms_content_sha256(content.content),
        magento_updated_at=content.updated_at,
    )


# -- media ----------------------------------------------------------------------------------


@dataclass
class MediaStats:
    configured: bool = True
    files_seen: int = 0
    files_read: int = 0
    bytes_read: int = 0
    problems: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "configured": self.configured,
            "files_seen": self.files_seen,
            "files_read": self.files_read,
            "bytes_read": self.bytes_read,
            "problems": self.problems,
            "seconds": round(self.seconds, 3),
        }


def _inspection_from_row(row: MediaFile) -> MediaInspection:
    return MediaInspection(
        sha256=row.sha256 or None,
        size=row.size,
        format=row.format or None,
        width=row.width,
        height=row.height,
        problem=MediaProblem(row.problem_code) if row.problem_code else None,
        detail=row.problem,
    )


@dataclass(frozen=True)
class MediaResult:
    """What one read of a media file established: its inspection and the evidence of how it was
    made (C2PA, IPTC and fingerprint findings, see :func:`provenance.images.image_evidence`)."""

    inspection: MediaInspection
    marks: tuple[dict, ...] = ()


def _read_media(source: MediaSource, path: str) -> MediaResult:
    data, inspection = fetch_and_inspect(
        source, path, max_bytes=settings.MEDIA_MAX_BYTES, max_pixels=settings.MEDIA_MAX_PIXELS
    )
    if data is None:
        return MediaResult(inspection)
    return MediaResult(inspection, tuple(image_evidence(data)))


def _read_all(source: MediaSource, paths: list[str]) -> Iterator[MediaResult]:
    """Read and examine ``paths`` in order, ``MEDIA_WORKERS`` at a time: fetching, hashing and C2PA
    validation release the GIL, so a few threads overlap network waits and use more than one core.
    Only the reading runs in the threads; the registry is written by the caller."""
    workers = min(settings.MEDIA_WORKERS, len(paths))
    if workers <= 1:
        for path in paths:
            yield _read_media(source, path)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="media") as pool:
        yield from pool.map(lambda path: _read_media(source, path), paths)


def media_inspect_files(
    *, files: Iterable[str], source: MediaSource, stats: MediaStats, reread: bool
) -> dict[str, MediaResult]:
    """Hash, check and examine each file once, reusing the stored result while its fingerprint and
    the detector (its version and trust anchors) are unchanged.

    Without a cheap fingerprint (an HTTP media base without validators) a stored result is reused
    unless ``reread`` (a full sync) asks for the bytes again.
    """
    started = time.perf_counter()
    paths = sorted(set(files))
    known = {row.path: row for row in MediaFile.objects.filter(path__in=paths)}
    result: dict[str, MediaResult] = {}
    to_create: list[MediaFile] = []
    to_update: list[MediaFile] = []
    now = timezone.now()
    detector = detector_key()
    pending: list[tuple[str, str, MediaFile | None]] = []
    for path in paths:
        stats.files_seen += 1
        fingerprint = source.stat(path)
        # The stored marker names the file's version (when the source has one) and the detector.
        marker = (f"{fingerprint!r}|{detector}" if fingerprint is not None else f"|{detector}")[:200]
        row = known.get(path)
        fresh = row is not None and row.source == source.describe() and row.fingerprint == marker
        if fresh and (fingerprint is not None or not reread):
            result[path] = MediaResult(_inspection_from_row(row), tuple(row.marks or ()))
            stats.problems += bool(row.problem_code)
            continue
        pending.append((path, marker, row))
    for (path, marker, row), read in zip(pending, _read_all(source, [p for p, _, _ in pending]), strict=True):
        inspection = read.inspection
        stats.files_read += 1
        stats.bytes_read += inspection.size or 0
        stats.problems += inspection.problem is not None
        result[path] = read
        values = {
            "source": source.describe()[:255],
            "fingerprint": marker,
            "sha256": inspection.sha256 or "",
            "size": inspection.size,
            "format": inspection.format or "",
            "width": inspection.width,
            "height": inspection.height,
            "problem_code": inspection.problem.value if inspection.problem else "",
            "problem": (inspection.detail or "")[:500] if inspection.problem else "",
            "marks": list(read.marks),
            "inspected_at": now,
        }
        if row is None:
            to_create.append(MediaFile(path=path, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
            to_update.append(row)
    if to_create:
        MediaFile.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        MediaFile.objects.bulk_update(to_update, list(values), batch_size=200)
    stats.seconds += time.perf_counter() - started
    return result


# -- the run --------------------------------------------------------------------------------


@dataclass
class _RunState:
    run: SyncRun
    counts: dict[str, ApplyCounts] = field(default_factory=lambda: {s: ApplyCounts() for s in SURFACES})
    cursors: dict[str, dict[str, str | None]] = field(default_factory=dict)
    longest_batch_seconds: float = 0.0

    def counts_with(self, extra: dict[str, ApplyCounts]) -> dict[str, dict]:
        """The run's counts as stored, had ``extra`` been added."""
        result = {}
        for surface, counts in self.counts.items():
            total = ApplyCounts()
            total.add(counts)
            if surface in extra:
                total.add(extra[surface])
            result[surface] = total.as_dict()
        return result

    def commit_batch(self, counts: dict[str, ApplyCounts]) -> None:
        """Inside the batch's transaction: record on the run that this batch landed."""
        SyncRun.objects.filter(pk=self.run.pk).update(
            counts=self.counts_with(counts), batches=models.F("batches") + 1
        )

    def add(self, counts: dict[str, ApplyCounts]) -> None:
        """After the batch's transaction committed."""
        for surface, surface_counts in counts.items():
            self.counts[surface].add(surface_counts)
        self.run.batches += 1


def _cursor_map(stores: Sequence[StoreView]) -> dict[tuple[str, str], SyncCursor]:
    codes = [s.code for s in stores]
    return {(c.store_code, c.surface): c for c in SyncCursor.objects.filter(store_code__in=codes)}


def _since(
    cursors: dict[tuple[str, str], SyncCursor],
    stores: Sequence[StoreView],
    surfaces: Sequence[str],
    full: bool,
) -> datetime | None:
    """The oldest cursor over the stores and surfaces read together; None means read everything."""
    if full:
        return None
    values = []
    for store in stores:
        for surface in surfaces:
            cursor = cursors.get((store.code, surface))
            if cursor is None or cursor.updated_after is None:
                return None
            values.append(cursor.updated_after)
    return min(values) if values else None


def _save_cursors(
    stores: Sequence[StoreView], surfaces: Sequence[str], newest: datetime | None, *, full: bool, at: datetime
) -> None:
    for store in stores:
        for surface in surfaces:
            cursor, _ = SyncCursor.objects.get_or_create(store_code=store.code, surface=surface)
            fields = []
            if newest is not None and (cursor.updated_after is None or newest > cursor.updated_after):
                cursor.updated_after = newest
                fields.append("updated_after")
            if full:
                cursor.last_full_at = at
                fields.append("last_full_at")
            if fields:
                cursor.save(update_fields=fields)


def _newer(newest: datetime | None, candidate: datetime | None) -> datetime | None:
    return candidate if candidate and (newest is None or candidate > newest) else newest


def _batch_media(
    files: Iterable[str], media: MediaSource | None, media_stats: MediaStats, *, full: bool
) -> dict[str, MediaResult] | None:
    """What reading the batch's files established, by path; None without a media source."""
    if media is None:
        return None
    return media_inspect_files(files=files, source=media, stats=media_stats, reread=full)


def _observed_products(
    batch: ProductBatch, media_results: dict[str, MediaResult] | None
) -> list[ObservedItem]:
    """The batch's gallery images, each with its file's evidence, and its link sets."""
    images = [
        _observed_image(e, media_results.get(e.file) if media_results is not None else None)
        for e in batch.gallery
    ]
    return [*images, *(_observed_links(s) for s in batch.links)]


def _apply_batch(
    state: _RunState,
    stores: Sequence[StoreView],
    surfaces: Sequence[str],
    *,
    observed: list[ObservedItem],
    covered_ids: Sequence[int],
    seen_at: datetime,
    rules: list,
) -> None:
    """Hand one batch's observations to the registry in one transaction and add up the counts."""
    started = time.perf_counter()
    with transaction.atomic():
        counts = content_items_apply_batch(
            store_codes=[s.code for s in stores],
            surfaces=surfaces,
            observed=observed,
            covered_ids=covered_ids,
            seen_at=seen_at,
            rules=rules,
        )
        state.commit_batch(counts)
    # How long the transaction (and so the log's writer lock) was held: what ingest may wait.
    state.longest_batch_seconds = max(state.longest_batch_seconds, time.perf_counter() - started)
    state.add(counts)


def _write_batches(
    entity_ids: Sequence[int], observed: list[ObservedItem]
) -> Iterator[tuple[Sequence[int], list[ObservedItem]]]:
    """A read batch split into write batches of ``MAGENTO_WRITE_BATCH_SIZE`` products, each with
    its observations: each commits on its own, so the log's writer lock is held for a short time."""
    size = settings.MAGENTO_WRITE_BATCH_SIZE
    if len(entity_ids) <= size:
        yield entity_ids, observed
        return
    by_product: dict[int, list[ObservedItem]] = {}
    for obs in observed:
        by_product.setdefault(obs.magento_id, []).append(obs)
    for start in range(0, len(entity_ids), size):
        chunk = entity_ids[start : start + size]
        yield chunk, [obs for entity_id in chunk for obs in by_product.get(entity_id, ())]


def _finish_surfaces(
    state: _RunState,
    stores: Sequence[StoreView],
    surfaces: Sequence[str],
    *,
    live_ids: Iterable[int],
    newest: datetime | None,
    full: bool,
    seen_at: datetime,
) -> None:
    """After the last batch, in one transaction: mark removed what Magento no longer has, and move
    the cursors on (a run that stops before this point leaves them where they were)."""
    removed = {surface: ApplyCounts() for surface in surfaces}
    with transaction.atomic():
        for store in stores:
            for surface in surfaces:
                removed[surface].removed += content_items_remove_missing(
                    store_code=store.code, surface=surface, live_ids=live_ids, removed_at=seen_at
                )
        _save_cursors(stores, surfaces, newest, full=full, at=seen_at)
        SyncRun.objects.filter(pk=state.run.pk).update(counts=state.counts_with(removed))
    for surface, counts in removed.items():
        state.counts[surface].add(counts)
    for store in stores:
        for surface in surfaces:
            state.cursors.setdefault(store.code, {})[surface] = newest.isoformat() if newest else None


def _sync_products(
    reader: MagentoReader,
    stores: Sequence[StoreView],
    state: _RunState,
    *,
    full: bool,
    seen_at: datetime,
    rules: list,
    media: MediaSource | None,
    media_stats: MediaStats,
    progress: Progress | None,
) -> None:
    surfaces = (SURFACE_PRODUCT_IMAGE, SURFACE_RECOMMENDATION)
    since = _since(_cursor_map(stores), stores, surfaces, full)
    live_ids = reader.product_ids()
    total = len(live_ids)
    done = 0
    newest: datetime | None = None
    if progress:
        progress("products", 0, total)
    for batch in reader.product_batches(stores, updated_since=since):
        media_results = _batch_media([e.file for e in batch.gallery if e.file], media, media_stats, full=full)
        observed = _observed_products(batch, media_results)
        for covered_ids, part in _write_batches(batch.entity_ids, observed):
            _apply_batch(
                state, stores, surfaces, observed=part, covered_ids=covered_ids, seen_at=seen_at, rules=rules
            )
        newest = _newer(newest, batch.max_updated_at)
        done += len(batch.entity_ids)
        if progress:
            progress("products", min(done, total) if since is None else done, total if since is None else 0)
    _finish_surfaces(
        state, stores, surfaces, live_ids=live_ids, newest=newest, full=since is None, seen_at=seen_at
    )


def _sync_cms(
    reader: MagentoReader,
    surface: str,
    stores: Sequence[StoreView],
    state: _RunState,
    *,
    full: bool,
    seen_at: datetime,
    rules: list,
    progress: Progress | None,
) -> None:
    since = _since(_cursor_map(stores), stores, [surface], full)
    live_ids = reader.cms_ids(surface)
    newest: datetime | None = None
    done = 0
    for ids, contents, batch_newest in reader.cms_batches(surface, stores, updated_since=since):
        _apply_batch(
            state,
            stores,
            [surface],
            observed=[_observed_cms(c) for c in contents],
            covered_ids=ids,
            seen_at=seen_at,
            rules=rules,
        )
        newest = _newer(newest, batch_newest)
        done += len(ids)
        if progress:
            progress(surface, done, len(live_ids) if since is None else 0)
    _finish_surfaces(
        state, stores, [surface], live_ids=live_ids, newest=newest, full=since is None, seen_at=seen_at
    )


def sync_run(
    *,
    store_code: str | None = None,
    full: bool = False,
    triggered_by: str = "",
    progress: Progress | None = None,
    db: DatabaseUrl | None = None,
    media: MediaSource | None | bool = True,
) -> SyncRun:
    """Sync one store view (``store_code``) or all of them, and return the recorded run.

    The run is recorded whatever happens: on success with its counts, on failure with the reason
    and the counts of the batches that committed before it (``batches``; see the module's
    docstring for what a stopped run leaves). Raises
    :class:`~magento_bridge.locks.SyncAlreadyRunning` without recording a run when another sync holds
    the lock, and :class:`~magento_bridge.reader.UnknownStoreError` without recording a run for a
    store code Magento does not have. ``media=True`` uses the configured media
    source; pass a source, or ``None`` to skip reading media. The lock is released whatever happens,
    also when recording the run itself fails.
    """
    holder = sync_lock_acquire()
    try:
        if store_code:
            _store_code_check(store_code, db)
        return _sync_run_holding_lock(
            store_code=store_code, full=full, triggered_by=triggered_by, progress=progress, db=db, media=media
        )
    finally:
        sync_lock_release(holder=holder)


def _store_code_check(store_code: str, db: DatabaseUrl | None) -> None:
    """Raise :class:`UnknownStoreError` for a store code Magento does not have, before any run is
    recorded: a typo is a usage error, not a failed sync. Magento being unreachable is left to the
    run, which records it."""
    try:
        with magento_reader(db) as reader:
            reader.store_views([store_code])
    except UnknownStoreError:
        raise
    except MagentoError:
        return


def _sync_run_holding_lock(
    *,
    store_code: str | None,
    full: bool,
    triggered_by: str,
    progress: Progress | None,
    db: DatabaseUrl | None,
    media: MediaSource | None | bool,
) -> SyncRun:
    run = SyncRun.objects.create(
        source="mysql" if db is not None else settings.MAGENTO_SOURCE,
        store_code=store_code or "",
        mode=SyncRun.Mode.FULL if full else SyncRun.Mode.INCREMENTAL,
        triggered_by=triggered_by[:150],
    )
    media_source = configured_media_source() if media is True else (media or None)
    media_stats = MediaStats(configured=media_source is not None)
    state = _RunState(run=run)
    reader: MagentoReader | MagentoRestReader | None = None
    try:
        with magento_reader(db) as reader:
            codes = [store_code] if store_code else (settings.MAGENTO_STORES or None)
            stores = reader.store_views(codes)
            if media is True and media_source is None and isinstance(reader, MagentoRestReader):
                # Without database access there is often no pub/media mount either: read the
                # bytes from the media URL Magento reports for the store view.
                media_source = _store_media_source(stores)
                media_stats.configured = media_source is not None
            seen_at = timezone.now()
            rules = source_rules_active()
            _sync_products(
                reader,
                stores,
                state,
                full=full,
                seen_at=seen_at,
                rules=rules,
                media=media_source,
                media_stats=media_stats,
                progress=progress,
            )
            # Its own step, after every product batch committed: derivative checks never hold
            # the log's writer lock.
            derivative_stats = derivatives_check(store_codes=[s.code for s in stores], source=media_source)
            for surface in (SURFACE_CMS_BLOCK, SURFACE_CMS_PAGE):
                _sync_cms(
                    reader,
                    surface,
                    stores,
                    state,
                    full=full,
                    seen_at=seen_at,
                    rules=rules,
                    progress=progress,
                )
            run.status = SyncRun.Status.SUCCEEDED
            run.media = {
                **media_stats.as_dict(),
                **reader.source_stats(),
                "longest_batch_seconds": round(state.longest_batch_seconds, 3),
                "derivatives": derivative_stats.as_dict(),
            }
    except MagentoError as exc:
        run.status = SyncRun.Status.FAILED
        run.error = str(exc)
        logger.error("Magento sync failed after %d committed batch(es): %s", run.batches, exc)
    except Exception as exc:
        run.status = SyncRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        logger.exception("Magento sync failed unexpectedly")
        raise
    finally:
        run.finished_at = timezone.now()
        run.counts = {surface: c.as_dict() for surface, c in state.counts.items()}
        run.cursors = state.cursors
        if not run.media:
            run.media = media_stats.as_dict() if run.status == SyncRun.Status.SUCCEEDED else {}
            if reader is not None:  # what the source did before failing (requests, retries)
                run.media.update(reader.source_stats())
        run.save(update_fields=["status", "error", "finished_at", "counts", "cursors", "media", "batches"])
    return run
