"""``manage.py transfer_check``: GDPR Chapter V findings on the lineage; exit 1 when there are any."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from lineage.transfers import adequacy_list, transfer_check


class Command(BaseCommand):
    help = (
        "Find every lineage path on which EU personal or health data not assessed anonymous reaches a "
        "generator processed outside the EEA without a valid transfer mechanism (adequacy decision, "
        "SCCs with a module, BCRs, an Art. 49 derogation). Each finding lists the downstream content "
        "items. Exits 1 when there are findings."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the findings as JSON.")

    def handle(self, *args, **options):
        findings = transfer_check()
        adequacy = adequacy_list()
        if options["json"]:
            body = {
                "adequacy_list": {"as_of": adequacy.as_of, "source": adequacy.source},
                "findings": [finding.as_dict() for finding in findings],
            }
            self.stdout.write(json.dumps(body, indent=2))
        else:
            for finding in findings:
                where = f"{finding.generator_label} ({finding.location})"
                self.stdout.write(f"{finding.source_label} → {where}: {finding.problem}")
                self.stdout.write(f"  path: {' → '.join(finding.path)}")
                self.stdout.write(f"  downstream items: {len(finding.items)} {' '.join(finding.items[:20])}")
            self.stdout.write(f"adequacy list as of {adequacy.as_of} ({adequacy.source})")
        if findings:
            raise CommandError(f"{len(findings)} transfer finding(s)", returncode=1)
        if not options["json"]:
            self.stdout.write("no transfer findings")
