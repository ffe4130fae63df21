"""The log's side of C2SP tlog-witness: submit each checkpoint to the configured witnesses and keep
their cosignatures (C2SP tlog-cosignature, cosignature/v1).

For each witness (``PROVENANT_LOG_WITNESSES``) the checkpoint is sent with the consistency proof
from the size that witness last cosigned (0 at first). A 409 answer names the size the witness
holds: the request is sent again once with the proof from that size. Network errors, timeouts and
5xx answers are retried with exponential backoff (``PROVENANT_LOG_WITNESS_ATTEMPTS``). Every
cosignature is verified against the witness's configured key before it is stored; answers that
are not cosignatures by that key are refused with a named error, never stored.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from provenance.log import LogError, log_consistency_proof
from provenance.models import Checkpoint, WitnessCosignature
from provenance.standards import notes
from provenance.standards.witness import (
    SIZE_CONTENT_TYPE,
    CosignatureError,
    LogWitness,
    format_add_checkpoint,
    note_signature_lines,
    parse_cosignature_lines,
    parse_size_body,
    verify_cosignatures,
)

__all__ = [
    "WitnessError",
    "WitnessReport",
    "checkpoint_cosigned_note",
    "checkpoint_latest_cosigned",
    "witness_integrity_check",
    "witness_cosignatures_verified",
    "witness_submit",
    "witness_submit_all",
]

logger = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 64 * 1024
_BACKOFF_SECONDS = 0.5


class WitnessError(LogError):
    """A witness did not cosign: it refused, answered garbage, or could not be reached."""

    def __init__(self, witness: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"witness {witness}: {message}")
        self.witness = witness
        self.status = status


@dataclass
class WitnessReport:
    """The outcome of submitting one checkpoint to every witness."""

    checkpoint: Checkpoint
    cosigned: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    quorum: int = 0

    @property
    def ok(self) -> bool:
        return len(self.cosigned) >= self.quorum


def _last_cosigned_size(witness: LogWitness, checkpoint: Checkpoint) -> int:
    """The size of the largest checkpoint, up to this one's, that ``witness`` cosigned (0: none)."""
    last = (
        WitnessCosignature.objects.filter(witness=witness.name, checkpoint__size__lte=checkpoint.size)
        .order_by("-checkpoint__size")
        .values_list("checkpoint__size", flat=True)
        .first()
    )
    return last or 0


@dataclass(frozen=True)
class _Answer:
    status: int
    content_type: str
    body: bytes


def _post(client: httpx.Client, witness: LogWitness, body: bytes) -> _Answer:
    """POST add-checkpoint, retrying network errors and 5xx answers with exponential backoff."""
    attempts = settings.LOG_WITNESS_ATTEMPTS
    for attempt in range(attempts):
        try:
            with client.stream(
                "POST", f"{witness.url}/add-checkpoint", content=body, headers={"Content-Type": "text/plain"}
            ) as response:
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_ANSWER_BYTES:
                        raise WitnessError(witness.name, f"answered more than {MAX_ANSWER_BYTES} bytes")
                content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
                answer = _Answer(response.status_code, content_type, bytes(data))
            if answer.status < 500:
                return answer
            problem = f"answered {answer.status}"
        except httpx.HTTPError as exc:
            problem = f"unreachable: {exc.__class__.__name__}: {exc}"
        if attempt + 1 < attempts:
            time.sleep(_BACKOFF_SECONDS * 2**attempt)
    raise WitnessError(witness.name, f"{problem} (after {attempts} attempts)")


def witness_submit(
    checkpoint: Checkpoint, witness: LogWitness, *, client: httpx.Client
) -> WitnessCosignature:
    """Get and store ``witness``'s cosignature on ``checkpoint``; raises :class:`WitnessError`."""
    body = notes.Checkpoint(
        origin=checkpoint.origin, size=checkpoint.size, root_hash=bytes(checkpoint.root_hash)
    )
    text = body.body()
    old = _last_cosigned_size(witness, checkpoint)
    resent = False
    while True:
        proof = log_consistency_proof(old, checkpoint.size) if old else []
        response = _post(client, witness, format_add_checkpoint(old, proof, checkpoint.note))
        if response.status == 409 and not resent:
            try:
                if response.content_type != SIZE_CONTENT_TYPE:
                    raise CosignatureError(
                        f"the 409 answer is {response.content_type or 'untyped'}, not {SIZE_CONTENT_TYPE}"
                    )
                held = parse_size_body(response.body.decode("utf-8", "replace"))
            except CosignatureError as exc:
                raise WitnessError(witness.name, str(exc), status=409) from None
            if held > checkpoint.size:
                raise WitnessError(
                    witness.name,
                    f"holds size {held}, above this checkpoint's {checkpoint.size}: a newer checkpoint was "
                    "cosigned, or the witness saw another view of the log",
                    status=409,
                )
            if held == old:
                raise WitnessError(
                    witness.name,
                    f"refuses size {checkpoint.size} with a checkpoint of size {held} of another root",
                    status=409,
                )
            old, resent = held, True
            continue
        break
    if response.status != 200:
        detail = response.body.decode("utf-8", "replace").strip()[:200]
        raise WitnessError(
            witness.name, f"refused with {response.status}: {detail!r}", status=response.status
        )
    try:
        lines = parse_cosignature_lines(response.body.decode("utf-8"))
        found = verify_cosignatures(text, lines, [witness.verifier])
    except (CosignatureError, UnicodeDecodeError) as exc:
        raise WitnessError(witness.name, f"answered no valid cosignature: {exc}", status=200) from None
    if witness.name not in found:
        raise WitnessError(witness.name, "answered no cosignature by its configured key", status=200)
    cosignature = found[witness.name]
    try:
        with transaction.atomic():
            row, _ = WitnessCosignature.objects.update_or_create(
                checkpoint=checkpoint,
                witness=witness.name,
                defaults={
                    "key_id": cosignature.key_id.hex(),
                    "timestamp": cosignature.timestamp,
                    "signature": cosignature.line,
                },
            )
    except IntegrityError:  # a concurrent submission stored it first
        row = WitnessCosignature.objects.get(checkpoint=checkpoint, witness=witness.name)
    return row


def witness_submit_all(
    checkpoint: Checkpoint, *, transport: httpx.BaseTransport | None = None
) -> WitnessReport:
    """Submit ``checkpoint`` to every configured witness that has not cosigned it yet; errors are
    collected, not raised."""
    report = WitnessReport(checkpoint=checkpoint, quorum=settings.LOG_WITNESS_QUORUM)
    witnesses: list[LogWitness] = settings.LOG_WITNESSES
    if not witnesses:
        return report
    already = set(WitnessCosignature.objects.filter(checkpoint=checkpoint).values_list("witness", flat=True))
    with httpx.Client(timeout=settings.LOG_WITNESS_TIMEOUT, transport=transport) as client:
        for witness in witnesses:
            if witness.name in already:
                report.cosigned.append(witness.name)
                continue
            try:
                witness_submit(checkpoint, witness, client=client)
            except (WitnessError, LogError) as exc:
                logger.warning(
                    "Checkpoint %d of size %d not cosigned: %s", checkpoint.pk, checkpoint.size, exc
                )
                report.errors[witness.name] = str(exc)
            else:
                report.cosigned.append(witness.name)
    return report


def checkpoint_cosigned_note(checkpoint: Checkpoint) -> str:
    """The checkpoint's signed note with the stored cosignatures of configured witnesses appended."""
    names = {w.name for w in settings.LOG_WITNESSES}
    lines = [c.signature for c in checkpoint.cosignatures.all() if c.witness in names]
    return checkpoint.note + "".join(lines)


def witness_cosignatures_verified(note: str, witnesses: list[LogWitness]) -> dict[str, int]:
    """The configured witnesses whose cosignatures on a signed checkpoint note verify: name → time.

    Raises :class:`~provenance.standards.witness.CosignatureError` for a cosignature that claims a
    configured witness's key and does not verify.
    """
    body, lines = note_signature_lines(note)
    found = verify_cosignatures(body, lines, [w.verifier for w in witnesses])
    return {name: c.timestamp for name, c in found.items()}


def witness_integrity_check(report, chunk_size: int) -> int:
    """``provenance_verify``: every stored cosignature by a configured witness verifies against its
    configured key on its checkpoint's body, and some checkpoint is cosigned by the quorum."""
    witnesses = {w.name: w for w in settings.LOG_WITNESSES}
    checked = 0
    rows = (
        WitnessCosignature.objects.select_related("checkpoint")
        .order_by("id")
        .only("id", "witness", "signature", "checkpoint__origin", "checkpoint__size", "checkpoint__root_hash")
    )
    for row in rows.iterator(chunk_size=chunk_size):
        witness = witnesses.get(row.witness)
        if witness is None:
            continue
        checked += 1
        subject = f"cosignature #{row.pk}"
        cp = row.checkpoint
        body = notes.Checkpoint(origin=cp.origin, size=cp.size, root_hash=bytes(cp.root_hash)).body()
        try:
            lines = parse_cosignature_lines(row.signature)
            found = verify_cosignatures(body, lines, [witness.verifier])
        except CosignatureError as exc:
            report.add("cosignature.forged", subject, f"{row.witness} on checkpoint #{cp.pk}: {exc}")
            continue
        if row.witness not in found:
            report.add(
                "cosignature.forged",
                subject,
                f"not a cosignature by {row.witness}'s configured key on checkpoint #{cp.pk}",
            )
    quorum = settings.LOG_WITNESS_QUORUM
    if witnesses and quorum and Checkpoint.objects.exists() and checkpoint_latest_cosigned(quorum) is None:
        report.add(
            "cosignature.quorum",
            "checkpoints",
            f"no checkpoint is cosigned by {quorum} of the configured witnesses",
        )
    return checked


def checkpoint_latest_cosigned(quorum: int) -> Checkpoint | None:
    """The latest checkpoint that at least ``quorum`` configured witnesses cosigned."""
    names = [w.name for w in settings.LOG_WITNESSES]
    return (
        Checkpoint.objects.annotate(cosigned=Count("cosignatures", filter=Q(cosignatures__witness__in=names)))
        .filter(cosigned__gte=quorum)
        .order_by("-id")
        .first()
    )
