from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from datasets.demo import DEMO_TABLES
from datasets.models import Report
from datasets.services import DatasetError, dataset_register, reference_create
from provenance.models import Generator

GENERATOR = "Demo tabular synthesiser"


class Command(BaseCommand):
    help = (
        "Register the demo datasets (fictional, deterministic, a few hundred rows each) against fictional "
        "references written next to them: patients copying reference rows, patients with an older age "
        "distribution, appointments with double-booked clinicians, transactions with a real-looking card "
        "number; each gets its report. Running it again registers nothing new. Refuses to run unless "
        "PROVENANT_DEBUG is on."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            default=None,
            help="Where to write the demo CSV files (default: <PROVENANT_VAR_DIR>/demo-datasets).",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("refusing to register demo datasets outside PROVENANT_DEBUG=1")
        folder = Path(options["dir"] or Path(settings.VAR_DIR) / "demo-datasets")
        folder.mkdir(parents=True, exist_ok=True)
        Generator.objects.get_or_create(
            name=GENERATOR,
            defaults={
                "provider": "Provenant demo",
                "version": "1.0",
                "intended_use": "Fictional tabular test data for the Provenant demo.",
            },
        )
        written: set[str] = set()
        for name, (kind, reference, make_reference, make_synthetic, roles) in DEMO_TABLES.items():
            if reference not in written:
                path = folder / f"{reference}.csv"
                make_reference().to_csv(path, index=False)
                reference_create(name=reference, file_path=str(path))
                written.add(reference)
            path = folder / f"{name}.csv"
            make_synthetic().to_csv(path, index=False)
            try:
                with open(path, "rb") as stream:
                    result = dataset_register(
                        stream=stream,
                        filename=str(path),
                        name=name,
                        kind=kind,
                        generator=GENERATOR,
                        roles=roles,
                        reference=reference,
                        actor="demo",
                    )
            except DatasetError as exc:
                raise CommandError(f"{name}: {exc.code}: {exc}") from None
            report = Report.objects.filter(version=result.version).order_by("-created_at", "-id").first()
            state = "registered" if result.created else "already registered"
            findings = "report queued" if report is None else f"{len(report.findings)} finding(s)"
            self.stdout.write(f"{name}: {state} as {result.version} against {reference!r}, {findings}")
