"""``python manage.py audits_reviews_sync``: open missing reviews and reopen changed approvals now."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from audits.services import reviews_open_missing, reviews_reopen_changed


class Command(BaseCommand):
    help = (
        "Open pending reviews for present synthetic or suspected content items and for generators without "
        "one, and send approved reviews whose content or state hash changed since sign-off back to "
        "pending. Runs after every successful sync on its own; idempotent."
    )

    def handle(self, *args, **options) -> None:
        opened = reviews_open_missing()
        reopened = reviews_reopen_changed()
        self.stdout.write(
            self.style.SUCCESS(f"Opened {opened} review(s); reopened {reopened} changed approval(s).")
        )
