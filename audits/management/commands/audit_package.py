"""``python manage.py audit_package --out FILE.zip [--store CODE] [--since DATE]``."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from audits.models import AuditPackage
from audits.packages.build import (
    AuditPackageError,
    audit_package_run,
    package_scope_check,
    package_store_code,
)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date like 2026-07-01, got {value!r}") from None


class Command(BaseCommand):
    help = (
        "Build an audit package now: a ZIP with index.html, manifest.json, model cards, the data-flow "
        "diagram, the risk classification matrix, the Annex IV coverage table, the incident and disclosure "
        "registers, provenance evidence (signed checkpoint, verifier keys, log entries with inclusion "
        "proofs, "
        "a consistency proof from the previous package) and verify.py, which checks it all offline. "
        "The package is recorded with its SHA-256 and logged in the transparency log."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, metavar="FILE.zip", help="where to write the package ZIP")
        parser.add_argument(
            "--store", default="", metavar="CODE", help="only this store view (default: every store view)"
        )
        parser.add_argument(
            "--since",
            type=_date,
            metavar="DATE",
            help="only registry items changed and log entries appended on or after DATE (YYYY-MM-DD)",
        )
        parser.add_argument(
            "--allow-empty",
            action="store_true",
            help="build the package even when no registry item is in scope (it is then stamped EMPTY); "
            "without it an empty scope is refused",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress output")

    def handle(self, *args, **options):
        out = options["out"]
        if not out.endswith(".zip"):
            raise CommandError(f"--out must name a .zip file, got {out!r}")
        try:
            store_code = package_store_code(options["store"])
            package_scope_check(
                store_code=store_code, since=options["since"], allow_empty=options["allow_empty"]
            )
        except AuditPackageError as exc:
            raise CommandError(str(exc), returncode=2) from None
        package = AuditPackage.objects.create(
            requested_via="command",
            store_code=store_code,
            since=options["since"],
            allow_empty=options["allow_empty"],
        )
        progress = None
        if not options["quiet"]:

            def progress(percent: int, note: str) -> None:
                self.stderr.write(f"[{percent:3d}%] {note}")
                sys.stderr.flush()

        try:
            package = audit_package_run(package_id=package.pk, out=out, progress=progress)
        except AuditPackageError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit package #{package.pk} written to {package.file_path}: {package.size} bytes, "
                f"SHA-256 {package.sha256}; {package.item_count} registry items, {package.entry_count} log "
                f"entries proven against checkpoint size {package.checkpoint_size}; logged as entry "
                f"{package.log_index}. Verify it with: python verify.py (inside the unpacked ZIP)"
            )
        )
        if not package.item_count:
            self.stdout.write(self.style.WARNING("EMPTY package: no registry item was in its scope."))
