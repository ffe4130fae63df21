"""Sign-in protection state shared by the middleware, the login receivers and the TOTP views.

The session keys that mark a session with no authenticator to ask for and the last activity, the
check of an RFC 6238 TOTP code (django-otp's ``TOTPDevice``; a verified session is django-otp's
``otp_device_id`` key, read by its ``OTPMiddleware``), and the cache key that counts sign-in attempts
per username and client address. An attempt is counted atomically *before*
its password is checked (:func:`throttle_count`), so concurrent attempts cannot all be tried before
the limit applies; a successful sign-in clears the count.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django_otp import verify_token

__all__ = [
    "ACTIVITY_RESOLUTION_SECONDS",
    "ACTIVITY_SESSION_KEY",
    "TOTP_DEVICE_NAME",
    "TOTP_NOT_ENROLLED_SESSION_KEY",
    "throttle_count",
    "throttle_key",
    "totp_code_check",
]

# Set at sign-in for staff without a confirmed authenticator (when none is required): nothing to ask
# this session for, and no device lookup on every admin page.
TOTP_NOT_ENROLLED_SESSION_KEY = "audits_totp_not_enrolled"
# The name of a staff member's authenticator (django-otp devices have names; each person has one).
TOTP_DEVICE_NAME = "authenticator"
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


def totp_code_check(*, user, device, code: str):
    """``device`` as it is after accepting ``code``, or ``None`` if the code is not accepted.

    RFC 6238 through django-otp: the code of the current 30-second step or one step either side, and
    only a step later than the last accepted one (``last_t``), so each code works once. The device is
    locked while it is checked (``select_for_update``), so two requests cannot spend the same code.
    Codes are six ASCII digits; spaces are ignored.
    """
    code = (code or "").strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == device.digits):
        return None
    return verify_token(user, device.persistent_id, code)
