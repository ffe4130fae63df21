"""Sign-in protection state shared by the middleware, the login receivers and the TOTP views.

The session keys that mark a verified authenticator and the last activity, and the cache key that
counts sign-in attempts per username and client address. An attempt is counted atomically *before*
its password is checked (:func:`throttle_count`), so concurrent attempts cannot all be tried before
the limit applies; a successful sign-in clears the count.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

__all__ = [
    "ACTIVITY_RESOLUTION_SECONDS",
    "ACTIVITY_SESSION_KEY",
    "TOTP_SESSION_KEY",
    "throttle_count",
    "throttle_key",
]

TOTP_SESSION_KEY = "audits_totp_verified"
ACTIVITY_SESSION_KEY = "audits_last_activity"
# A session's expiry is renewed at most this often, so pages with many parallel requests (thumbnails)
# do not each write the session.
ACTIVITY_RESOLUTION_SECONDS = 60


def throttle_key(username: str, ip: str) -> str:
    """The cache key counting failed sign-ins of ``username`` (case-insensitive) from ``ip``."""
    digest = hashlib.sha256(f"{(username or '').strip().lower()}|{ip}".encode()).hexdigest()
    return f"audits:login-failures:{digest}"


def throttle_count(key: str) -> int:
    """Count one more attempt under ``key`` atomically (in the shared cache) and return the count.

    The window is ``PROVENANT_LOGIN_LOCKOUT_SECONDS`` from the first attempt.
    """
    if cache.add(key, 1, settings.AUDITS_LOGIN_LOCKOUT_SECONDS):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, settings.AUDITS_LOGIN_LOCKOUT_SECONDS)
        return 1
