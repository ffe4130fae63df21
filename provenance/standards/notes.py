"""Signed notes (C2SP signed-note) with Ed25519 keys, and transparency log checkpoints (C2SP tlog-checkpoint).

A signed note is a UTF-8 text ending in a newline, a blank line, then one line per signature::

    — <key name> <base64(key ID ‖ signature)>

with U+2014 EM DASH and a space. The key ID of an Ed25519 key is the first four bytes of
``SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ 32-byte public key)``. Keys are exchanged in the formats of Go's
``golang.org/x/mod/sumdb/note``: ``<name>+<key ID, 8 hex digits>+<base64(0x01 ‖ public key)>`` for
verifiers and ``PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ 32-byte seed)>`` for signers, so notes
signed here open there and the other way round.

:func:`open_note` follows the spec: signatures from unknown keys are kept aside, unverified; a
signature from a known key (same name and key ID) must verify or the whole note is refused
(:class:`InvalidSignatureError`); a note without any verified signature is refused
(:class:`UnverifiedNoteError`). At most 100 signature lines are read (the spec asks for at least 16).

A checkpoint is a note whose text is ``<origin>\\n<tree size>\\n<base64 root hash>\\n`` followed by
optional non-empty extension lines: :class:`Checkpoint`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "MAX_SIGNATURES",
    "Checkpoint",
    "CheckpointError",
    "InvalidKeyError",
    "InvalidNoteError",
    "InvalidSignatureError",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "UnverifiedNoteError",
    "VerifiedNote",
    "add_signatures",
    "generate_signer",
    "open_note",
    "sign_note",
    "signer_from_key_string",
]

MAX_SIGNATURES = 100

_ALG_ED25519 = 0x01
_SIGNATURE_PREFIX = "\u2014 "
_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_TREE_SIZE = 2**63 - 1
_HASH_SIZE = 32


class InvalidKeyError(ValueError):
    """A key string or key name is not well formed, or its key ID does not match its key."""


class InvalidNoteError(ValueError):
    """A note is malformed, or a signature from a known key does not verify."""


class InvalidSignatureError(InvalidNoteError):
    """A signature from a known key (same name and key ID) does not verify: the note is refused."""

    def __init__(self, name: str, key_id: bytes) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id.hex()}")
        self.name = name
        self.key_id = key_id


class UnverifiedNoteError(ValueError):
    """A well-formed note carries no signature from any of the known keys."""

    def __init__(self, text: str, unverified_signatures: tuple[NoteSignature, ...]) -> None:
        names = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in unverified_signatures)
        super().__init__(f"note has no verifiable signatures (signed by: {names})")
        self.text = text
        self.unverified_signatures = unverified_signatures


class CheckpointError(ValueError):
    """A checkpoint body does not follow C2SP tlog-checkpoint."""


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: the key name, its 4-byte key ID, and ``base64(key ID ‖ signature)``."""

    name: str
    key_id: bytes
    base64: str

    @property
    def line(self) -> str:
        return f"{_SIGNATURE_PREFIX}{self.name} {self.base64}\n"


@dataclass(frozen=True)
class VerifiedNote:
    """A note opened by :func:`open_note`.

    ``verified`` names the keys whose signatures verified, ``signatures`` holds those signatures, and
    ``unverified_signatures`` the ones from keys that were not given (never trusted, kept for cosigning).
    """

    text: str
    verified: tuple[str, ...]
    signatures: tuple[NoteSignature, ...]
    unverified_signatures: tuple[NoteSignature, ...]


class NoteVerifier:
    """An Ed25519 note verifier key."""

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        _check_key_name(name)
        self.name = name
        self.public_key = public_key
        self.key_id = _key_id(name, public_key)

    @classmethod
    def from_key_string(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<key ID hex>+<base64(0x01 ‖ public key)>``."""
        name, _, rest = vkey.partition("+")
        key_id_hex, _, key_b64 = rest.partition("+")
        _check_key_name(name)
        if not _KEY_ID_HEX.fullmatch(key_id_hex):
            raise InvalidKeyError("verifier key: the key ID must be 8 hex digits")
        key = _decode_base64(key_b64, InvalidKeyError, "verifier key")
        if not key:
            raise InvalidKeyError("verifier key: the key is empty")
        if bytes.fromhex(key_id_hex) != _key_id_from_encoded(name, key):
            raise InvalidKeyError(f"verifier key: key ID {key_id_hex} does not match the key")
        if key[0] != _ALG_ED25519:
            raise InvalidKeyError(f"verifier key: unknown signature type {key[0]:#04x}")
        if len(key) != 33:
            raise InvalidKeyError(f"verifier key: an Ed25519 key is 32 bytes, got {len(key) - 1}")
        try:
            public_key = Ed25519PublicKey.from_public_bytes(key[1:])
        except ValueError:
            raise InvalidKeyError("verifier key: not an Ed25519 public key") from None
        return cls(name, public_key)

    def verifier_key(self) -> str:
        encoded = bytes([_ALG_ED25519]) + self.public_key.public_bytes_raw()
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(encoded).decode('ascii')}"

    def verify(self, text: str, signature: bytes) -> None:
        """Check an Ed25519 signature over the note text; raises :class:`InvalidSignatureError`."""
        try:
            self.public_key.verify(signature, text.encode("utf-8"))
        except InvalidSignature:
            raise InvalidSignatureError(self.name, self.key_id) from None

    def __repr__(self) -> str:
        return f"NoteVerifier({self.verifier_key()!r})"


class NoteSigner:
    """An Ed25519 note signing key."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_key_name(name)
        self.name = name
        self._private_key = private_key
        self.key_id = _key_id(name, private_key.public_key())

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self._private_key.public_key())

    def verifier_key(self) -> str:
        """``<name>+<key ID hex>+<base64(0x01 ‖ public key)>``, to give to verifiers."""
        return self.verifier().verifier_key()

    def sign(self, text: str) -> str:
        """The signature line ``— <name> <base64(key ID ‖ Ed25519 signature)>\\n`` for a note text."""
        _check_text(text)
        signature = self._private_key.sign(text.encode("utf-8"))
        encoded = base64.b64encode(self.key_id + signature).decode("ascii")
        return f"{_SIGNATURE_PREFIX}{self.name} {encoded}\n"

    def __repr__(self) -> str:
        return f"NoteSigner({self.name!r}, key_id={self.key_id.hex()})"


def generate_signer(name: str) -> tuple[NoteSigner, str]:
    """A new Ed25519 signer and its private key string ``PRIVATE+KEY+<name>+<key ID>+<base64>``."""
    private_key = Ed25519PrivateKey.generate()
    signer = NoteSigner(name, private_key)
    seed = bytes([_ALG_ED25519]) + private_key.private_bytes_raw()
    skey = f"{_PRIVATE_KEY_PREFIX}{name}+{signer.key_id.hex()}+{base64.b64encode(seed).decode('ascii')}"
    return signer, skey


def signer_from_key_string(skey: str) -> NoteSigner:
    """Parse ``PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 ‖ 32-byte seed)>``."""
    if not skey.startswith(_PRIVATE_KEY_PREFIX):
        raise InvalidKeyError("signer key: must start with PRIVATE+KEY+")
    name, _, rest = skey.removeprefix(_PRIVATE_KEY_PREFIX).partition("+")
    key_id_hex, _, key_b64 = rest.partition("+")
    _check_key_name(name)
    if not _KEY_ID_HEX.fullmatch(key_id_hex):
        raise InvalidKeyError("signer key: the key ID must be 8 hex digits")
    key = _decode_base64(key_b64, InvalidKeyError, "signer key")
    if not key:
        raise InvalidKeyError("signer key: the key is empty")
    if key[0] != _ALG_ED25519:
        raise InvalidKeyError(f"signer key: unknown signature type {key[0]:#04x}")
    if len(key) != 33:
        raise InvalidKeyError(f"signer key: an Ed25519 seed is 32 bytes, got {len(key) - 1}")
    signer = NoteSigner(name, Ed25519PrivateKey.from_private_bytes(key[1:]))
    # The key ID is that of the public key, which only the seed gives.
    if bytes.fromhex(key_id_hex) != signer.key_id:
        raise InvalidKeyError(f"signer key: key ID {key_id_hex} does not match the key")
    return signer


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """The signed note: ``text``, a blank line, and one signature line per signer."""
    if not signers:
        raise ValueError("a note needs at least one signer")
    _check_text(text)
    lines = [signer.sign(text) for signer in signers]
    _check_signature_count(len(lines))
    return text + "\n" + "".join(lines)


def add_signatures(note: str, signers: Sequence[NoteSigner]) -> str:
    """Cosign a signed note: its signatures are kept and the new ones appended.

    A signature already present from one of ``signers`` (same name and key ID) is replaced. This
    checks the note's form, not its signatures: open it first with the keys it must carry.
    """
    if not signers:
        raise ValueError("cosigning needs at least one signer")
    text, signatures = _parse(note)
    replaced = {(s.name, s.key_id) for s in signers}
    kept = [s.line for s in signatures if (s.name, s.key_id) not in replaced]
    lines = [*kept, *(signer.sign(text) for signer in signers)]
    _check_signature_count(len(lines))
    return text + "\n" + "".join(lines)


def open_note(note: str, verifiers: Iterable[NoteVerifier]) -> VerifiedNote:
    """Parse a signed note and verify the signatures made by the known keys.

    Raises :class:`InvalidNoteError` for a malformed note, :class:`InvalidSignatureError` when a
    signature by a known key does not verify, and :class:`UnverifiedNoteError` when no known key
    signed it.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for verifier in verifiers:
        key = (verifier.name, verifier.key_id)
        if key in known and known[key].verifier_key() != verifier.verifier_key():
            raise ValueError(f"ambiguous verifier keys for {verifier.name}+{verifier.key_id.hex()}")
        known[key] = verifier

    text, signatures = _parse(note)
    verified: dict[tuple[str, bytes], NoteSignature] = {}
    unverified: dict[NoteSignature, None] = {}
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            unverified.setdefault(signature)
            continue
        # Every signature by a known key must verify, repeated ones included.
        verifier.verify(text, base64.b64decode(signature.base64)[4:])
        verified.setdefault((signature.name, signature.key_id), signature)

    if not verified:
        raise UnverifiedNoteError(text, tuple(unverified))
    return VerifiedNote(
        text=text,
        verified=tuple(s.name for s in verified.values()),
        signatures=tuple(verified.values()),
        unverified_signatures=tuple(unverified),
    )


def _parse(note: str) -> tuple[str, list[NoteSignature]]:
    if not isinstance(note, str):
        raise InvalidNoteError("a note is a str")
    _check_characters(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise InvalidNoteError("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise InvalidNoteError(
            "malformed note: the signature block must be non-empty lines ending in a newline"
        )
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise InvalidNoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    return text, [_parse_signature_line(line) for line in lines]


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise InvalidNoteError(f"malformed note: not a signature line: {line!r}")
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    try:
        _check_key_name(name)
    except InvalidKeyError as e:
        raise InvalidNoteError(f"malformed note: {e}") from None
    raw = _decode_base64(encoded, InvalidNoteError, "malformed note: signature")
    if len(raw) < 5:
        raise InvalidNoteError("malformed note: a signature is a 4-byte key ID and at least one byte")
    return NoteSignature(name=name, key_id=raw[:4], base64=encoded)


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise InvalidNoteError("malformed note: the text must end in a newline")
    _check_characters(text)


def _check_characters(value: str) -> None:
    for ch in value:
        if (ch < " " and ch != "\n") or "\ud800" <= ch <= "\udfff":
            raise InvalidNoteError(f"malformed note: character {ord(ch):#06x} is not allowed")


def _check_signature_count(count: int) -> None:
    if count > MAX_SIGNATURES:
        raise InvalidNoteError(f"a note carries at most {MAX_SIGNATURES} signatures, got {count}")


def _check_key_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidKeyError("a key name must be non-empty")
    if "+" in name or any(ch.isspace() for ch in name):
        raise InvalidKeyError(f"a key name must contain neither spaces nor '+': {name!r}")
    if any(ch < " " or "\ud800" <= ch <= "\udfff" for ch in name):
        raise InvalidKeyError(f"a key name must be printable UTF-8: {name!r}")


def _key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    return _key_id_from_encoded(name, bytes([_ALG_ED25519]) + public_key.public_bytes_raw())


def _key_id_from_encoded(name: str, encoded_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + encoded_key).digest()[:4]


def _decode_base64(value: str, error: type[ValueError], what: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise error(f"{what}: not standard base64") from None


# --- Checkpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A transparency log checkpoint body (C2SP tlog-checkpoint): origin, tree size, root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin:
            raise CheckpointError("the origin must be non-empty")
        _check_checkpoint_line("origin", self.origin)
        if (
            isinstance(self.size, bool)
            or not isinstance(self.size, int)
            or not 0 <= self.size <= _MAX_TREE_SIZE
        ):
            raise CheckpointError(
                f"the tree size must be an integer from 0 to {_MAX_TREE_SIZE}, got {self.size!r}"
            )
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != _HASH_SIZE:
            raise CheckpointError(f"the root hash must be {_HASH_SIZE} bytes, got {self.root_hash!r}")
        if not isinstance(self.extensions, tuple):
            raise CheckpointError("the extension lines must be a tuple of str")
        for line in self.extensions:
            if not isinstance(line, str) or not line:
                raise CheckpointError("extension lines must be non-empty")
            _check_checkpoint_line("extension line", line)

    def body(self) -> str:
        """The note text: ``<origin>\\n<size>\\n<base64 root hash>\\n`` and the extension lines."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root_hash).decode("ascii"),
            *self.extensions,
        ]
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body (the text of an opened note), strictly."""
        if not isinstance(text, str) or not text.endswith("\n"):
            raise CheckpointError("a checkpoint body ends in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(f"a checkpoint body has at least 3 lines, got {len(lines)}")
        origin, size, root, *extensions = lines
        if not _TREE_SIZE.fullmatch(size):
            raise CheckpointError(f"the tree size must be decimal without leading zeros, got {size!r}")
        try:
            root_hash = base64.b64decode(root.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise CheckpointError(f"the root hash is not standard base64: {root!r}") from None
        if len(root_hash) != _HASH_SIZE:
            raise CheckpointError(f"the root hash must be {_HASH_SIZE} bytes, got {len(root_hash)}")
        if base64.b64encode(root_hash).decode("ascii") != root:
            raise CheckpointError(f"the root hash is not canonical base64: {root!r}")
        return cls(origin=origin, size=int(size), root_hash=root_hash, extensions=tuple(extensions))


def _check_checkpoint_line(what: str, value: str) -> None:
    for ch in value:
        if ch < " " or "\ud800" <= ch <= "\udfff":
            raise CheckpointError(f"the {what} contains character {ord(ch):#06x}")
