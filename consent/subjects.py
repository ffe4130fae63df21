"""Pseudonymous consent subjects and the canonical form of a consent event.

- The subject id the consent platform sends is replaced, before anything is stored, by its
  HMAC-SHA256 (RFC 2104, FIPS 198-1) under the store secret: the same shopper maps to the same
  hash, and without the secret the hash cannot be tried against guessed ids.
- An event's identity is the SHA-256 of its RFC 8785 canonical JSON with the keyed hash in place
  of the subject and ``occurred_at`` as RFC 3339 UTC with microseconds, so a replay (even with
  the time written differently) has the same hash, and the hash says nothing about the subject.

Django-free, so an offline verifier can recompute event hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime

from provenance.standards.canonical import canonical_json

__all__ = [
    "PURPOSE",
    "PURPOSE_RULE",
    "SUBJECT",
    "SUBJECT_RULE",
    "event_canonical",
    "event_rank",
    "event_sha256",
    "subject_hash",
    "utc_text",
]

SUBJECT = re.compile(r"[A-Za-z0-9._~:+=-]{1,200}")
SUBJECT_RULE = "1-200 letters, digits or ._~:+=- (a pseudonymous id; an e-mail address is refused)"
PURPOSE = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")
PURPOSE_RULE = "1-64 lower-case letters, digits or _.:-, starting with a letter or digit"


def subject_hash(subject: str, key: bytes) -> str:
    """The hex HMAC-SHA256 of ``subject`` under ``key``."""
    return hmac.new(key, subject.encode("utf-8"), hashlib.sha256).hexdigest()


def utc_text(moment: datetime) -> str:
    """``moment`` as fixed-width RFC 3339 UTC with microseconds (sorts as it orders in time)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_canonical(
    *, subject_hash: str, purpose: str, state: str, policy_version: str, source: str, occurred_at: datetime
) -> bytes:
    return canonical_json(
        {
            "subject": subject_hash,
            "purpose": purpose,
            "state": state,
            "policy_version": policy_version,
            "source": source,
            "occurred_at": utc_text(occurred_at),
        }
    )


def event_sha256(**fields) -> str:
    """The hex SHA-256 of :func:`event_canonical` of ``fields``."""
    return hashlib.sha256(event_canonical(**fields)).hexdigest()


def event_rank(*, occurred_at: datetime, state: str, sha256: str) -> str:
    """A string that sorts consent events of one subject and purpose: the later ``occurred_at``
    wins; at the same instant a withdrawal wins over a grant (the cautious reading); then the hash,
    so every replica and every arrival order picks the same event."""
    return f"{utc_text(occurred_at)}|{1 if state == 'withdrawn' else 0}|{sha256}"
