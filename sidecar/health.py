"""``GET /healthz``: liveness and readiness of the database, Redis and Magento.

The answer is public (load balancers call it unauthenticated), so a failed check names only the kind
of failure (or an exception's own ``public_reason``); the driver's message, which carries users,
hosts, ports, database names and file paths, goes to the server log.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)


def _timed(name: str, check) -> dict:
    started = time.perf_counter()
    try:
        detail = check()
        result = {"ok": True}
        if detail:
            result["detail"] = detail
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        logger.warning("Health check %s failed: %s: %s", name, type(exc).__name__, exc)
        reason = getattr(exc, "public_reason", "unreachable")
        result = {"ok": False, "error": f"{type(exc).__name__}: {reason} (details in the server log)"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")


def _redis() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def _magento() -> None:
    from magento_bridge.services import magento_reader

    with magento_reader() as reader:
        reader.connect_timeout = 3
        reader.ping()


@csrf_exempt  # nothing here changes state: a POST gets the JSON 405, not a CSRF failure page
@never_cache
def healthz(request):
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse(
            {
                "error": {
                    "code": "method_not_allowed",
                    "message": f"{request.method} is not allowed here",
                    "fields": {},
                }
            },
            status=405,
        )
        response["Allow"] = "GET, HEAD"
        return response
    checks = {"database": _timed("database", _database)}
    if settings.REDIS_URL:
        checks["redis"] = _timed("redis", _redis)
    if settings.MAGENTO_DATABASE_URL or settings.MAGENTO_SOURCE == "rest":
        checks["magento"] = _timed("magento", _magento)
    else:
        checks["magento"] = {"ok": False, "error": "MAGENTO_DATABASE_URL is not set"}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
