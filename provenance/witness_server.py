"""A C2SP tlog-witness v1 witness: ``POST /add-checkpoint`` over HTTP, state in SQLite.

Cosigns checkpoints of the logs in its configuration (cosignature/v1, C2SP tlog-cosignature) after
checking each is consistent with the last one it cosigned for that origin
(:func:`provenance.standards.witness.check_add_checkpoint`). The check and the update of the stored
size and root run in one SQLite ``BEGIN IMMEDIATE`` transaction, committed before the answer is
sent, so two concurrent requests cannot roll the state back.

Configuration file (JSON)::

    {"logs": [{"origin": "store.example/log", "keys": ["store.example/log+1a2b3c4d+AR..."]}]}
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from provenance.standards import notes
from provenance.standards.witness import (
    SIZE_CONTENT_TYPE,
    CosignatureSigner,
    LogState,
    WitnessRefusal,
    check_add_checkpoint,
    parse_add_checkpoint,
)

__all__ = ["MAX_BODY_BYTES", "Witness", "WitnessConfigError", "load_config", "make_server"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


class WitnessConfigError(ValueError):
    """The witness's configuration, key or state file cannot be used."""


def load_config(path: str | Path) -> dict[str, list[notes.NoteVerifier]]:
    """The trusted keys per origin from the JSON configuration file."""
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WitnessConfigError(f"witness configuration {path}: {exc}") from None
    logs = config.get("logs") if isinstance(config, dict) else None
    if not isinstance(logs, list) or not logs:
        raise WitnessConfigError(f"witness configuration {path}: 'logs' must be a non-empty list")
    out: dict[str, list[notes.NoteVerifier]] = {}
    for n, log in enumerate(logs):
        origin = log.get("origin") if isinstance(log, dict) else None
        keys = log.get("keys") if isinstance(log, dict) else None
        if not isinstance(origin, str) or not origin or "\n" in origin:
            raise WitnessConfigError(f"witness configuration {path}: logs[{n}].origin must be one line")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise WitnessConfigError(f"witness configuration {path}: logs[{n}].keys must list vkeys")
        try:
            out.setdefault(origin, []).extend(notes.NoteVerifier.from_key_string(k) for k in keys)
        except notes.InvalidKeyError as exc:
            raise WitnessConfigError(f"witness configuration {path}: logs[{n}]: {exc}") from None
    return out


@dataclass
class Witness:
    """The witness's key, trusted logs and state database."""

    signer: CosignatureSigner
    logs: dict[str, list[notes.NoteVerifier]]
    state_path: Path

    def __post_init__(self) -> None:
        self._local = threading.local()
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS log_state (origin TEXT PRIMARY KEY, size INTEGER NOT NULL, "
                "root_hash BLOB NOT NULL, note TEXT NOT NULL, updated_at INTEGER NOT NULL)"
            )

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.state_path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return _Transaction(db)

    def state(self, origin: str) -> LogState | None:
        row = (
            self._db()
            .connection.execute("SELECT size, root_hash FROM log_state WHERE origin = ?", (origin,))
            .fetchone()
        )
        return LogState(row[0], bytes(row[1])) if row else None

    def add_checkpoint(self, body: bytes) -> str:
        """Check and store one add-checkpoint request; the cosignature line. Raises WitnessRefusal."""
        request = parse_add_checkpoint(body)
        with self._db() as db:
            origin = request.note.split("\n", 1)[0]
            row = db.execute("SELECT size, root_hash FROM log_state WHERE origin = ?", (origin,)).fetchone()
            stored = LogState(row[0], bytes(row[1])) if row else None
            checkpoint = check_add_checkpoint(request, self.logs, stored)
            now = int(time.time())
            db.execute(
                "INSERT INTO log_state (origin, size, root_hash, note, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root_hash = excluded.root_hash, "
                "note = excluded.note, updated_at = excluded.updated_at",
                (checkpoint.origin, checkpoint.size, checkpoint.root_hash, request.note, now),
            )
        return self.signer.sign(checkpoint.body(), now)


class _Transaction:
    """``with``: BEGIN IMMEDIATE (the write lock, so read-check-write is atomic), COMMIT or ROLLBACK."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, exc_type, exc, tb) -> None:
        self.connection.execute("ROLLBACK" if exc_type else "COMMIT")


def make_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "provenant-witness"
        protocol_version = "HTTP/1.1"
        # Headers and body go out as separate writes: without this, Nagle's algorithm holds the
        # body until the client's delayed ACK, about 40 ms per keep-alive request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
            logger.info("%s %s", self.address_string(), format % args)

        def _answer(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path == "/":
                self._answer(200, f"C2SP tlog-witness {witness.signer.verifier_key()}\n")
            else:
                self._answer(404, "not found\n")

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/add-checkpoint":
                self._answer(404, "not found\n")
                return
            length = self.headers.get("Content-Length", "")
            if not length.isdigit():
                self._answer(411, "a Content-Length is required\n")
                self.close_connection = True
                return
            if int(length) > MAX_BODY_BYTES:
                self._answer(413, f"the body is larger than {MAX_BODY_BYTES} bytes\n")
                self.close_connection = True
                return
            body = self.rfile.read(int(length))
            try:
                line = witness.add_checkpoint(body)
            except WitnessRefusal as refusal:
                if refusal.status == 409:
                    self._answer(409, f"{refusal.size}\n", SIZE_CONTENT_TYPE)
                else:
                    self._answer(refusal.status, refusal.message + "\n")
                return
            self._answer(200, line)

        def do_PUT(self) -> None:  # noqa: N802
            self._answer(405, "only POST /add-checkpoint\n")

        do_DELETE = do_PATCH = do_PUT  # noqa: N815

    return ThreadingHTTPServer((host, port), Handler)
