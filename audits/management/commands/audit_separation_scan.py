"""``python manage.py audit_separation_scan``: scan for synthetic/real separation findings now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audits.checks.separation import separation_scan
from audits.models import SeparationScan


class Command(BaseCommand):
    help = (
        "Read-only scan of Magento's customer_entity, quote, sales_order and sales_order_payment tables "
        "for test records (the active separation markers: e-mail domains, name patterns, payment methods), "
        "and of generation records whose generator declares production patient data. Findings (personal "
        "data masked) are listed in the admin; the scan is recorded in the audit trail. Exits non-zero "
        "when the scan could not run, or with --fail-on-findings when anything was found."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--fail-on-findings", action="store_true", help="exit non-zero when the scan finds anything"
        )

    def handle(self, *args, **options) -> None:
        scan = separation_scan(triggered_by="command")
        self.stdout.write(
            f"Separation scan #{scan.pk}: {scan.get_status_display()}; {scan.rows_scanned} Magento row(s) "
            f"scanned, {scan.findings_count} finding(s)."
        )
        for key, value in sorted(scan.counts.items()):
            self.stdout.write(f"  {key}: {value}")
        if scan.status == SeparationScan.Status.FAILED:
            raise CommandError(f"the scan could not run: {scan.error}")
        if options["fail_on_findings"] and scan.findings_count:
            raise CommandError(f"{scan.findings_count} separation finding(s)")
