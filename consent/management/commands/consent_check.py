"""``manage.py consent_check``: findings on the profiling declarations; exit 1 when there are any."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from consent.selectors import consent_check


class Command(BaseCommand):
    help = (
        "List recommendation surfaces that profile shoppers but declare no consent purpose "
        "(no_purpose: the storefront cannot ask for or check consent), or declare nothing about the "
        "behavioural data their model was trained on (training_data_unknown). Exits 1 when there "
        "are findings."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the findings as JSON.")

    def handle(self, *args, **options):
        findings = consent_check()
        if options["json"]:
            self.stdout.write(json.dumps({"findings": [f.as_dict() for f in findings]}, indent=2))
        else:
            for finding in findings:
                self.stdout.write(
                    f"{finding.store_code}/{finding.placement} [{finding.code}]: {finding.message}"
                )
        if findings:
            raise CommandError(f"{len(findings)} consent finding(s)", returncode=1)
        if not options["json"]:
            self.stdout.write("no consent findings")
