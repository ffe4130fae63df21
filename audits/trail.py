"""The audit trail: append-only events, hash-chained, anchored in the transparency log.

Each event's ``hash`` is SHA-256 over the RFC 8785 canonical JSON (:mod:`provenance.standards.canonical`) of
its fields, ``prev_hash`` (the previous event's ``hash``) among them; the first event's
``prev_hash`` is 64 zeros. Writers are serialised by a row lock on :class:`~audits.models.AuditHead`,
held until the caller's transaction ends, so an event commits or rolls back with the change it
records. :func:`audit_anchor` appends the head (``seq``, ``hash``) to the transparency log as an
``audit.anchor`` entry; :func:`audit_verify` recomputes the chain and checks every anchor, naming
each edited, deleted or reordered event.

Personal fields (names, e-mail addresses, passwords, secrets, tokens) are masked in ``before`` /
``after`` before anything is hashed or stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import models, router, transaction
from django.utils import timezone

from audits.models import AuditAnchor, AuditEvent, AuditHead
from provenance.log import log_append
from provenance.models import LogEntry
from provenance.standards.canonical import canonical_json
from sidecar.client_ip import client_ip

__all__ = [
    "EXPORTED_FIELDS",
    "GENESIS_HASH",
    "HASHED_FIELDS",
    "audit_anchor",
    "audit_event_fields",
    "audit_event_hash",
    "audit_record",
    "audit_verify",
    "mask_personal",
    "model_snapshot",
]

GENESIS_HASH = "0" * 64
MASK = "[masked]"
_PERSONAL_KEYS = ("password", "email", "first_name", "last_name", "secret", "token", "phone", "address")
# Masked by exact name only (as a part of a name, "key" is too common): django-otp's TOTP device key.
_SECRET_NAMES = frozenset({"key"})
_MAX_SAFE_INTEGER = 2**53 - 1
# An event's hash covers exactly these fields; an export carries them (as hashed) with seq and hash,
# so anyone can recompute the chain from the export alone.
HASHED_FIELDS = (
    "at",
    "actor",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "detail",
    "ip",
    "prev_hash",
)
EXPORTED_FIELDS = ("seq", *HASHED_FIELDS, "hash")


def _plain(value):
    """A JSON value with an RFC 8785 form: dates as ISO strings, big integers and others as strings."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER else str(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds") if value.tzinfo else value.isoformat()
    if isinstance(value, date | Decimal | UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


def mask_personal(value):
    """``value`` with every member whose name looks personal (``email``, ``password``…) masked."""
    if isinstance(value, dict):
        return {
            k: (
                MASK
                if (str(k).lower() in _SECRET_NAMES or any(p in str(k).lower() for p in _PERSONAL_KEYS))
                and v not in (None, "")
                else mask_personal(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_personal(v) for v in value]
    return value


def model_snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict:
    """The concrete field values of ``obj`` (foreign keys by id), JSON-ready and masked."""
    names = set(fields) if fields is not None else None
    data = {}
    for field in obj._meta.concrete_fields:
        if names is not None and field.name not in names:
            continue
        data[field.attname] = getattr(obj, field.attname)
    return mask_personal(_plain(data))


def audit_event_hash(fields: dict) -> str:
    """SHA-256 (hex) of the RFC 8785 JSON of an event's hashed fields."""
    return hashlib.sha256(canonical_json({k: fields[k] for k in HASHED_FIELDS})).hexdigest()


def audit_event_fields(event: AuditEvent) -> dict:
    """The event's :data:`HASHED_FIELDS` as they are hashed (``at`` as an ISO string in UTC)."""
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    fields["at"] = _plain(event.at)
    return fields


def _head_lock() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=AuditHead.SINGLETON_ID).first()
    if head is None:
        AuditHead.objects.get_or_create(pk=AuditHead.SINGLETON_ID)
        head = AuditHead.objects.select_for_update().get(pk=AuditHead.SINGLETON_ID)
    return head


def audit_record(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    detail: dict | None = None,
    request=None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction (or its own).

    ``actor`` is a user, a ``"system:…"`` string or ``None`` (then the request's user, if any);
    ``obj`` names the object (or pass ``object_type``/``object_id``/``object_repr``).
    """
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    if isinstance(actor, str):
        actor_name, actor_id = actor, None
    elif actor is not None and getattr(actor, "pk", None) is not None and hasattr(actor, "get_username"):
        actor_name, actor_id = actor.get_username(), actor.pk
    else:
        actor_name, actor_id = "", None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    with transaction.atomic(using=router.db_for_write(AuditEvent)):
        head = _head_lock()
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor_name[:150],
            actor_id=actor_id,
            action=action[:64],
            object_type=object_type[:100],
            object_id=str(object_id or "")[:64],
            object_repr=(object_repr or "")[:200],
            before=mask_personal(_plain(before)) if before is not None else None,
            after=mask_personal(_plain(after)) if after is not None else None,
            detail=mask_personal(_plain(detail or {})),
            ip=client_ip(request),
            prev_hash=head.hash,
        )
        event.hash = audit_event_hash(audit_event_fields(event))
        event.save(force_insert=True)
        AuditHead.objects.filter(pk=AuditHead.SINGLETON_ID).update(seq=event.seq, hash=event.hash)
    return event


def audit_anchor(*, force: bool = False) -> AuditAnchor | None:
    """Append the chain's head to the transparency log; ``None`` when it was already anchored.

    Idempotent: a second run with no new events anchors nothing (unless ``force``).
    """
    with transaction.atomic(using=router.db_for_write(AuditEvent)):
        head = _head_lock()
        if head.seq == 0:
            return None
        last = AuditAnchor.objects.order_by("-seq").first()
        if last is not None and last.seq >= head.seq and not force:
            return None
        entry = log_append(kind="audit.anchor", payload={"seq": head.seq, "hash": head.hash})
        return AuditAnchor.objects.create(seq=head.seq, hash=head.hash, log_index=entry.index)


# --- Verification ---------------------------------------------------------------------------------


def audit_verify(report, chunk_size: int = 5000) -> int:
    """Recompute the chain and check the anchors; add findings to ``report`` (``report.add``).

    Returns the number of events checked.
    """
    anchors: list[tuple[int, int, str]] = []
    for index, data in (
        LogEntry.objects.filter(kind="audit.anchor").order_by("index").values_list("index", "data")
    ):
        try:
            anchored = json.loads(bytes(data))
            anchors.append((index, int(anchored["seq"]), str(anchored["hash"])))
        except (ValueError, KeyError, TypeError):
            report.add("audit_anchor_unreadable", f"entry {index}", "audit.anchor entry is not readable")
    anchored_seqs = {seq for _, seq, _ in anchors}

    checked = 0
    expected_seq = 1
    prev_hash = GENESIS_HASH
    last_seq = 0
    hashes: dict[int, str] = {}
    after = 0
    while True:
        chunk = list(AuditEvent.objects.filter(seq__gt=after).order_by("seq")[:chunk_size])
        if not chunk:
            break
        for event in chunk:
            checked += 1
            gap = event.seq != expected_seq
            if gap:
                missing = (
                    f"#{expected_seq}"
                    if event.seq == expected_seq + 1
                    else f"#{expected_seq}-#{event.seq - 1}"
                )
                report.add(
                    "audit_event_missing",
                    f"audit event {expected_seq}",
                    f"events {missing} are missing before #{event.seq} (deleted)",
                )
            computed = audit_event_hash(audit_event_fields(event))
            if not hmac.compare_digest(computed, event.hash):
                report.add(
                    "audit_event_edited",
                    f"audit event {event.seq}",
                    f"{event.action} by {event.actor or 'system'}: its fields do not match its hash "
                    f"(edited; stored {event.hash[:16]}…, computed {computed[:16]}…)",
                )
            if not gap and not hmac.compare_digest(event.prev_hash, prev_hash):
                report.add(
                    "audit_chain_broken",
                    f"audit event {event.seq}",
                    f"does not follow event #{event.seq - 1} in the chain (reordered or inserted)",
                )
            prev_hash = event.hash
            expected_seq = event.seq + 1
            last_seq = event.seq
            if event.seq in anchored_seqs:
                hashes[event.seq] = event.hash
        after = chunk[-1].seq
    head = AuditHead.objects.filter(pk=AuditHead.SINGLETON_ID).first()
    if head is not None and (head.seq != last_seq or (last_seq and head.hash != prev_hash)):
        report.add(
            "audit_tail_missing",
            f"audit event {last_seq + 1}",
            f"the chain's head is #{head.seq} but the last event is #{last_seq} (events deleted at the end)",
        )
    for index, seq, anchored_hash in anchors:
        stored = hashes.get(seq)
        if stored is None:
            report.add(
                "audit_anchor_missing_event",
                f"audit event {seq}",
                f"anchored in log entry {index} but missing from the audit trail (deleted)",
            )
        elif not hmac.compare_digest(stored, anchored_hash):
            report.add(
                "audit_anchor_mismatch",
                f"audit event {seq}",
                f"its hash differs from the one anchored in log entry {index} (the chain was rewritten)",
            )
    return checked
