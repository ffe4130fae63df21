"""Witness cosignatures (C2SP tlog-cosignature, cosignature/v1 with Ed25519) and the witness
protocol's messages and checks (C2SP tlog-witness v1, ``POST <prefix>/add-checkpoint``).

A cosignature is a note signature line ``— <witness name> base64(key ID ‖ timestamp ‖ signature)``
on a checkpoint: the key ID is ``SHA-256(name ‖ "\\n" ‖ 0x04 ‖ Ed25519 public key)[:4]``, the
timestamp 8 bytes big-endian (POSIX seconds), and the Ed25519 signature is over::

    cosignature/v1
    time <timestamp>
    <the checkpoint's note body, extension lines included>

Witness verifier keys are vkeys with signature type 0x04: ``<name>+<key ID hex>+<base64(0x04 ‖ key)>``.
A witness's private key is kept in Go's ``sumdb/note`` private key format (``PRIVATE+KEY+...``,
as ``provenance_keygen`` writes); the cosigning key ID is derived from its public key with 0x04.

An add-checkpoint request is ``old <size>\\n``, up to 63 base64 consistency proof lines, an empty
line and the signed checkpoint. :func:`check_add_checkpoint` applies the witness's rules to one
request and the state kept for its origin, raising :class:`WitnessRefusal` with the spec's HTTP
status: 400 malformed or old size above the checkpoint's, 403 no signature by a trusted log key,
404 unknown origin, 409 old size other than the stored one (the body is the stored size,
``text/x.tlog.size``) or same size with another root, 422 a consistency proof that does not verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.standards import merkle, notes

__all__ = [
    "ALG_COSIGNATURE_V1",
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpointRequest",
    "Cosignature",
    "CosignatureError",
    "CosignatureSigner",
    "CosignatureVerifier",
    "LogState",
    "LogWitness",
    "WitnessRefusal",
    "check_add_checkpoint",
    "cosignature_message",
    "format_add_checkpoint",
    "note_signature_lines",
    "parse_add_checkpoint",
    "parse_cosignature_lines",
    "parse_size_body",
    "parse_witness_list",
    "verify_cosignatures",
]

ALG_COSIGNATURE_V1 = 0x04
MAX_PROOF_LINES = 63
MAX_TIMESTAMP = 2**63 - 1
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_HEADER = "cosignature/v1\n"
_SIGNATURE_PREFIX = "\u2014 "
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class CosignatureError(ValueError):
    """A cosignature or witness key is malformed, or a cosignature does not verify."""


class WitnessRefusal(Exception):
    """The witness refuses a request; ``status`` is the HTTP status the spec gives for the reason.

    For 409 ``size`` is the tree size the witness last cosigned for the origin.
    """

    def __init__(self, status: int, message: str, *, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.size = size


def cosignature_message(body: str, timestamp: int) -> bytes:
    """The signed message of a cosignature/v1 on the checkpoint note ``body`` at ``timestamp``."""
    return f"{_HEADER}time {timestamp}\n{body}".encode()


def _key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key).digest()[
        :4
    ]


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise CosignatureError(f"{what}: not standard base64") from None


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: the witness's name, its key ID, the time it signed and the note line."""

    name: str
    key_id: bytes
    timestamp: int
    line: str


class CosignatureVerifier:
    """A witness's Ed25519 cosignature/v1 verifier key."""

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        if not name or "+" in name or any(ch.isspace() or ch < " " for ch in name):
            raise CosignatureError(f"a witness name is non-empty, without spaces or '+': {name!r}")
        self.name = name
        self.public_key = public_key
        self.key_id = _key_id(name, public_key.public_bytes_raw())

    @classmethod
    def from_key_string(cls, vkey: str) -> CosignatureVerifier:
        """Parse ``<name>+<key ID hex>+<base64(0x04 ‖ public key)>``."""
        if not isinstance(vkey, str):
            raise CosignatureError("a witness key is a string")
        name, _, rest = vkey.strip().partition("+")
        key_id_hex, _, key_b64 = rest.partition("+")
        if not _KEY_ID_HEX.fullmatch(key_id_hex):
            raise CosignatureError(f"witness key {name!r}: the key ID must be 8 lower-case hex digits")
        key = _b64decode(key_b64, f"witness key {name!r}")
        if len(key) != 33 or key[0] != ALG_COSIGNATURE_V1:
            raise CosignatureError(
                f"witness key {name!r}: a cosignature/v1 key is 0x04 and a 32-byte Ed25519 key"
            )
        try:
            public_key = Ed25519PublicKey.from_public_bytes(key[1:])
        except ValueError:
            raise CosignatureError(f"witness key {name!r}: not an Ed25519 public key") from None
        verifier = cls(name, public_key)
        if verifier.key_id.hex() != key_id_hex:
            raise CosignatureError(f"witness key {name!r}: key ID {key_id_hex} does not match the key")
        return verifier

    def verifier_key(self) -> str:
        encoded = bytes([ALG_COSIGNATURE_V1]) + self.public_key.public_bytes_raw()
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(encoded).decode('ascii')}"

    def verify(self, body: str, signature_b64: str) -> Cosignature:
        """Check one cosignature (the base64 of a signature line) over the checkpoint ``body``."""
        raw = _b64decode(signature_b64, f"cosignature by {self.name}")
        if len(raw) != 4 + 8 + 64:
            raise CosignatureError(f"cosignature by {self.name}: {len(raw)} bytes, expected 76")
        if raw[:4] != self.key_id:
            raise CosignatureError(f"cosignature by {self.name}: key ID {raw[:4].hex()} is not this key's")
        timestamp = int.from_bytes(raw[4:12], "big")
        if timestamp > MAX_TIMESTAMP:
            raise CosignatureError(f"cosignature by {self.name}: timestamp above 2^63 - 1")
        try:
            self.public_key.verify(raw[12:], cosignature_message(body, timestamp))
        except InvalidSignature:
            raise CosignatureError(
                f"cosignature by {self.name}+{self.key_id.hex()} does not verify"
            ) from None
        return Cosignature(
            self.name, self.key_id, timestamp, f"{_SIGNATURE_PREFIX}{self.name} {signature_b64}\n"
        )


class CosignatureSigner:
    """A witness's Ed25519 key, signing cosignature/v1 lines."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self._verifier = CosignatureVerifier(name, private_key.public_key())
        self.name = name
        self.key_id = self._verifier.key_id

    @classmethod
    def from_key_string(cls, skey: str) -> CosignatureSigner:
        """From a ``PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ seed)>`` string (``provenance_keygen``)."""
        try:
            signer = notes.signer_from_key_string(skey.strip())
        except notes.InvalidKeyError as exc:
            raise CosignatureError(f"witness signing key: {exc}") from None
        seed = base64.b64decode(skey.strip().split("+", 4)[4])[1:]
        return cls(signer.name, Ed25519PrivateKey.from_private_bytes(seed))

    def verifier(self) -> CosignatureVerifier:
        return self._verifier

    def verifier_key(self) -> str:
        return self._verifier.verifier_key()

    def sign(self, body: str, timestamp: int) -> str:
        """The cosignature line ``— <name> <base64(key ID ‖ timestamp ‖ signature)>\\n``."""
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise CosignatureError(f"a cosignature timestamp is from 0 to 2^63 - 1, got {timestamp}")
        signature = self._private_key.sign(cosignature_message(body, timestamp))
        raw = self.key_id + timestamp.to_bytes(8, "big") + signature
        return f"{_SIGNATURE_PREFIX}{self.name} {base64.b64encode(raw).decode('ascii')}\n"


def parse_cosignature_lines(text: str) -> list[tuple[str, str]]:
    """``(name, base64)`` of each signature line of a witness's answer (lines ``— <name> <b64>``)."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CosignatureError("a witness's answer is signature lines, each ending in a newline")
    out = []
    for line in text[:-1].split("\n"):
        if not line.startswith(_SIGNATURE_PREFIX):
            raise CosignatureError(f"not a signature line: {line[:80]!r}")
        name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        if not name or not encoded or " " in encoded:
            raise CosignatureError(f"not a signature line: {line[:80]!r}")
        out.append((name, encoded))
    if len(out) > notes.MAX_SIGNATURES:
        raise CosignatureError(f"more than {notes.MAX_SIGNATURES} signature lines")
    return out


def verify_cosignatures(
    body: str, lines: Iterable[tuple[str, str]], witnesses: Iterable[CosignatureVerifier]
) -> dict[str, Cosignature]:
    """The verified cosignatures among signature ``lines`` on the checkpoint ``body``, by witness name.

    Lines from keys not among ``witnesses`` (other name or key ID) are ignored; a line that claims
    a known witness's name and key ID must verify, or :class:`CosignatureError` is raised.
    """
    known = {w.name: w for w in witnesses}
    found: dict[str, Cosignature] = {}
    for name, encoded in lines:
        witness = known.get(name)
        if witness is None:
            continue
        raw = _b64decode(encoded, f"signature by {name}")
        if raw[:4] != witness.key_id:
            continue
        cosignature = witness.verify(body, encoded)
        if name not in found or cosignature.timestamp > found[name].timestamp:
            found[name] = cosignature
    return found


def note_signature_lines(note: str) -> tuple[str, list[tuple[str, str]]]:
    """The body of a signed note and ``(name, base64)`` of each of its signature lines."""
    split = note.rfind("\n\n")
    if split < 0:
        raise CosignatureError("malformed note: no blank line before the signatures")
    return note[: split + 1], parse_cosignature_lines(note[split + 2 :])


# --- tlog-witness -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddCheckpointRequest:
    """The body of ``POST add-checkpoint``: old size, consistency proof, signed checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


@dataclass(frozen=True)
class LogState:
    """What a witness keeps per origin: the size and root hash of the latest checkpoint it cosigned."""

    size: int
    root_hash: bytes


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError(f"a consistency proof sent to a witness has at most {MAX_PROOF_LINES} hashes")
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode("ascii") + "\n" for h in proof), "\n"]
    return ("".join(lines) + note).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """Parse an add-checkpoint body strictly; raises :class:`WitnessRefusal` (400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRefusal(400, "the request body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessRefusal(400, "the request has no empty line before the checkpoint")
    first, *proof_lines = head.split("\n")
    size = first.removeprefix("old ")
    if not first.startswith("old ") or not _SIZE.fullmatch(size):
        raise WitnessRefusal(400, "the first line must be 'old <size>' in decimal without leading zeros")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise WitnessRefusal(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in proof_lines:
        try:
            value = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise WitnessRefusal(400, "a consistency proof line is not base64") from None
        if len(value) != merkle.HASH_SIZE:
            raise WitnessRefusal(400, f"a consistency proof line is not a {merkle.HASH_SIZE}-byte hash")
        proof.append(value)
    return AddCheckpointRequest(int(size), tuple(proof), note)


def parse_size_body(text: str) -> int:
    """The tree size in a 409 answer (``text/x.tlog.size``): decimal and a newline."""
    value = text.removesuffix("\n") if isinstance(text, str) else ""
    if not _SIZE.fullmatch(value):
        raise CosignatureError(
            f"a {SIZE_CONTENT_TYPE} body is a decimal size and a newline, got {text[:40]!r}"
        )
    return int(value)


def check_add_checkpoint(
    request: AddCheckpointRequest,
    logs: Mapping[str, Sequence[notes.NoteVerifier]],
    stored: LogState | None,
) -> notes.Checkpoint:
    """Apply tlog-witness's rules to ``request``; returns the checkpoint to cosign and store.

    ``logs`` maps each known origin to its trusted keys; ``stored`` is the state kept for the
    request's origin (``None`` when nothing was cosigned yet, which counts as size 0). The caller
    reads ``stored``, calls this and stores the result in one transaction. Raises
    :class:`WitnessRefusal`.
    """
    origin = request.note.split("\n", 1)[0]
    verifiers = logs.get(origin)
    if not verifiers:
        raise WitnessRefusal(404, f"unknown log origin {origin[:200]!r}")
    try:
        opened = notes.open_note(request.note, verifiers)
    except notes.UnverifiedNoteError:
        raise WitnessRefusal(
            403, "the checkpoint carries no signature by a key trusted for its origin"
        ) from None
    except notes.InvalidSignatureError as exc:
        raise WitnessRefusal(403, str(exc)) from None
    except notes.InvalidNoteError as exc:
        raise WitnessRefusal(400, str(exc)) from None
    try:
        checkpoint = notes.Checkpoint.parse(opened.text)
    except notes.CheckpointError as exc:
        raise WitnessRefusal(400, f"not a checkpoint: {exc}") from None
    if request.old_size > checkpoint.size:
        raise WitnessRefusal(
            400, f"old size {request.old_size} is above the checkpoint's size {checkpoint.size}"
        )
    stored_size = stored.size if stored else 0
    if request.old_size != stored_size:
        raise WitnessRefusal(
            409, f"old size {request.old_size} is not the size {stored_size} last cosigned", size=stored_size
        )
    if stored is None or stored.size == 0:
        if request.proof:
            raise WitnessRefusal(422, "the consistency proof from size 0 must be empty")
        return checkpoint
    if checkpoint.size == stored.size:
        if checkpoint.root_hash != stored.root_hash:
            raise WitnessRefusal(
                409, f"a checkpoint of size {stored.size} with another root was cosigned", size=stored.size
            )
        return checkpoint
    try:
        merkle.verify_consistency(
            stored.size, checkpoint.size, stored.root_hash, checkpoint.root_hash, list(request.proof)
        )
    except merkle.MerkleProofError as exc:
        raise WitnessRefusal(422, f"the consistency proof does not verify: {exc}") from None
    return checkpoint


# --- A log's witnesses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogWitness:
    """A witness a log submits its checkpoints to: name, ``add-checkpoint`` URL prefix, verifier key."""

    name: str
    url: str
    verifier: CosignatureVerifier


def parse_witness_list(text: str) -> list[LogWitness]:
    """A JSON list of ``{"name", "url", "vkey"}``; the name must be the vkey's. Raises ValueError."""
    if not text.strip():
        return []
    try:
        items = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(items, list):
        raise ValueError('a JSON list of {"name", "url", "vkey"} objects is expected')
    out: list[LogWitness] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("name", "url", "vkey")
        ):
            raise ValueError(f'witness {n}: an object with string "name", "url" and "vkey" is expected')
        verifier = CosignatureVerifier.from_key_string(item["vkey"])
        if verifier.name != item["name"]:
            raise ValueError(f"witness {n}: the name {item['name']!r} is not the vkey's {verifier.name!r}")
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", item["url"]):
            raise ValueError(
                f"witness {n}: the url must be http(s)://host[/prefix], got {item['url'][:80]!r}"
            )
        if any(w.name == verifier.name for w in out):
            raise ValueError(f"witness {n}: the name {verifier.name!r} is listed twice")
        out.append(LogWitness(verifier.name, item["url"].rstrip("/"), verifier))
    return out
