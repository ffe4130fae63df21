"""The public, read-only transparency log endpoints (``/log/*``; formats in README.md).

Anyone may read them: a verifier holding only ``/log/key`` checks ``/log/checkpoint``, recomputes
its root from ``/log/entries`` and checks ``/log/proof/*`` with any RFC 9162 / C2SP implementation.
Responses about a fixed tree size never change and are cached as immutable.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from provenance.checkpoints import (
    checkpoint_latest,
    checkpoint_timestamped,
    log_verifier_keys,
    timestamp_response_bytes,
)
from provenance.log import (
    ENTRIES_PAGE_LIMIT,
    LogIntegrityError,
    LogRangeError,
    log_consistency_proof,
    log_entries,
    log_inclusion_proof,
    log_size,
)
from provenance.witnessing import checkpoint_cosigned_note

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=10"
CHECKPOINT_MAX_AGE = "public, max-age=30"
KEY_MAX_AGE = "public, max-age=300"

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
_MAX_INT = 2**63 - 1


class BadRequest(Exception):
    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    response = JsonResponse(
        {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


logger = logging.getLogger(__name__)


def public_log_view(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """GET/HEAD only, CORS open, :class:`BadRequest` and :class:`LogRangeError` answered with a 400."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = error_response(405, "method_not_allowed", f"{request.method} is not allowed here")
            response["Allow"] = "GET, HEAD"
        else:
            try:
                response = view(request)
            except BadRequest as exc:
                response = error_response(400, "invalid", exc.message, exc.fields)
            except LogRangeError as exc:
                fields = {exc.field: [_sentence(str(exc))]} if exc.field else {}
                response = error_response(400, "invalid", str(exc), fields)
            except LogIntegrityError as exc:
                # Our fault, not the caller's: say so plainly, never cache it, and alert the operator.
                logger.error("Transparency log answer refused, stored rows damaged: %s", exc)
                response = error_response(
                    500,
                    "log_damaged",
                    "The log's stored rows are damaged, so this answer cannot be served; the operator "
                    "has been alerted (manage.py provenance_verify names the damaged rows).",
                )
                response["Cache-Control"] = "no-store"
        response["Access-Control-Allow-Origin"] = "*"
        return response

    # Nothing here changes state, so a POST gets the JSON 405 rather than a CSRF failure page.
    return csrf_exempt(wrapper)


def _int_param(request: HttpRequest, name: str, default: int | None = None) -> int:
    raw = request.GET.get(name)
    if raw is None and default is not None:
        return default
    if raw is None or (raw == "" and default is None):
        raise BadRequest(f"the query parameter {name!r} is required", {name: ["This parameter is required."]})
    if not _DECIMAL.fullmatch(raw) or int(raw) > _MAX_INT:
        raise BadRequest(
            f"the query parameter {name!r} must be a non-negative decimal integer, got {raw[:40]!r}",
            {name: ["Must be a non-negative decimal integer."]},
        )
    return int(raw)


def _sentence(message: str) -> str:
    return message[0].upper() + message[1:] + "."


def _out_of_range(name: str, message: str) -> BadRequest:
    return BadRequest(message, {name: [_sentence(message)]})


def _b64(value: bytes) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _json(body: dict, cache_control: str) -> JsonResponse:
    response = JsonResponse(body)
    response["Cache-Control"] = cache_control
    return response


@public_log_view
def checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest signed checkpoint, a C2SP signed note, with the witnesses' cosignatures appended."""
    latest = checkpoint_latest()
    if latest is None:
        return error_response(404, "not_found", "no checkpoint has been signed yet")
    response = HttpResponse(checkpoint_cosigned_note(latest), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = CHECKPOINT_MAX_AGE
    return response


@public_log_view
def key(request: HttpRequest) -> HttpResponse:
    """Every verifier key that signs or signed checkpoints, one a line, the active one first."""
    lines = log_verifier_keys()
    if not lines:
        return error_response(404, "not_found", "no log signing key is configured")
    response = HttpResponse("".join(f"{line}\n" for line in lines), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = KEY_MAX_AGE
    return response


@public_log_view
def entries(request: HttpRequest) -> HttpResponse:
    """Entries with ``start <= index < end``, at most ENTRIES_PAGE_LIMIT; ``next`` continues the page."""
    start = _int_param(request, "start")
    end = _int_param(request, "end", default=start + ENTRIES_PAGE_LIMIT)
    if end < start:
        raise _out_of_range("end", f"end {end} is smaller than start {start}")
    size = log_size()
    if start > size:
        raise _out_of_range("start", f"start {start} is beyond the log's size {size}")
    page = log_entries(start, end, ENTRIES_PAGE_LIMIT, size=size)
    reached = start + len(page)
    stop = min(end, size)
    body = {
        "entries": [
            {
                "index": entry.index,
                "kind": entry.kind,
                "data": _b64(entry.data),
                "leaf_hash": _b64(entry.leaf_hash),
            }
            for entry in page
        ],
        "next": reached if reached < stop else None,
    }
    return _json(body, IMMUTABLE if end <= size else SHORT)


@public_log_view
def inclusion_proof(request: HttpRequest) -> HttpResponse:
    """The RFC 9162 audit path of entry ``index`` in the tree of ``size`` entries."""
    index = _int_param(request, "index")
    size = _int_param(request, "size")
    hashes = log_inclusion_proof(index, size)
    return _json({"index": index, "size": size, "hashes": [_b64(h) for h in hashes]}, IMMUTABLE)


@public_log_view
def consistency_proof(request: HttpRequest) -> HttpResponse:
    """The RFC 9162 consistency proof from the tree of ``old`` entries to the tree of ``new`` entries."""
    old = _int_param(request, "old")
    new = _int_param(request, "new")
    hashes = log_consistency_proof(old, new)
    return _json({"old": old, "new": new, "hashes": [_b64(h) for h in hashes]}, IMMUTABLE)


@public_log_view
def checkpoint_timestamp(request: HttpRequest) -> HttpResponse:
    """The RFC 3161 timestamp (a ``TimeStampResp``, DER) over the signed note of the latest checkpoint,
    or of the latest one of ``size`` entries; the stamped note is ``/log/checkpoint`` of that size."""
    size = _int_param(request, "size") if "size" in request.GET else None
    stamped = checkpoint_timestamped(size=size) if size is not None else checkpoint_latest()
    reply = timestamp_response_bytes(stamped) if stamped else None
    if reply is None:
        return error_response(404, "not_found", "no timestamped checkpoint of that size")
    response = HttpResponse(reply, content_type="application/timestamp-reply")
    response["Cache-Control"] = IMMUTABLE if "size" in request.GET else CHECKPOINT_MAX_AGE
    response["X-Checkpoint-Size"] = str(stamped.size)
    return response
