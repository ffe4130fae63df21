"""``python manage.py provenance_keygen``: create a checkpoint signing key."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from provenance.notes import InvalidKeyError, generate_signer


class Command(BaseCommand):
    help = (
        "Create a new Ed25519 key for signing transparency log checkpoints. The private key (Go note "
        "format, PRIVATE+KEY+<name>+<key ID>+<base64>) is written to a new file readable only by its "
        "owner; an existing file is never overwritten. Prints the public verifier key. Configure the "
        "key with PROVENANT_LOG_KEY_FILE=<file>; when it replaces another key, the old public key stays "
        "listed at /log/key so older checkpoints remain verifiable."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--name",
            help="key name, shown in every signature line (default: the log origin, PROVENANT_LOG_ORIGIN)",
        )
        parser.add_argument(
            "--out",
            help="file to create for the private key (default: <PROVENANT_VAR_DIR>/log-signing.key)",
        )

    def handle(self, *args, **options) -> None:
        name = options["name"] or settings.LOG_ORIGIN
        out = Path(options["out"] or Path(settings.VAR_DIR) / "log-signing.key")
        try:
            signer, private_key = generate_signer(name)
        except InvalidKeyError as exc:
            raise CommandError(f"bad key name {name!r}: {exc}") from None
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError(f"{out} exists; refusing to overwrite a key (choose another --out)") from None
        except OSError as exc:
            raise CommandError(f"cannot create {out}: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(private_key + "\n")

        self.stdout.write(self.style.SUCCESS(f"Wrote the private signing key to {out} (mode 0600)."))
        self.stdout.write("Verifier key (public; published at /log/key once configured):")
        self.stdout.write(signer.verifier_key())
        self.stdout.write(
            f"\nTo sign checkpoints with it, set PROVENANT_LOG_KEY_FILE={out.resolve()} "
            "(or PROVENANT_LOG_KEY to the file's content) and restart the web, worker and beat "
            "processes. Keep the file secret and backed up: whoever holds it can sign checkpoints "
            "in this log's name."
        )
