"""``python manage.py audit_anchor``: anchor the audit trail's head in the transparency log now."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from audits.trail import audit_anchor


class Command(BaseCommand):
    help = (
        "Append the audit trail's head (last event's sequence number and hash) to the transparency log as an "
        "audit.anchor entry, unless it is already anchored (--force anchors again). Celery beat runs this "
        "every PROVENANT_AUDIT_ANCHOR_MINUTES; provenance_verify checks every anchor against the trail."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="anchor even when nothing changed")

    def handle(self, *args, **options) -> None:
        anchor = audit_anchor(force=options["force"])
        if anchor is None:
            self.stdout.write("Nothing new to anchor.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Anchored event #{anchor.seq} in log entry {anchor.log_index}.")
        )
