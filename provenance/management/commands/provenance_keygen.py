"""``python manage.py provenance_keygen``: create a checkpoint signing key, or (``--c2pa``) a
development CA and C2PA signing certificate."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from provenance.standards.content_credentials import development_credentials
from provenance.standards.notes import InvalidKeyError, generate_signer


class Command(BaseCommand):
    help = (
        "Create a new Ed25519 key for signing transparency log checkpoints. The private key (Go note "
        "format, PRIVATE+KEY+<name>+<key ID>+<base64>) is written to a new file readable only by its "
        "owner; an existing file is never overwritten. Prints the public verifier key. Configure the "
        "key with PROVENANT_LOG_KEY_FILE=<file>; when it replaces another key, the old public key stays "
        "listed at /log/key so older checkpoints remain verifiable. With --c2pa: create a local "
        "development CA and a C2PA signing certificate it issued (ES256), for development and tests only."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--name",
            help="key name, shown in every signature line (default: the log origin, PROVENANT_LOG_ORIGIN)",
        )
        parser.add_argument(
            "--out",
            help="file to create for the private key (default: <PROVENANT_VAR_DIR>/log-signing.key; "
            "with --c2pa: a directory, default <PROVENANT_VAR_DIR>/c2pa)",
        )
        parser.add_argument(
            "--c2pa",
            action="store_true",
            help="make a development CA and C2PA signing certificate instead of a checkpoint key",
        )
        parser.add_argument(
            "--organisation",
            default="Provenant development",
            help="with --c2pa: the organisation named in the certificates",
        )

    def handle(self, *args, **options) -> None:
        if options["c2pa"]:
            self._c2pa(Path(options["out"] or Path(settings.VAR_DIR) / "c2pa"), options["organisation"])
            return
        name = options["name"] or settings.LOG_ORIGIN
        out = Path(options["out"] or Path(settings.VAR_DIR) / "log-signing.key")
        try:
            signer, private_key = generate_signer(name)
        except InvalidKeyError as exc:
            raise CommandError(f"bad key name {name!r}: {exc}") from None
        _write_new(out, private_key + "\n", 0o600)

        self.stdout.write(self.style.SUCCESS(f"Wrote the private signing key to {out} (mode 0600)."))
        self.stdout.write("Verifier key (public; published at /log/key once configured):")
        self.stdout.write(signer.verifier_key())
        self.stdout.write(
            f"\nTo sign checkpoints with it, set PROVENANT_LOG_KEY_FILE={out.resolve()} "
            "(or PROVENANT_LOG_KEY to the file's content) and restart the web, worker and beat "
            "processes. Keep the file secret and backed up: whoever holds it can sign checkpoints "
            "in this log's name."
        )

    def _c2pa(self, directory: Path, organisation: str) -> None:
        if not organisation.strip() or any(ch < " " for ch in organisation):
            raise CommandError("--organisation must be one non-empty line")
        files = {name: directory / name for name in ("ca.pem", "signer-chain.pem", "signer.key")}
        existing = [str(path) for path in files.values() if path.exists()]
        if existing:
            raise CommandError(f"{', '.join(existing)} exist; refusing to overwrite (choose another --out)")
        credentials = development_credentials(organisation.strip())
        _write_new(files["signer.key"], credentials.key_pem, 0o600)
        _write_new(files["signer-chain.pem"], credentials.chain_pem, 0o644)
        _write_new(files["ca.pem"], credentials.ca_pem, 0o644)
        self.stdout.write(
            self.style.SUCCESS(f"Wrote a development CA and C2PA signing certificate to {directory}:")
        )
        self.stdout.write(f"  {files['signer.key']}  private key (mode 0600)")
        self.stdout.write(f"  {files['signer-chain.pem']}  signing certificate chain, leaf first")
        self.stdout.write(f"  {files['ca.pem']}  the development CA (a trust anchor for readers)")
        self.stdout.write("\nTo sign generated images and trust what this CA issued, set:")
        self.stdout.write(f"  PROVENANT_C2PA_CERT_FILE={files['signer-chain.pem'].resolve()}")
        self.stdout.write(f"  PROVENANT_C2PA_KEY_FILE={files['signer.key'].resolve()}")
        self.stdout.write(f"  PROVENANT_C2PA_TRUST_ANCHORS_FILE={files['ca.pem'].resolve()}")
        self.stdout.write(
            self.style.WARNING(
                "\nFor development and tests only. Readers elsewhere will show these signatures as "
                "untrusted: production needs a signing certificate issued by a certificate authority on "
                "the C2PA trust list, with its key kept in a secrets store or HSM."
            )
        )


def _write_new(path: Path, text: str, mode: int) -> None:
    """Create ``path`` with ``text``; never overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise CommandError(f"{path} exists; refusing to overwrite a key (choose another --out)") from None
    except OSError as exc:
        raise CommandError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
