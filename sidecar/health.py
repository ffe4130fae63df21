"""``GET /healthz``: liveness and readiness of the database, Redis and Magento."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check()
        result = {"ok": True}
        if detail:
            result["detail"] = detail
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
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


@require_GET
@never_cache
def healthz(request):
    checks = {"database": _timed(_database)}
    if settings.REDIS_URL:
        checks["redis"] = _timed(_redis)
    if settings.MAGENTO_DATABASE_URL or settings.MAGENTO_SOURCE == "rest":
        checks["magento"] = _timed(_magento)
    else:
        checks["magento"] = {"ok": False, "error": "MAGENTO_DATABASE_URL is not set"}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
