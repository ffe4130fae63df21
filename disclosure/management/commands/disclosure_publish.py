"""Publish a store view's disclosure manifests now."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from disclosure.manifests import manifest_publish
from provenance.services import registry_store_codes


class Command(BaseCommand):
    help = (
        "Write the static disclosure manifests of one store view (--store) or of every store view into "
        "PROVENANT_DISCLOSURE_PUBLISH_DIR (or --dir); unchanged content keeps its version."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Store view code; default: every store view in the registry.")
        parser.add_argument(
            "--dir", help="Directory to publish into (default PROVENANT_DISCLOSURE_PUBLISH_DIR)."
        )

    def handle(self, *args, store=None, dir=None, **options):
        directory = dir or settings.DISCLOSURE_PUBLISH_DIR
        if not directory:
            raise CommandError("Set PROVENANT_DISCLOSURE_PUBLISH_DIR or pass --dir.")
        known = registry_store_codes()
        if store and store not in known:
            raise CommandError(
                f"unknown store code {store!r}: the registry knows {', '.join(known) or 'no store view yet'}",
                returncode=2,
            )
        codes = [store] if store else known
        for code in codes:
            try:
                pub = manifest_publish(store_code=code, directory=directory)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            except OSError as exc:
                raise CommandError(
                    f"{code}: could not write the manifests into {directory}: "
                    f"{exc.strerror or exc}; the previously published version stays current."
                ) from None
            state = "published" if pub.changed else "unchanged"
            self.stdout.write(
                f"{code}: {state} {pub.version[:12]} "
                f"({pub.refs} refs, {pub.shards} shards, {pub.bytes} bytes)"
            )
