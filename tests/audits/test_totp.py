"""RFC 6238 TOTP against the RFC's own test vectors, and the one-time use of codes."""

from __future__ import annotations

import base64
import hashlib

import pytest

from audits.totp import hotp, totp, totp_match_step, totp_new_secret, totp_provisioning_uri

SEED = b"12345678901234567890"  # RFC 6238 Appendix B, SHA-1 seed


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


def test_it_matches_the_rfc_6238_sha256_vector():
    seed = b"12345678901234567890123456789012"
    assert totp(seed, 59, digits=8, digest=hashlib.sha256) == "46119246"


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
    assert [hotp(SEED, counter) for counter in range(10)] == expected


def test_a_code_matches_its_step_within_one_step_of_drift():
    secret = base64.b32encode(SEED).decode()
    code = totp(SEED, 1111111111)
    step = 1111111111 // 30
    assert totp_match_step(secret, code, at=1111111111) == step
    assert totp_match_step(secret, code, at=1111111111 + 30) == step
    assert totp_match_step(secret, code, at=1111111111 + 90) is None
    assert totp_match_step(secret, "12345", at=1111111111) is None
    assert totp_match_step(secret, "abcdef", at=1111111111) is None


def test_new_secrets_are_160_bit_base32_and_the_uri_names_issuer_and_account():
    secret = totp_new_secret()
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    uri = totp_provisioning_uri(secret, account="rita", issuer="Provenant")
    assert uri.startswith("otpauth://totp/Provenant%3Arita?") and f"secret={secret}" in uri
