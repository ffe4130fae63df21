"""``python manage.py provenance_witness``: run a C2SP tlog-witness for other logs, or print its key."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from provenance.standards.witness import CosignatureError, CosignatureSigner
from provenance.witness_server import Witness, WitnessConfigError, load_config, make_server

_ADDR = re.compile(r"(?P<host>[^:\s]+|\[[0-9a-fA-F:]+\]):(?P<port>[0-9]{1,5})")


def _signer(path: str) -> CosignatureSigner:
    try:
        return CosignatureSigner.from_key_string(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"--key-file {path}: {exc.strerror}") from None
    except CosignatureError as exc:
        raise CommandError(f"--key-file {path}: {exc}") from None


class Command(BaseCommand):
    help = (
        "A witness (C2SP tlog-witness v1) for other transparency logs. `serve` answers POST "
        "/add-checkpoint: it cosigns (cosignature/v1, Ed25519) a checkpoint of a configured log only "
        "when it is signed by that log's key and consistent with the last checkpoint it cosigned for "
        "the origin, whose size and root it keeps in a SQLite file, updated atomically before it "
        "answers. `vkey` prints the witness's public key to give to the logs. The key file holds a "
        "key made by `provenance_keygen --name <witness name>`; the configuration is JSON: "
        '{"logs": [{"origin": "...", "keys": ["<log vkey>", ...]}]}.'
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help="run the witness's HTTP server")
        serve.add_argument(
            "--addr", default="127.0.0.1:7380", help="host:port to listen on (default 127.0.0.1:7380)"
        )
        serve.add_argument("--key-file", required=True, help="the witness's private key (provenance_keygen)")
        serve.add_argument("--config", required=True, help="JSON file: the logs to witness and their keys")
        serve.add_argument(
            "--state",
            help="SQLite file keeping the latest cosigned size and root per origin "
            "(default <PROVENANT_VAR_DIR>/witness-state.sqlite3)",
        )
        vkey = sub.add_parser("vkey", help="print the witness's cosignature/v1 verifier key")
        vkey.add_argument("--key-file", required=True, help="the witness's private key")

    def handle(self, *args, **options) -> None:
        signer = _signer(options["key_file"])
        if options["action"] == "vkey":
            self.stdout.write(signer.verifier_key())
            return
        match = _ADDR.fullmatch(options["addr"])
        if not match or not 0 <= int(match["port"]) < 65536:
            raise CommandError(f"--addr must be host:port, got {options['addr']!r}")
        try:
            logs = load_config(options["config"])
        except WitnessConfigError as exc:
            raise CommandError(str(exc)) from None
        state = Path(options["state"] or Path(settings.VAR_DIR) / "witness-state.sqlite3")
        witness = Witness(signer=signer, logs=logs, state_path=state)
        server = make_server(witness, match["host"].strip("[]"), int(match["port"]))
        host, port = server.server_address[:2]
        self.stdout.write(f"Witness {signer.verifier_key()} listening on http://{host}:{port}/add-checkpoint")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
