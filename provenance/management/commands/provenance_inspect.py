"""``python manage.py provenance_inspect PATH... [--json]``: every provenance layer of image files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from provenance.marks import ImageInspectError, inspect_image


class Command(BaseCommand):
    help = (
        "Report, for each image file, every provenance layer it carries: the C2PA validation state and "
        "summary, the IPTC DigitalSourceType in XMP and other metadata findings, the watermark's short id "
        "and the generation record it resolves to, and the nearest registered ISCC Image-Code (record, "
        "distance). Nothing is stored. Exits 1 when a file cannot be read or is not an image."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="image files to inspect")
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object per file, one a line (the API's keys)"
        )

    def handle(self, *args, **options) -> None:
        failed = 0
        for name in options["paths"]:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                failed += 1
                self._problem(options, name, "unreadable_file", f"cannot read {name}: {exc.strerror}")
                continue
            try:
                report = {"path": name, "sha256": hashlib.sha256(data).hexdigest(), **inspect_image(data)}
            except ImageInspectError as exc:
                failed += 1
                self._problem(options, name, exc.code, f"{name}: {exc}")
                continue
            if options["json"]:
                self.stdout.write(json.dumps(report, sort_keys=True))
            else:
                self._describe(report)
        if failed:
            raise CommandError(f"{failed} of {len(options['paths'])} files could not be inspected")

    def _problem(self, options: dict, name: str, code: str, message: str) -> None:
        if options["json"]:
            self.stdout.write(json.dumps({"path": name, "error": {"code": code, "message": message}}))
        else:
            self.stderr.write(message)

    def _describe(self, report: dict) -> None:
        write = self.stdout.write
        write(self.style.MIGRATE_HEADING(f"{report['path']}"))
        write(f"  {report['format']} {report['width']}x{report['height']}, SHA-256 {report['sha256']}")
        c2pa = report["c2pa"]
        write(f"  C2PA: {c2pa['state'] if c2pa else 'none'}")
        write(f"  XMP DigitalSourceType: {report['xmp_digital_source_type'] or 'none'}")
        watermark = report["watermark"]
        if watermark["found"]:
            record = watermark["record"]
            target = f"record {record['record_id']} ({record['generator']})" if record else watermark["note"]
            write(f"  Watermark: {watermark['short_id']} -> {target}")
        else:
            write(f"  Watermark: none{' (' + watermark['note'] + ')' if watermark['note'] else ''}")
        fingerprint = report["fingerprint"]
        match = fingerprint["match"]
        if match:
            write(
                f"  Fingerprint: {fingerprint['iscc']} matches record {match['record']['record_id']} "
                f"at distance {match['distance']} (threshold {match['threshold']})"
            )
        else:
            write(f"  Fingerprint: {fingerprint['iscc']}, no registered match")
        provenance = report["provenance"]
        if provenance:
            write(f"  Provenance: record {provenance['record_id']} via {provenance['via']}")
        else:
            write("  Provenance: unknown")
