"""Time-based one-time passwords: RFC 6238 (TOTP) over RFC 4226 (HOTP), HMAC-SHA-1, 6 digits, 30 s.

What authenticator apps (Google Authenticator, FreeOTP, 1Password…) implement by default; secrets are
exchanged as base32 in an ``otpauth://totp/`` URI (Key Uri Format). Django-free.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

__all__ = ["hotp", "totp", "totp_new_secret", "totp_provisioning_uri", "totp_match_step"]

STEP_SECONDS = 30
DIGITS = 6


def _key(secret_b32: str) -> bytes:
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest=hashlib.sha1) -> str:
    """RFC 4226 §5.3: HMAC over the 8-byte counter, dynamic truncation, modulo 10^digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def totp(
    key: bytes, at: float, *, digits: int = DIGITS, digest=hashlib.sha1, step: int = STEP_SECONDS
) -> str:
    """RFC 6238 §4: HOTP with the counter ``floor(at / step)``."""
    return hotp(key, int(at // step), digits=digits, digest=digest)


def totp_new_secret() -> str:
    """A new 160-bit secret, base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def totp_provisioning_uri(secret_b32: str, *, account: str, issuer: str) -> str:
    label = quote(f"{issuer}:{account}")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret_b32, "issuer": issuer})


def totp_match_step(secret_b32: str, code: str, *, at: float | None = None, window: int = 1) -> int | None:
    """The time step whose code ``code`` is (within ±``window`` steps for clock drift), or ``None``.

    Callers store the step and refuse it (and earlier ones) next time, so a code works once.
    """
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != DIGITS:
        return None
    now = time.time() if at is None else at
    key = _key(secret_b32)
    current = int(now // STEP_SECONDS)
    for step in range(current - window, current + window + 1):
        if hmac.compare_digest(hotp(key, step), code):
            return step
    return None
