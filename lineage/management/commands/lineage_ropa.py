"""``manage.py lineage_ropa``: the Record of Processing Activities (GDPR Art. 30) from the lineage."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from datasets.tables import write_csv
from lineage.ropa import ROPA_HEADER, ropa_rows


class Command(BaseCommand):
    help = (
        "Print the Record of Processing Activities (GDPR Art. 30(1)) from the data-protection "
        "inventory and the generators' processing locations: one row per source dataset and each "
        "training or hosting location of every generator it reaches in the lineage, with the legal "
        "basis, anonymisation, retention, DPIA, transfer mechanism and the transfer check's finding. "
        "CSV cells that a spreadsheet would run as a formula are defused."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format", choices=("csv", "json"), default="csv", help="csv (default, RFC 4180) or json."
        )
        parser.add_argument("--output", metavar="FILE", help="Write to FILE instead of standard output.")

    def handle(self, *args, **options):
        rows = ropa_rows()
        if options["format"] == "json":
            text = json.dumps(
                {"generated_at": timezone.now().isoformat(), "columns": ROPA_HEADER, "rows": rows}, indent=2
            )
            text += "\n"
        else:
            text = write_csv(ROPA_HEADER, ([row[c] for c in ROPA_HEADER] for row in rows))
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            self.stderr.write(f"{len(rows)} row(s) written to {options['output']}")
        else:
            self.stdout.write(text, ending="")
