"""Signed checkpoints of the transparency log, the keys that signed them, and RFC 3161 timestamps.

A checkpoint is a C2SP tlog-checkpoint body (``<origin>\\n<size>\\n<base64 root>\\n``) in a C2SP
signed note with an Ed25519 signature (:mod:`provenance.standards.notes`), so Go's ``sumdb/note`` opens it.
Before signing, the new tree is proven consistent with the last checkpoint (RFC 9162 §2.1.4) from
the stored hashes: a log never signs two checkpoints that contradict each other.

Every public key that signs is kept in :class:`~provenance.models.LogKey`; rotating the configured
key retires the old one without forgetting it, so old checkpoints stay verifiable.

With ``PROVENANT_TSA_URL`` set, each new checkpoint's signed note is sent to that RFC 3161 time
stamping authority after commit and the returned TimeStampToken is stored with the checkpoint.
"""

from __future__ import annotations

import hashlib
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.db import router, transaction
from django.utils import timezone

from provenance.log import LogError, log_head_lock, log_read_hashes
from provenance.models import Checkpoint, LogKey
from provenance.standards import merkle, notes

__all__ = [
    "CheckpointError",
    "CheckpointRefusedError",
    "LogKeyMissingError",
    "TimestampError",
    "checkpoint_latest",
    "checkpoint_sign",
    "checkpoint_timestamp",
    "checkpoint_timestamped",
    "log_signer",
    "log_verifier_keys",
    "timestamp_response_bytes",
]

logger = logging.getLogger(__name__)

TSA_MAX_RESPONSE_BYTES = 1024 * 1024


class CheckpointError(LogError):
    """A checkpoint could not be signed or timestamped."""


class LogKeyMissingError(CheckpointError):
    """No signing key is configured."""


class CheckpointRefusedError(CheckpointError):
    """The log's current tree is not consistent with the last signed checkpoint: nothing was signed."""


class TimestampError(CheckpointError):
    """The time stamping authority did not return a usable timestamp."""


# --- Services -------------------------------------------------------------------------------------


def log_signer() -> notes.NoteSigner:
    """The configured checkpoint signing key; raises :class:`LogKeyMissingError` when there is none."""
    key = getattr(settings, "LOG_SIGNING_KEY", "")
    if not key:
        raise LogKeyMissingError(
            "no log signing key: create one with `python manage.py provenance_keygen --out FILE` and "
            "set PROVENANT_LOG_KEY_FILE=FILE (or PROVENANT_LOG_KEY to the key string)"
        )
    return notes.signer_from_key_string(key)


def checkpoint_sign(*, force: bool = False) -> Checkpoint | None:
    """Sign a checkpoint of the log as it is now, if it grew since the last checkpoint (or ``force``).

    Holds the log's writer lock while it reads the size and hashes, proves the tree consistent with
    the last checkpoint and signs; raises :class:`CheckpointRefusedError` (and signs nothing) when
    the proof fails, :class:`LogKeyMissingError` without a key. Returns ``None`` when there is
    nothing new to sign. With a TSA configured, the checkpoint is timestamped after commit.
    """
    signer = log_signer()
    origin = settings.LOG_ORIGIN
    using = router.db_for_write(Checkpoint)
    with transaction.atomic(using=using):
        size = log_head_lock(using).size
        last = Checkpoint.objects.using(using).order_by("-id").first()
        if not force and (size == 0 if last is None else size == last.size):
            return None

        def read(indexes: list[int]) -> list[bytes]:
            return log_read_hashes(indexes, using=using)

        try:
            root = merkle.tree_hash(size, read)
            if last is not None:
                _prove_extends(last, size, root, read)
        except (LogError, merkle.MerkleProofError) as exc:
            raise CheckpointRefusedError(
                f"refusing to sign the tree of size {size}: it is not consistent with checkpoint "
                f"#{last.pk if last else '-'} (size {last.size if last else 0}): {exc}"
            ) from exc

        body = notes.Checkpoint(origin=origin, size=size, root_hash=root).body()
        note = notes.sign_note(body, [signer])
        _record_key(signer, using)
        checkpoint = Checkpoint.objects.using(using).create(
            size=size,
            root_hash=root,
            origin=origin,
            note=note,
            key_ids=[f"{signer.name}+{signer.key_id.hex()}"],
        )
        if getattr(settings, "TSA_URL", ""):
            transaction.on_commit(lambda: _timestamp_quietly(checkpoint.pk), using=using, robust=True)
    logger.info("Signed log checkpoint of size %d", size)
    return checkpoint


def _prove_extends(last: Checkpoint, size: int, root: bytes, read: merkle.HashReader) -> None:
    if size < last.size:
        raise CheckpointRefusedError(
            f"the log has {size} entries, fewer than the {last.size} of checkpoint #{last.pk}"
        )
    proof = merkle.prove_tree(size, last.size, read)
    merkle.verify_consistency(last.size, size, bytes(last.root_hash), root, proof)


def _record_key(signer: notes.NoteSigner, using: str) -> LogKey:
    """Remember the signing key; any other key still marked active has been rotated out."""
    now = timezone.now()
    keys = LogKey.objects.using(using)
    key, _ = keys.get_or_create(
        verifier_key=signer.verifier_key(),
        defaults={"name": signer.name, "key_id": signer.key_id.hex(), "first_used_at": now},
    )
    if key.retired_at is not None:
        keys.filter(pk=key.pk).update(retired_at=None)
    keys.exclude(pk=key.pk).filter(retired_at__isnull=True).update(retired_at=now)
    return key


def checkpoint_timestamp(*, checkpoint: Checkpoint, tsa_url: str | None = None) -> Checkpoint:
    """Get an RFC 3161 timestamp over the checkpoint's signed note and store its TimeStampToken.

    Asks ``tsa_url`` (default ``PROVENANT_TSA_URL``) for a SHA-256 imprint with a nonce and the
    TSA's certificate; checks the status, imprint and nonce, and with ``PROVENANT_TSA_CA_CERTS`` (a PEM
    file) the signature and certificate chain. Raises :class:`TimestampError`.
    """
    from rfc3161_client import (
        HashAlgorithm,
        PKIStatus,
        TimestampRequestBuilder,
        VerificationError,
        VerifierBuilder,
        decode_timestamp_response,
    )

    url = tsa_url or getattr(settings, "TSA_URL", "")
    if not url:
        raise TimestampError("no time stamping authority configured (PROVENANT_TSA_URL)")
    message = checkpoint.note.encode("utf-8")
    request = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    http_request = urllib.request.Request(  # noqa: S310 - the URL is an http(s) setting
        url,
        data=request.as_bytes(),
        headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(http_request, timeout=settings.TSA_TIMEOUT) as reply:  # noqa: S310
            body = reply.read(TSA_MAX_RESPONSE_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"time stamping authority {url} unreachable: {exc}") from exc
    if len(body) > TSA_MAX_RESPONSE_BYTES:
        raise TimestampError("time stamping authority answered with more than 1 MiB")
    try:
        response = decode_timestamp_response(body)
    except ValueError as exc:
        raise TimestampError(f"not an RFC 3161 response: {exc}") from exc
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"time stamping authority refused: status {response.status}")
    info = response.tst_info
    if info.message_imprint.message != hashlib.sha256(message).digest():
        raise TimestampError("the timestamp is over another message than the checkpoint")
    if info.nonce != request.nonce:
        raise TimestampError("the timestamp's nonce does not match the request's")
    ca_file = getattr(settings, "TSA_CA_CERTS", "")
    if ca_file:
        verifier = VerifierBuilder.from_request(request)
        for cert in _load_certificates(ca_file):
            verifier = verifier.add_root_certificate(cert)
        try:
            verifier.build().verify_message(response, message)
        except VerificationError as exc:
            raise TimestampError(f"the timestamp does not verify against {ca_file}: {exc}") from exc

    checkpoint.timestamp_token = response.time_stamp_token()
    checkpoint.tsa_url = url
    checkpoint.timestamped_at = info.gen_time
    checkpoint.save(update_fields=["timestamp_token", "tsa_url", "timestamped_at"])
    return checkpoint


def _load_certificates(path: str) -> list:
    from cryptography import x509

    with open(path, "rb") as f:
        return x509.load_pem_x509_certificates(f.read())


def _timestamp_quietly(checkpoint_id: int) -> None:
    checkpoint = Checkpoint.objects.get(pk=checkpoint_id)
    try:
        checkpoint_timestamp(checkpoint=checkpoint)
    except TimestampError as exc:
        # The checkpoint stands on its own signature; a missing timestamp is retried by the command.
        logger.warning("Checkpoint %d of size %d not timestamped: %s", checkpoint.pk, checkpoint.size, exc)


# --- Selectors ------------------------------------------------------------------------------------


def checkpoint_latest() -> Checkpoint | None:
    """The most recently signed checkpoint."""
    return Checkpoint.objects.order_by("-id").first()


def checkpoint_timestamped(*, size: int) -> Checkpoint | None:
    """The most recent checkpoint of ``size`` entries that carries an RFC 3161 timestamp."""
    return Checkpoint.objects.filter(size=size, timestamp_token__isnull=False).order_by("-id").first()


def log_verifier_keys() -> list[str]:
    """Every verifier key string that signed checkpoints, the active one first, then the retired ones
    newest first; the configured key is included before its first use."""
    keys = list(LogKey.objects.order_by("-first_used_at", "-id"))
    active = [k.verifier_key for k in keys if k.retired_at is None]
    retired = [k.verifier_key for k in keys if k.retired_at is not None]
    lines = active + retired
    if getattr(settings, "LOG_SIGNING_KEY", ""):
        configured = log_signer().verifier_key()
        if configured not in lines:
            lines.insert(0, configured)
    return lines


def timestamp_response_bytes(checkpoint: Checkpoint) -> bytes | None:
    """The stored TimeStampToken wrapped in a granted TimeStampResp (RFC 3161 §2.4.2), DER, for
    tools that read ``.tsr`` files (``openssl ts -verify -in``)."""
    if not checkpoint.timestamp_token:
        return None
    token = bytes(checkpoint.timestamp_token)
    status = b"\x30\x03\x02\x01\x00"  # PKIStatusInfo { status granted(0) }
    return _der_sequence(status + token)


def _der_sequence(content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        encoded = bytes([length])
    else:
        raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
        encoded = bytes([0x80 | len(raw)]) + raw
    return b"\x30" + encoded + content
