import json

from django.core.management.base import BaseCommand, CommandError

from datasets.exports import fraud_exclusions, fraud_exclusions_csv
from datasets.integrity import RulesError
from datasets.services import DatasetError


class Command(BaseCommand):
    help = (
        "Export what payment fraud screening should exclude as synthetic test data: the order and "
        "customer identifiers of every version of the transactions datasets (or of --dataset), and the "
        "published test card numbers. CSV (formula-looking cells defused) or JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dataset", action="append", default=[], help="A dataset's name (repeat for several; any kind)."
        )
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--output", help="Write to this file instead of standard output.")

    def handle(self, *args, **options):
        try:
            export = fraud_exclusions(datasets=options["dataset"])
        except (DatasetError, RulesError) as exc:
            raise CommandError(str(exc)) from None
        if options["format"] == "json":
            text = json.dumps(export, indent=2, ensure_ascii=False) + "\n"
        else:
            text = fraud_exclusions_csv(export)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                out.write(text)
            self.stderr.write(
                f"{len(export['exclusions'])} exclusion(s) from {len(export['datasets'])} version(s) "
                f"written to {options['output']}"
            )
        else:
            self.stdout.write(text, ending="")
