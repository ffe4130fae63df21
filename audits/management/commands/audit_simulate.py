"""``python manage.py audit_simulate``: run the disclosure-coverage simulation now."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from audits.checks.simulation import simulation_run
from audits.models import SimulationCheck, SimulationRun
from magento_bridge.management.commands.magento_sync import ProgressBar


class Command(BaseCommand):
    help = (
        "Open the storefront pages of synthetic items (product pages from Magento's url_rewrite, CMS "
        "pages) in headless Chromium and check that every expected AI badge is present, visible in the "
        "viewport, has an accessible name and an explanation. Records a SimulationRun with a result per "
        "badge (screenshots of failures under PROVENANT_SIMULATION_DIR) and an audit-trail event. "
        "Exits non-zero when the run could not run; failing badges are its result, not an error, "
        "unless --fail-on-failures is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--store", metavar="CODE", help="only this store view (default: every one)")
        parser.add_argument(
            "--limit", type=int, metavar="N", help="open at most N pages (default PROVENANT_SIMULATION_LIMIT)"
        )
        parser.add_argument(
            "--base-url",
            metavar="URL",
            default="",
            help="storefront base URL to use instead of Magento's web/secure/base_url (best with --store)",
        )
        parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
        parser.add_argument(
            "--fail-on-failures", action="store_true", help="exit non-zero when any badge check fails"
        )

    def handle(self, *args, **options) -> None:
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        bar = None
        if not options["no_progress"]:
            progress = ProgressBar(getattr(self.stderr, "_out", sys.stderr))

            def bar(done: int, total: int) -> None:
                progress("pages", done, total)

        run = simulation_run(
            store_code=options["store"],
            limit=options["limit"],
            base_url=options["base_url"],
            triggered_by="command",
            progress=bar,
        )
        rate = "-" if run.pass_rate is None else f"{run.pass_rate}%"
        self.stdout.write(
            f"Simulation #{run.pk}: {run.get_status_display()}; {run.pages} page(s), {run.checks} badge(s) "
            f"checked, {run.passed} passed, {run.failed} failed (pass rate {rate})."
        )
        for check in SimulationCheck.objects.filter(run=run, passed=False).order_by("id")[:50]:
            what = check.file_path or check.ref
            self.stdout.write(
                f"  FAIL {check.store_code} {check.surface} {what}: {check.reason} <{check.url}>"
            )
        if run.failed > 50:
            self.stdout.write(f"  … and {run.failed - 50} more (see the admin)")
        if run.status == SimulationRun.Status.FAILED:
            raise CommandError(f"the simulation could not run: {run.error}")
        if options["fail_on_failures"] and run.failed:
            raise CommandError(f"{run.failed} badge check(s) failed")
