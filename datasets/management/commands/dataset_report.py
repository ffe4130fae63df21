import json

from django.core.management.base import BaseCommand, CommandError

from datasets.models import DatasetVersion, Reference
from datasets.services import DatasetError, report_run
from datasets.tables import write_csv


class Command(BaseCommand):
    help = (
        "Run a report of a dataset version (by id) against its dataset's reference, or --reference: "
        "SDMetrics quality and diagnostic scores, exact copies of reference rows, DCR baseline protection, "
        "group shares of sensitive columns, the integrity rules of its kind. Without any reference, the "
        "integrity rules alone. Exits 1 when a threshold or a rule is breached."
    )

    def add_arguments(self, parser):
        parser.add_argument("id", type=int, help="The dataset version's id.")
        parser.add_argument("--reference", help="Name of another reference.")
        parser.add_argument(
            "--json", action="store_true", help="Print the report's scores and findings as JSON."
        )
        parser.add_argument("--bias-csv", help="Also write the group shares to this CSV file.")

    def handle(self, *args, **options):
        version = DatasetVersion.objects.select_related("dataset").filter(pk=options["id"]).first()
        if version is None:
            raise CommandError(f"no dataset version {options['id']}")
        reference = None
        if options["reference"]:
            reference = Reference.objects.filter(name=options["reference"]).first()
            if reference is None:
                raise CommandError(f"no reference named {options['reference']!r}")
        try:
            report = report_run(version=version, reference=reference)
        except DatasetError as exc:
            raise CommandError(f"{exc.code}: {exc}") from None
        if options["bias_csv"]:
            rows = [
                [column, g["group"], g["reference_share"], g["synthetic_share"], g["difference"], g["ratio"]]
                for column, bias in report.scores.get("bias", {}).items()
                for g in bias["groups"]
            ]
            header = ["column", "group", "reference_share", "synthetic_share", "difference", "ratio"]
            with open(options["bias_csv"], "w", encoding="utf-8", newline="") as out:
                out.write(write_csv(header, rows))
        if options["json"]:
            body = {
                "id": report.pk,
                "version_id": version.pk,
                "reference": report.reference.name if report.reference_id else None,
                "sdmetrics_version": report.sdmetrics_version,
                "scores": report.scores,
                "findings": report.findings,
            }
            self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))
        else:
            scores = report.scores
            if report.reference_id is None:
                rows = sum(rule.get("count", 0) for rule in scores.get("integrity", {}).values())
                self.stdout.write(
                    f"Report {report.pk} of {version}, integrity rules only (the dataset has no reference): "
                    f"{rows} row(s) break them"
                )
            else:
                self.stdout.write(
                    f"Report {report.pk} of {version} against {report.reference.name!r}: quality "
                    f"{scores['quality']['score']}, diagnostic {scores['diagnostic']['score']}, exact copies "
                    f"{scores['privacy']['exact_copies']['count']}, DCR baseline protection "
                    f"{scores['privacy']['dcr_baseline_protection']['score']}"
                )
            for finding in report.findings:
                self.stdout.write(f"  - {finding['message']}")
        if report.findings:
            raise SystemExit(1)
