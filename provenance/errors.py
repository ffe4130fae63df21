"""The API's one error shape, produced by one exception handler for every DRF view.

    {"error": {"code": "invalid", "message": "...", "fields": {"inputs.2": ["..."]}}}

``code`` is stable and machine-readable, ``message`` is for people, ``fields`` maps each invalid
request field (nested fields joined with dots, list items by position) to its messages and is
empty when the error is not about particular fields.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

__all__ = [
    "Conflict",
    "DatabaseUnavailable",
    "ErrorResponseSerializer",
    "LogBusy",
    "PayloadTooLarge",
    "api_exception_handler",
    "error_body",
    "exception_error_body",
    "is_database_unavailable",
]


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class TooManyFields(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request has more form fields or files than the API accepts."
    default_code = "too_many_fields"


class LogBusy(exceptions.APIException):
    """The transparency log's writer lock stayed taken (a large sync is committing): try again."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The provenance log is busy with a sync; retry after the indicated delay."
    default_code = "log_busy"
    retry_after_seconds = 30


class DatabaseUnavailable(exceptions.APIException):
    """The registry database cannot be reached right now (restarting, failing over, out of connections).

    Nothing was written, so the request can be repeated as it is: ``503`` with ``Retry-After``
    (RFC 9110 §15.6.4) rather than a ``500`` that tells a pipeline the request itself was at fault.
    """

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "The registry database is unavailable; nothing was stored. Retry after the indicated delay."
    )
    default_code = "database_unavailable"
    retry_after_seconds = 5


# MySQL/MariaDB error numbers that mean "cannot reach the server now", not "this query is wrong":
# server side 1040 (too many connections), 1053 (shutting down), 1927 (connection killed); client side
# 2002/2003 (cannot connect), 2006 (server has gone away), 2013 (lost connection), 2055 (lost at a
# system error).
_UNREACHABLE_MYSQL_CODES = frozenset({1040, 1053, 1927, 2002, 2003, 2006, 2013, 2055})
_UNREACHABLE_SQLITE_MESSAGES = ("unable to open database file", "disk i/o error")


def is_database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database could not be reached (not that a statement failed)."""
    if isinstance(exc, DatabaseInterfaceError):
        return True
    if not isinstance(exc, DatabaseOperationalError):
        return False
    code = exc.args[0] if exc.args else None
    if isinstance(code, int):
        return code in _UNREACHABLE_MYSQL_CODES
    return str(exc).lower().startswith(_UNREACHABLE_SQLITE_MESSAGES)


def _is_lock_timeout(exc: Exception) -> bool:
    if not isinstance(exc, DatabaseOperationalError):
        return False
    code = exc.args[0] if exc.args else None
    return code in (1205, 1213) or "database is locked" in str(exc)


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `invalid`, `conflict`.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per request field (nested fields joined with dots); empty when none.",
    )


class ErrorResponseSerializer(serializers.Serializer):
    """The body of every 4xx answer of the API."""

    error = ErrorBodySerializer()


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_error_body(exc: exceptions.APIException) -> dict:
    """The error shape of ``exc`` as a body, for answers that report several errors (a batch)."""
    return error_body(*_describe(exc))


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Render DRF's exceptions (and Django's 404 / permission denied) in the one error shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif _is_lock_timeout(exc):
        exc = LogBusy()
    elif is_database_unavailable(exc):
        exc = DatabaseUnavailable()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(
            f"A form field is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes allowed "
            "outside file parts; send large data as a file part."
        )
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = TooManyFields()
    response = exception_handler(exc, context)
    if isinstance(exc, LogBusy | DatabaseUnavailable) and response is not None:
        response["Retry-After"] = str(exc.retry_after_seconds)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code, message, fields = _describe(exc)
    response.data = error_body(code, message, fields)
    return response


def _describe(exc: exceptions.APIException) -> tuple[str, str, dict[str, list[str]]]:
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        fields: dict[str, list[str]] = {}
        general: list[str] = []
        _flatten(detail, "", fields, general)
        message = " ".join(general) if general else "The request has invalid fields."
        return "invalid", message, fields
    code = exc.get_codes()
    return (code if isinstance(code, str) else exc.default_code), str(detail), {}


def _flatten(detail, path: str, fields: dict[str, list[str]], general: list[str]) -> None:
    """Collect DRF's nested error details as dotted field paths; top-level errors go to ``general``."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if not path and key == api_settings.NON_FIELD_ERRORS_KEY:
                _flatten(value, "", fields, general)
            else:
                _flatten(value, f"{path}.{key}" if path else str(key), fields, general)
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for position, item in enumerate(detail):
            if item:
                _flatten(item, f"{path}.{position}" if path else str(position), fields, general)
    else:
        messages = detail if isinstance(detail, list) else [detail]
        (fields.setdefault(path, []) if path else general).extend(str(m) for m in messages)
