import json

from django.core.management.base import BaseCommand, CommandError

from datasets.models import DatasetKind, Report
from datasets.services import DatasetError, dataset_register


class Command(BaseCommand):
    help = (
        "Register a synthetic dataset file (CSV, JSON Lines or Parquet) as the next version of a dataset: "
        "stored by SHA-256, logged in the transparency log. Registering the same file again is a no-op. "
        "With --reference (or a reference named before), the file's columns must all be in the reference and "
        "a report runs as a task after registration."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The dataset file.")
        parser.add_argument("--name", required=True, help="The dataset's name.")
        parser.add_argument("--kind", required=True, choices=DatasetKind.values)
        parser.add_argument("--generator", required=True, help="Name of a registered generator.")
        parser.add_argument(
            "--generator-version", default="", help="Default: the generator's current version."
        )
        parser.add_argument(
            "--format", choices=["csv", "jsonl", "parquet"], help="Default: from the extension."
        )
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            metavar="COLUMN=ROLE",
            help="A column's role: identifier, quasi_identifier, sensitive, target, datetime, categorical, "
            "numerical. Repeat for several; others are inferred.",
        )
        parser.add_argument("--reference", help="Name of a reference (see dataset_reference).")
        parser.add_argument("--record", type=int, help="Id of the generation record that made the file.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options):
        roles = {}
        for item in options["role"]:
            column, sep, role = item.partition("=")
            if not sep:
                raise CommandError(f"--role {item!r}: write COLUMN=ROLE")
            roles[column] = role
        try:
            with open(options["path"], "rb") as stream:
                result = dataset_register(
                    stream=stream,
                    filename=options["path"],
                    name=options["name"],
                    kind=options["kind"],
                    generator=options["generator"],
                    generator_version=options["generator_version"],
                    fmt=options["format"],
                    roles=roles or None,
                    reference=options["reference"],
                    generation_record_id=options["record"],
                    actor="cli",
                )
        except OSError as exc:
            raise CommandError(f"cannot read {options['path']}: {exc.strerror}") from None
        except DatasetError as exc:
            raise CommandError(f"{exc.code}: {exc}") from None
        version = result.version
        # the report runs as a task after registration: done by now without a broker, queued with one
        report = Report.objects.filter(version=version).order_by("-created_at", "-id").first()
        out = {
            "dataset": version.dataset.name,
            "version": version.number,
            "version_id": version.pk,
            "sha256": version.sha256,
            "rows": version.row_count,
            "log_index": version.log_index,
            "created": result.created,
            "report_id": report.pk if report else None,
            "findings": report.findings if report else None,
        }
        if options["json"]:
            self.stdout.write(json.dumps(out, indent=2))
            return
        verb = "Registered" if result.created else "Already registered:"
        self.stdout.write(
            f"{verb} {version} (id {version.pk}, {version.row_count} rows, SHA-256 {version.sha256}, "
            f"log index {version.log_index})"
        )
        if report is None:
            self.stdout.write("Report queued (see the dataset's page in the admin).")
        if report:
            self.stdout.write(f"Report {report.pk}: {len(report.findings)} finding(s)")
            for finding in report.findings:
                self.stdout.write(f"  - {finding['message']}")
