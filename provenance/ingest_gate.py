"""A gate other apps can close on the ingest endpoints, e.g. while an audit pauses generation.

Provenance imports none of the apps that depend on it, so they register a check here from their
``AppConfig.ready()``: a callable returning ``None`` while ingest is open, or a :class:`GateClosed`
with the reason and how long to wait. Ingest views add :class:`IngestOpen` to their permission
classes; a closed gate answers 503 with ``Retry-After`` in the API's one error shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission

__all__ = ["GateClosed", "IngestOpen", "IngestPaused", "ingest_gate_check", "ingest_gate_register"]


@dataclass(frozen=True)
class GateClosed:
    reason: str
    retry_after_seconds: int


_checks: list[Callable[[], GateClosed | None]] = []


def ingest_gate_register(check: Callable[[], GateClosed | None]) -> None:
    """Add a check (idempotent: registering the same callable twice keeps one)."""
    if check not in _checks:
        _checks.append(check)


def ingest_gate_check() -> GateClosed | None:
    """The first registered check that closes the gate, or ``None`` when ingest is open."""
    for check in _checks:
        closed = check()
        if closed is not None:
            return closed
    return None


class IngestPaused(APIException):
    """503: ingest is paused. DRF's handler turns ``wait`` into the ``Retry-After`` header."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Ingest is paused; retry after the indicated delay."
    default_code = "ingest_paused"

    def __init__(self, detail: str | None = None, *, wait: int = 60) -> None:
        super().__init__(detail)
        self.wait = wait


class IngestOpen(BasePermission):
    """Refuse the request with :class:`IngestPaused` while a registered check closes the gate."""

    def has_permission(self, request, view) -> bool:
        closed = ingest_gate_check()
        if closed is not None:
            raise IngestPaused(closed.reason, wait=closed.retry_after_seconds)
        return True
