"""Django's error pages, in the API's JSON error shape (STYLE.md) for machine paths.

A request that never reaches a view (an unknown URL under ``/api/``, a body Django refuses before
parsing, an unhandled exception) would otherwise get Django's HTML page; API clients and the log's
readers get ``{"error": {"code", "message", "fields"}}`` instead. Staff pages keep the HTML pages.
"""

from __future__ import annotations

import logging

from django.views import defaults

from provenance.errors import DatabaseUnavailable, is_database_unavailable
from provenance.views import error_response

logger = logging.getLogger(__name__)

MACHINE_PREFIXES = ("/api/", "/log/", "/healthz")


def _machine(request) -> bool:
    return request.path.startswith(MACHINE_PREFIXES)


def bad_request(request, exception=None):
    if _machine(request):
        return error_response(400, "invalid", "The request could not be read.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _machine(request):
        return error_response(403, "permission_denied", "You do not have permission to do this.")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _machine(request):
        response = error_response(404, "not_found", f"No API endpoint at {request.path[:200]!r}.")
        response["Access-Control-Allow-Origin"] = "*"
        return response
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _machine(request):
        response = error_response(
            500, "server_error", "The server failed to answer; the operator has been alerted."
        )
        response["Cache-Control"] = "no-store"
        return response
    return defaults.server_error(request)


class DatabaseUnavailableMiddleware:
    """A machine path whose database cannot be reached answers ``503 database_unavailable``.

    DRF views get the same answer from ``provenance.errors.api_exception_handler``; this covers the
    plain views (``/log/*``) and anything raised around a view. Staff pages keep Django's 500 page.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not (_machine(request) and is_database_unavailable(exception)):
            return None
        logger.error("Database unreachable while answering %s: %s", request.path[:200], exception)
        response = error_response(
            503, DatabaseUnavailable.default_code, str(DatabaseUnavailable.default_detail)
        )
        response["Retry-After"] = str(DatabaseUnavailable.retry_after_seconds)
        if request.path.startswith(("/log/", "/healthz")):
            response["Access-Control-Allow-Origin"] = "*"
        return response
