"""Sign-in protection state shared by the middleware, the login receivers and the TOTP views.

The session keys that mark a verified authenticator and the last activity, and the cache key that
counts failed sign-ins per username and client address.
"""

from __future__ import annotations

import hashlib

__all__ = ["ACTIVITY_RESOLUTION_SECONDS", "ACTIVITY_SESSION_KEY", "TOTP_SESSION_KEY", "throttle_key"]

TOTP_SESSION_KEY = "audits_totp_verified"
ACTIVITY_SESSION_KEY = "audits_last_activity"
# A session's expiry is renewed at most this often, so pages with many parallel requests (thumbnails)
# do not each write the session.
ACTIVITY_RESOLUTION_SECONDS = 60


def throttle_key(username: str, ip: str) -> str:
    """The cache key counting failed sign-ins of ``username`` (case-insensitive) from ``ip``."""
    digest = hashlib.sha256(f"{(username or '').strip().lower()}|{ip}".encode()).hexdigest()
    return f"audits:login-failures:{digest}"
