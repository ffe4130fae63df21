"""Write the default disclosure policies (idempotent) and, optionally, storefront CORS origins."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from disclosure.services import DisclosureError, policy_defaults_install, storefront_settings_set


def _pairs(values: list[str], what: str) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for value in values:
        store, sep, rest = value.partition("=")
        if not sep or not store or not rest:
            raise CommandError(f"{what} must look like STORE={what.upper()}, got {value!r}")
        result.setdefault(store, []).append(rest)
    return result


class Command(BaseCommand):
    help = (
        "Write version 1 of every default disclosure policy that has none yet (English for all store "
        "views, plus a store view's own language with --locale), and set storefront origins with --origin."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--locale",
            action="append",
            default=[],
            metavar="STORE=LOCALE",
            help="Write this store view's policies in its language, e.g. de=de_DE (repeatable).",
        )
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            metavar="STORE=ORIGIN",
            help="Allow a storefront origin to call the API (CORS), e.g. default=https://shop.example.com.",
        )

    def handle(self, *args, **options):
        locales = {store: values[-1] for store, values in _pairs(options["locale"], "locale").items()}
        try:
            created = policy_defaults_install(locales=locales)
            for store, origins in _pairs(options["origin"], "origin").items():
                storefront_settings_set(store_code=store, allowed_origins=origins)
                self.stdout.write(f"{store}: storefront origins {', '.join(origins)}")
        except DisclosureError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{len(created)} default policy versions written"))
