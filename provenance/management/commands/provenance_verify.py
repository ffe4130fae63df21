"""``python manage.py provenance_verify``: recompute the log and the registry; name what was tampered with."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from provenance.integrity import integrity_check


class Command(BaseCommand):
    help = (
        "Recompute the transparency log from its rows: every leaf hash from the entry bytes, indexes "
        "contiguous from 0, every stored Merkle hash, every checkpoint's signature (against every key the "
        "log ever used), root and consistency with the previous checkpoint; and every registry row "
        "against its latest log entry. Streams in chunks, so memory stays bounded. Exits 0 when all "
        "holds; otherwise prints one line per edited, deleted, inserted or reordered row and per forged "
        "checkpoint, and exits 1. Checks other apps register run too (the audit trail's hash chain and its "
        "anchors in the log)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--chunk-size", type=int, default=5000, help="rows read per query (default 5000)")
        parser.add_argument(
            "--max-findings",
            type=int,
            default=1000,
            help="findings listed before counting only (default 1000)",
        )
        parser.add_argument("--progress", action="store_true", help="report progress on stderr")

    def handle(self, *args, **options) -> None:
        if options["chunk_size"] < 1 or options["max_findings"] < 1:
            raise CommandError("--chunk-size and --max-findings must be positive")
        started = time.monotonic()
        report = integrity_check(
            chunk_size=options["chunk_size"],
            max_findings=options["max_findings"],
            progress=self._progress if options["progress"] else None,
        )
        seconds = time.monotonic() - started
        self.stdout.write(
            f"Checked {report.entries_checked:,} of {report.size:,} entries, "
            f"{report.hashes_checked:,} stored hashes, {report.checkpoints_checked:,} checkpoints and "
            f"{report.items_checked:,} registry rows in {seconds:.1f} s."
        )
        for name, count in report.extra_checked.items():
            self.stdout.write(f"Checked {count:,} {name}.")
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS("OK: the log, its checkpoints and the registry are consistent.")
            )
            return
        for finding in report.findings:
            self.stdout.write(f"FAIL {finding}")
        if report.omitted:
            self.stdout.write(f"FAIL … and {report.omitted:,} more findings not listed")
        total = len(report.findings) + report.omitted
        raise CommandError(f"verification failed: {total} finding{'s' if total != 1 else ''}")

    def _progress(self, phase: str, done: int, total: int) -> None:
        self.stderr.write(f"{phase}: {done:,}/{total:,}")
