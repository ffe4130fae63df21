from django.core.management.base import BaseCommand, CommandError

from datasets.services import DatasetError, reference_create


class Command(BaseCommand):
    help = (
        "Name reference data that synthetic datasets are compared with. It stays where it is: a file on "
        "this host, or a single read-only SELECT on a database (run in a read-only transaction per report). "
        "Reports keep scores and aggregates only, never reference rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", help="A CSV, JSON Lines or Parquet file.")
        source.add_argument("--database-url", help="sqlite:///PATH or mysql://USER:PASSWORD@HOST:PORT/DB")
        parser.add_argument("--query", default="", help="With --database-url: one SELECT statement.")

    def handle(self, *args, **options):
        if options["database_url"] and not options["query"]:
            raise CommandError("--database-url needs --query")
        try:
            reference = reference_create(
                name=options["name"],
                file_path=options["file"] or "",
                database_url=options["database_url"] or "",
                query=options["query"],
            )
        except DatasetError as exc:
            raise CommandError(f"{exc.code}: {exc}") from None
        self.stdout.write(f"Reference {reference.name!r} ({reference.get_source_display()}) saved.")
