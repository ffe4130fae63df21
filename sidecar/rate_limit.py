"""Rate limits on the public, unauthenticated endpoints: the badge API, ``/log/*`` and ``/healthz``.

Each client address (``sidecar.client_ip`` under ``PROVENANT_TRUSTED_PROXIES``) gets a budget of
requests per fixed window and bucket, counted in the shared cache (Redis in production, so every web
process sees the same count; ``cache.add`` then ``cache.incr`` is atomic there). Beyond the budget the
answer is ``429`` in the API's error shape with ``Retry-After`` (RFC 9110 §10.2.3, RFC 6585 §4)
giving the seconds until the window ends.

The defaults are generous on purpose: behind a CDN that is not a trusted proxy, every shopper of a
store shares the CDN edge's address, and the edge caches the answers anyway. A cache that cannot be
reached lets requests through (and says so in the log): the limit protects the sidecar, it must not
take the storefront's badges down with Redis.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

from sidecar.client_ip import client_ip

logger = logging.getLogger(__name__)

_CACHE_ERROR_LOG_SECONDS = 60.0


@dataclass(frozen=True)
class Bucket:
    name: str
    prefix: str
    setting: str

    def matches(self, path: str) -> bool:
        return path == self.prefix if not self.prefix.endswith("/") else path.startswith(self.prefix)


BUCKETS = (
    Bucket("badges", "/api/v1/disclosures/", "RATE_LIMIT_BADGES"),
    Bucket("log", "/log/", "RATE_LIMIT_LOG"),
    Bucket("healthz", "/healthz", "RATE_LIMIT_HEALTHZ"),
)


def bucket_for(path: str) -> Bucket | None:
    """The rate-limit bucket of a request path, or ``None`` for paths that are not limited here."""
    for bucket in BUCKETS:
        if bucket.matches(path):
            return bucket
    return None


def rate_limited_response(retry_after: int) -> JsonResponse:
    """``429`` in the one error shape, uncacheable, with ``Retry-After`` in seconds."""
    response = JsonResponse(
        {
            "error": {
                "code": "rate_limited",
                "message": f"Too many requests from this address; retry after {retry_after} seconds.",
                "fields": {},
            }
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    # Without CORS headers a storefront script sees a network error instead of the 429 and cannot
    # honour Retry-After. The body says nothing about any store, so any origin may read it (the badge
    # API's own answers stay limited to each store's configured origins).
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "Retry-After"
    return response


class PublicRateLimitMiddleware:
    """Count each public request against its bucket's budget for the client address."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self._cache_error_logged_at = -math.inf

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bucket = bucket_for(request.path)
        if bucket is not None:
            limit = getattr(settings, bucket.setting)
            if limit:
                retry_after = self._over_budget(request, bucket, limit)
                if retry_after:
                    return rate_limited_response(retry_after)
        return self.get_response(request)

    def _over_budget(self, request: HttpRequest, bucket: Bucket, limit: int) -> int:
        """Seconds until the window ends when this request is over the budget, else 0."""
        window = settings.RATE_LIMIT_WINDOW_SECONDS
        now = time.time()
        start = int(now // window)
        key = f"provenant:rate:{bucket.name}:{client_ip(request) or 'unknown'}:{start}"
        try:
            # add() then incr() rather than get() then set(): parallel requests never share a count.
            if cache.add(key, 1, window + 1):
                count = 1
            else:
                try:
                    count = cache.incr(key)
                except ValueError:  # the key expired between add and incr
                    cache.add(key, 1, window + 1)
                    count = 1
        except Exception as exc:  # noqa: BLE001 - a cache outage must not refuse public answers
            if now - self._cache_error_logged_at > _CACHE_ERROR_LOG_SECONDS:
                self._cache_error_logged_at = now
                logger.warning(
                    "Rate limits are not enforced: the cache is unreachable (%s: %s)", type(exc).__name__, exc
                )
            return 0
        if count <= limit:
            return 0
        return max(1, math.ceil((start + 1) * window - now))
