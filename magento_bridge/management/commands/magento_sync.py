"""``python manage.py magento_sync``: sync the registry with Magento now."""

from __future__ import annotations

import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from magento_bridge.fanout import sync_fan_out
from magento_bridge.locks import SyncAlreadyRunning, SyncLockHeld, sync_lock_break
from magento_bridge.models import SyncRun
from magento_bridge.reader import UnknownStoreError
from magento_bridge.services import sync_run
from provenance.models import Surface


class ProgressBar:
    """A one-line progress bar on a terminal; a line every few seconds otherwise."""

    def __init__(self, stream, *, width: int = 30, interval: float = 5.0) -> None:
        self.stream = stream
        self.width = width
        self.interval = interval
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last = 0.0
        self._phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = total and done >= total
        if phase != self._phase:
            if self._phase and self.tty:
                self.stream.write("\n")
            self._phase = phase
            self._last = 0.0
        if not self.tty and not finished and now - self._last < self.interval:
            return
        self._last = now
        if total:
            filled = int(self.width * done / total)
            bar = "#" * filled + "-" * (self.width - filled)
            line = f"{phase:<15} [{bar}] {done:>9,}/{total:,}"
        else:
            line = f"{phase:<15} {done:>9,} changed"
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._phase:
            self.stream.write("\n")
            self.stream.flush()


# The database engines a Magento schema is read from, as the summary names them.
_ENGINES = {"mysql": "MySQL/MariaDB", "sqlite": "SQLite"}


class Command(BaseCommand):
    help = (
        "Sync the registry with the Magento store: read product images, CMS blocks and pages and "
        "product recommendations of every store view (or one), record additions, changes and removals. "
        "Incremental by default (what changed since the last run); --full reconciles everything by "
        "content hash. Reads the source MAGENTO_SOURCE names: the database (mysql) or the REST API "
        "(rest). Exits non-zero when the run fails."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--store", metavar="CODE", help="sync only this store view (default: all active)")
        parser.add_argument(
            "--full", action="store_true", help="read everything and reconcile by content hash"
        )
        parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
        parser.add_argument(
            "--fan-out",
            action="store_true",
            help="split the run into Celery tasks per store view, surface and batch of media files "
            "(database source only); with CELERY_BROKER_URL set the workers run them and this command "
            "waits for the run to finish, without a broker they run here",
        )
        parser.add_argument(
            "--break-lock",
            action="store_true",
            help="break the sync lock of a worker that is gone (refused while its process runs on this "
            "host), mark the runs it left running as failed, and exit without syncing",
        )

    def handle(self, *args, **options) -> None:
        if options["break_lock"]:
            self._break_lock()
            return
        # The raw stream: OutputWrapper would end every carriage-return update with a newline.
        bar = None if options["no_progress"] else ProgressBar(getattr(self.stderr, "_out", sys.stderr))
        try:
            if options["fan_out"]:
                run = self._fan_out(store_code=options["store"], full=options["full"])
            else:
                run = sync_run(
                    store_code=options["store"],
                    full=options["full"],
                    triggered_by="command",
                    progress=bar,
                )
        except SyncAlreadyRunning as exc:
            raise CommandError(str(exc)) from None
        except UnknownStoreError as exc:
            raise CommandError(f"{exc}; nothing was synced", returncode=2) from None
        finally:
            if bar:
                bar.close()
        self._summary(run)
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"sync failed: {run.error}")

    def _fan_out(self, *, store_code: str | None, full: bool) -> SyncRun:
        if settings.MAGENTO_SOURCE != "mysql":
            raise CommandError("--fan-out reads the database source: it needs MAGENTO_SOURCE=mysql")
        run = sync_fan_out(store_code=store_code, full=full, triggered_by="command")
        while run.status == SyncRun.Status.RUNNING:
            time.sleep(1.0)
            run.refresh_from_db()
        return run

    def _break_lock(self) -> None:
        try:
            broken = sync_lock_break()
        except SyncLockHeld as exc:
            raise CommandError(f"{exc}; stop it first (or wait for it to finish)") from None
        if broken is None:
            self.stdout.write("No sync lock is held: nothing to break.")
        else:
            self.stdout.write(
                f"Broke the sync lock held by {broken.holder} since "
                f"{broken.acquired_at:%Y-%m-%d %H:%M:%S %Z}; runs it left running are marked failed."
            )

    def _summary(self, run: SyncRun) -> None:
        out = self.stdout
        scope = run.store_code or "all store views"
        duration = run.duration_seconds or 0.0
        out.write(f"{run.get_mode_display()} sync of {scope}: {run.status} in {duration:.1f}s")
        header = f"{'surface':<16}{'added':>9}{'changed':>9}{'removed':>9}{'unchanged':>11}{'problems':>10}"
        out.write(header)
        out.write("-" * len(header))
        for surface, label in Surface.choices:
            c = (run.counts or {}).get(surface, {})
            out.write(
                f"{label:<16}{c.get('added', 0):>9,}{c.get('changed', 0):>9,}{c.get('removed', 0):>9,}"
                f"{c.get('unchanged', 0):>11,}{c.get('failed', 0):>10,}"
            )
        media = run.media or {}
        rest = media.get("rest")
        if rest:
            out.write(
                f"source: REST API, {rest.get('requests', 0):,} requests "
                f"({rest.get('retries', 0):,} retried, {rest.get('throttled', 0):,} throttled)"
            )
            for warning in rest.get("warnings") or []:
                out.write(f"warning: {warning}")
        elif "queries" in media:
            engine = _ENGINES.get(media.get("engine", "mysql"), media.get("engine"))
            out.write(f"source: {engine}, {media['queries']:,} queries")
        if media.get("configured") is False:
            out.write("media: not configured (set MAGENTO_MEDIA_ROOT or MAGENTO_MEDIA_BASE_URL)")
        elif media:
            out.write(
                f"media: {media.get('files_seen', 0):,} files, {media.get('files_read', 0):,} read "
                f"({media.get('bytes_read', 0):,} bytes) in {media.get('seconds', 0)}s, "
                f"{media.get('problems', 0):,} with problems"
            )
        derivatives = media.get("derivatives") or {}
        if derivatives.get("enabled") and derivatives.get("discoverable"):
            out.write(
                f"derivatives: {derivatives.get('found', 0):,} found for {derivatives.get('images', 0):,} "
                f"synthetic or suspected images, {derivatives.get('inspected', 0):,} inspected, "
                f"{derivatives.get('problems', 0):,} with problems, "
                f"{derivatives.get('without_marks', 0):,} of synthetic images carry no mark"
            )
        elif derivatives:
            out.write(f"derivatives: not checked ({derivatives.get('reason', '')})")
