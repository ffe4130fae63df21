"""``python manage.py provenance_monitor URL``: follow a log published as C2SP tlog-tiles and check it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from provenance.checkpoints import log_verifier_keys
from provenance.standards import monitor, notes
from provenance.standards.witness import CosignatureError, CosignatureVerifier

_URL = re.compile(r"https?://\S+")


def _lines(path: str, option: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{option} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _codes() -> str:
    return "; ".join(f"{code} {exit}" for code, exit in monitor.EXIT_CODES.items())


class Command(BaseCommand):
    help = (
        "Follow a transparency log published as C2SP tlog-tiles (a base URL over http(s), or a local "
        "directory) and check it: the checkpoint's signature with the pinned log key, the cosignatures "
        "of the pinned witness keys and the quorum, consistency with the checkpoint seen before (kept "
        "in --state, written atomically), every new tile against the signed root, and the tree "
        "rebuilt from the entry bundles not read before. Without --state every run checks the whole "
        "log. Exit 0 when consistent; otherwise the error's code and exit status: " + _codes() + "."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "url", help="the log's base URL (http(s)://…) or a directory holding its checkpoint"
        )
        parser.add_argument(
            "--state", help="JSON file keeping the last verified checkpoint (created if missing)"
        )
        parser.add_argument(
            "--log-key",
            help="file with the log's verifier keys, one a line (default: this sidecar's log keys)",
        )
        parser.add_argument(
            "--witness-keys",
            help="file with the witnesses' cosignature/v1 verifier keys, one a line "
            "(default: the keys of PROVENANT_LOG_WITNESSES)",
        )
        parser.add_argument(
            "--quorum",
            type=int,
            help="how many of the pinned witnesses must cosign (default: all of --witness-keys, or "
            "PROVENANT_LOG_WITNESS_QUORUM)",
        )
        parser.add_argument(
            "--items",
            help='JSON lines of entries to find: {"index": n, "data": base64 leaf bytes} (an audit '
            'package\'s provenance/entries.jsonl) or {"index": n, "leaf_hash": hex}',
        )
        parser.add_argument(
            "--timeout", type=float, default=10.0, help="HTTP timeout in seconds (default 10)"
        )
        parser.add_argument("--json", action="store_true", help="print the result (or the error) as JSON")

    def handle(self, *args, **options) -> None:
        log_keys = self._log_keys(options["log_key"])
        witnesses, quorum = self._witnesses(options["witness_keys"], options["quorum"])
        items: list[monitor.Item] = []
        if options["items"]:
            try:
                items = monitor.items_parse("\n".join(_lines(options["items"], "--items")))
            except ValueError as exc:
                raise CommandError(f"--items {options['items']}: {exc}") from None
        url = options["url"]
        if _URL.fullmatch(url):
            source: monitor.Source = monitor.HttpSource(url, timeout=options["timeout"])
        elif Path(url).is_dir():
            source = monitor.DirectorySource(url)
        else:
            raise CommandError(f"{url!r} is neither an http(s) URL nor a directory")
        try:
            state_path = options["state"]
            state = monitor.state_load(state_path) if state_path else None
            report, new_state = monitor.monitor_check(
                source, log_keys=log_keys, witnesses=witnesses, quorum=quorum, state=state, items=items
            )
            if state_path:
                monitor.state_save(state_path, new_state)
        except monitor.MonitorError as exc:
            self._fail(exc, options["json"])
        finally:
            source.close()
        if options["json"]:
            self.stdout.write(json.dumps(report.to_json(), indent=1, sort_keys=True))
            return
        cosigned = ", ".join(report.cosigned) or "no pinned witness"
        self.stdout.write(
            f"OK {report.origin}: size {report.size} (verified before: {report.previous_size}); "
            f"{report.entries_read} new entries rebuilt from bundles, {report.tiles_read} tiles read; "
            f"cosigned by {cosigned}" + (f"; {len(report.items)} items included" if items else "")
        )

    def _fail(self, exc: monitor.MonitorError, as_json: bool) -> None:
        if as_json:
            body = {"ok": False, "error": exc.code, "message": exc.message, "evidence": exc.evidence}
            self.stdout.write(json.dumps(body, indent=1, sort_keys=True))
        else:
            self.stderr.write(f"{exc.code}: {exc.message}")
            for name, value in exc.evidence.items():
                self.stderr.write(f"--- {name} ---\n{value}")
        self.stdout.flush()
        sys.exit(exc.exit_code)

    def _log_keys(self, path: str | None) -> list[notes.NoteVerifier]:
        lines = _lines(path, "--log-key") if path else log_verifier_keys()
        if not lines:
            raise CommandError("no log key: pass --log-key FILE (the output of GET /log/key)")
        try:
            return [notes.NoteVerifier.from_key_string(line) for line in lines]
        except notes.InvalidKeyError as exc:
            raise CommandError(f"--log-key: {exc}") from None

    def _witnesses(self, path: str | None, quorum: int | None) -> tuple[list[CosignatureVerifier], int]:
        if path:
            try:
                verifiers = [
                    CosignatureVerifier.from_key_string(line) for line in _lines(path, "--witness-keys")
                ]
            except CosignatureError as exc:
                raise CommandError(f"--witness-keys: {exc}") from None
            default = len(verifiers)
        else:
            verifiers = [w.verifier for w in settings.LOG_WITNESSES]
            default = settings.LOG_WITNESS_QUORUM if verifiers else 0
        quorum = default if quorum is None else quorum
        if not 0 <= quorum <= len(verifiers):
            raise CommandError(
                f"--quorum must be from 0 to the {len(verifiers)} pinned witness keys, got {quorum}"
            )
        return verifiers, quorum
