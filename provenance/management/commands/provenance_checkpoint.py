"""``python manage.py provenance_checkpoint``: sign a transparency log checkpoint now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from provenance.checkpoints import (
    CheckpointError,
    TimestampError,
    checkpoint_latest,
    checkpoint_sign,
    checkpoint_timestamp,
)


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the transparency log now, if it grew since the last one (--force: sign "
        "anyway). The new tree is first proven consistent with the last checkpoint; the command fails "
        "and signs nothing otherwise. Prints the signed note. --timestamp stamps the latest checkpoint "
        "with the configured RFC 3161 authority (PROVENANT_TSA_URL) if it has no timestamp yet."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="sign even if the log did not grow")
        parser.add_argument(
            "--timestamp", action="store_true", help="timestamp the latest checkpoint if it has none"
        )

    def handle(self, *args, **options) -> None:
        try:
            checkpoint = checkpoint_sign(force=options["force"])
        except CheckpointError as exc:
            raise CommandError(str(exc)) from None
        if checkpoint is None:
            latest = checkpoint_latest()
            self.stdout.write(
                f"The log has not grown since checkpoint #{latest.pk} of size {latest.size}; nothing signed "
                "(use --force to sign again)."
                if latest
                else "The log is empty; nothing signed (use --force to sign the empty tree)."
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Signed checkpoint #{checkpoint.pk} of size {checkpoint.size}:")
            )
            self.stdout.write(checkpoint.note, ending="")
        if options["timestamp"]:
            latest = checkpoint_latest()
            if latest is None:
                raise CommandError("no checkpoint to timestamp")
            if latest.timestamp_token:
                self.stdout.write(
                    f"Checkpoint #{latest.pk} is already timestamped ({latest.timestamped_at})."
                )
                return
            try:
                checkpoint_timestamp(checkpoint=latest)
            except TimestampError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"Timestamped checkpoint #{latest.pk} at {latest.timestamped_at} by {latest.tsa_url}."
            )
