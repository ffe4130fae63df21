"""RFC 6238 TOTP (django-otp's) against the RFC's own test vectors, and the one-time use of codes."""

from __future__ import annotations

import base64
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audits.signin import totp_code_check

SEED = b"12345678901234567890"  # RFC 6238 Appendix B, SHA-1 seed


def totp(key: bytes, at: float, *, digits: int = 6) -> str:
    code = TOTP(key, digits=digits)
    code.time = at
    return str(code.token()).zfill(digits)


def totp_match_step(device: TOTPDevice, code: str, *, at: float) -> int | None:
    """The time step the device accepts ``code`` at, with the clock at ``at`` (a fresh device each time)."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    with mock.patch("django_otp.plugins.otp_totp.models.time") as clock:
        clock.time.return_value = at
        verified = totp_code_check(user=device.user, device=device, code=code)
    return verified.last_t if verified is not None else None


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_it_matches_the_rfc_6238_sha1_vectors(at, code):
    assert totp(SEED, at, digits=8) == code


def test_it_matches_the_rfc_4226_hotp_vectors():
    expected = [
        "755224",
        "287082",
        "359152",
        "969429",
        "338314",
        "254676",
        "287922",
        "162583",
        "399871",
        "520489",
    ]
    assert [str(hotp(SEED, counter)).zfill(6) for counter in range(10)] == expected


def test_a_code_matches_its_step_within_one_step_of_drift(make_user):
    device = TOTPDevice.objects.create(user=make_user(None, "rita"), key=SEED.hex(), confirmed=True)
    code = totp(SEED, 1111111111)
    step = 1111111111 // 30
    assert totp_match_step(device, code, at=1111111111) == step
    assert totp_match_step(device, code, at=1111111111 + 30) == step
    assert totp_match_step(device, code, at=1111111111 + 90) is None
    assert totp_match_step(device, "12345", at=1111111111) is None
    assert totp_match_step(device, "abcdef", at=1111111111) is None


def test_new_secrets_are_160_bit_base32_and_the_uri_names_issuer_and_account(settings):
    settings.OTP_TOTP_ISSUER = "Provenant"
    device = TOTPDevice(user=User(username="rita"))
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    uri = device.config_url
    assert uri.startswith("otpauth://totp/Provenant%3Arita?") and f"secret={secret}" in uri
