"""Build the deterministic demo healthcare store in a Magento 2.4 schema (see magento_bridge.demo)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from magento_bridge.connection import (
    DatabaseUrl,
    DatabaseUrlError,
    database_url_from_django,
    parse_database_url,
)
from magento_bridge.demo import MIN_PRODUCTS, DemoStoreError, DemoSummary, build_demo_store
from magento_bridge.records import SURFACES
from provenance.images import SigningUnavailable, signing_credentials


class Command(BaseCommand):
    help = (
        "Build a fictional healthcare store (products, galleries, videos, links, CMS blocks and pages, "
        "URL rewrites, gallery files) in the Magento 2.4 schema. The Magento tables in the target "
        "database are dropped and recreated. The same --seed always gives the same rows and files. "
        "Prints how many items per store view and surface a correct reader must find."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--products",
            type=int,
            default=200,
            metavar="N",
            help=f"How many products to create (at least {MIN_PRODUCTS}; default 200).",
        )
        parser.add_argument(
            "--database",
            metavar="ALIAS_OR_URL",
            help=(
                "Target database: a URL such as mysql://user:pass@host/db or sqlite:///path, or an "
                "alias from DATABASES. Default: MAGENTO_DATABASE_URL. A missing MySQL database is created."
            ),
        )
        parser.add_argument(
            "--media-root",
            metavar="DIR",
            help=(
                "Magento's pub/media directory; gallery files are written under DIR/catalog/product. "
                "Default: MAGENTO_MEDIA_ROOT. Without one, no files are written."
            ),
        )
        parser.add_argument(
            "--commerce",
            action="store_true",
            help="Use the Adobe Commerce content-staging layout (row_id, created_in/updated_in, sequences).",
        )
        parser.add_argument(
            "--prefix",
            metavar="P",
            help="Table name prefix. Default: MAGENTO_TABLE_PREFIX.",
        )
        parser.add_argument("--seed", type=int, default=0, metavar="S", help="Random seed (default 0).")
        parser.add_argument(
            "--no-faults",
            action="store_true",
            help="Leave out the deliberate faults (missing, truncated, hostile and non-image files, "
            "script in labels and CMS content, a product without a name).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Overwrite Magento tables even if the demo store did not create them. Never use this on a "
            "real store's database.",
        )

        parser.add_argument(
            "--no-c2pa",
            action="store_true",
            help="Do not sign demo images with C2PA even when a signing certificate is configured "
            "(PROVENANT_C2PA_CERT_FILE / PROVENANT_C2PA_KEY_FILE).",
        )

    def handle(self, *args, **options):
        db = self._database(options["database"])
        c2pa = None
        if settings.C2PA_CERT.strip() and not options["no_c2pa"]:
            try:
                c2pa = signing_credentials()
            except SigningUnavailable as exc:
                raise CommandError(str(exc)) from None
        media_root = options["media_root"] or getattr(settings, "MAGENTO_MEDIA_ROOT", "") or None
        prefix = (
            options["prefix"]
            if options["prefix"] is not None
            else getattr(settings, "MAGENTO_TABLE_PREFIX", "")
        )
        if media_root is None:
            self.stdout.write(
                "No media root (--media-root or MAGENTO_MEDIA_ROOT): gallery files are not written."
            )
        layout = "Adobe Commerce (content staging)" if options["commerce"] else "Magento Open Source"
        self.stdout.write(
            f"Building {options['products']} products into {db.redacted()}"
            f" ({layout}, prefix {prefix!r}, seed {options['seed']})"
        )
        try:
            summary = build_demo_store(
                db,
                products=options["products"],
                media_root=media_root,
                staging=options["commerce"],
                prefix=prefix or "",
                seed=options["seed"],
                faults=not options["no_faults"],
                progress=self._progress_printer(),
                force=options["force"],
                c2pa=c2pa,
            )
        except DemoStoreError as exc:
            raise CommandError(str(exc)) from exc
        self._print_summary(summary)

    def _database(self, value: str | None) -> DatabaseUrl:
        try:
            if value and "://" in value:
                return parse_database_url(value)
            if value:
                if value not in settings.DATABASES:
                    known = ", ".join(sorted(settings.DATABASES))
                    raise CommandError(
                        f"--database {value!r} is neither a URL nor a DATABASES alias ({known})"
                    )
                return database_url_from_django(settings.DATABASES[value])
            if not getattr(settings, "MAGENTO_DATABASE_URL", ""):
                raise CommandError(
                    "No Magento database: pass --database URL_OR_ALIAS or set MAGENTO_DATABASE_URL."
                )
            return parse_database_url(settings.MAGENTO_DATABASE_URL)
        except DatabaseUrlError as exc:
            raise CommandError(str(exc)) from exc

    def _progress_printer(self):
        printed: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            step = max(total // 10, 1)
            if done == total or done // step > printed.get(phase, -1):
                printed[phase] = done // step
                self.stdout.write(f"  {phase}: {done}/{total}")

        return progress

    def _print_summary(self, summary: DemoSummary) -> None:
        links = ", ".join(f"{code} {count}" for code, count in sorted(summary.links.items()))
        self.stdout.write(
            f"Done: {summary.products} products, {summary.gallery_entries} gallery entries "
            f"({summary.videos} videos), {summary.images_on_disk} files on disk "
            f"({summary.ai_marked_images} with IPTC AI XMP, of which {summary.c2pa_images} C2PA-signed; "
            f"{summary.c2pa_tampered_images} C2PA-signed and changed after signing; "
            f"{summary.parameters_images} with PNG parameters), "
            f"{summary.blocks} blocks, {summary.pages} pages, links: {links}."
        )
        width = max(len(surface) for surface in SURFACES)
        stores = list(summary.expected_items)
        self.stdout.write("Expected items per store view:")
        self.stdout.write("  " + "surface".ljust(width) + "".join(code.rjust(10) for code in stores))
        for surface in SURFACES:
            counts = "".join(str(summary.expected_items[code][surface]).rjust(10) for code in stores)
            self.stdout.write("  " + surface.ljust(width) + counts)
        hidden = "".join(str(summary.expected_hidden_images[code]).rjust(10) for code in stores)
        self.stdout.write("  " + "hidden images".ljust(width) + hidden)
        if summary.faults:
            self.stdout.write("Deliberate faults:")
            for kind, where in summary.faults:
                self.stdout.write(f"  {kind}: {where}")
        self.stdout.write(self.style.SUCCESS("Demo store ready."))
