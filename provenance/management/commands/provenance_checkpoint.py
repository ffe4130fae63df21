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
from provenance.publish import PublishError, log_publish


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the transparency log now, if it grew since the last one (--force: sign "
        "anyway). The new tree is first proven consistent with the last checkpoint; the command fails "
        "and signs nothing otherwise. Prints the signed note. --timestamp stamps the latest checkpoint "
        "with the configured RFC 3161 authority (PROVENANT_TSA_URL) if it has no timestamp yet. The latest "
        "checkpoint is then submitted to the configured witnesses (PROVENANT_LOG_WITNESSES) and, with "
        "PROVENANT_LOG_PUBLISH_DIR (or PROVENANT_LOG_PUBLISH_S3_BUCKET) set, published there as C2SP "
        "tlog-tiles with the cosignatures (--no-publish: skip both)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="sign even if the log did not grow")
        parser.add_argument(
            "--timestamp", action="store_true", help="timestamp the latest checkpoint if it has none"
        )
        parser.add_argument(
            "--no-publish", action="store_true", help="neither submit to witnesses nor publish tiles"
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
        if not options["no_publish"]:
            self._publish()
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

    def _publish(self) -> None:
        try:
            result = log_publish()
        except PublishError as exc:
            raise CommandError(str(exc)) from None
        if result is None:
            return
        if result.witnesses is not None:
            report = result.witnesses
            total = len(report.cosigned) + len(report.errors)
            self.stdout.write(
                f"Cosigned by {len(report.cosigned)} of {total} witnesses "
                f"(quorum {report.quorum}): {', '.join(report.cosigned) or 'none'}."
            )
            for name, error in report.errors.items():
                self.stderr.write(f"{name}: {error}")
        if result.checkpoint_written:
            self.stdout.write(
                f"Published the log of size {result.size}: {result.tiles_written} tiles written, "
                f"{result.tiles_kept} already there."
            )
        elif result.errors:
            raise CommandError("; ".join(result.errors[-1:]))
