"""OAuth 1.0a signing (RFC 5849) against the RFC's own examples."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from magento_bridge.oauth1 import (
    OAuthCredentials,
    OAuthSignatureError,
    base_string_uri,
    parse_authorization_header,
    percent_encode,
    sign,
    signature_base_string,
    verify_signature,
)

# RFC 5849 section 3.4.1.1: the example request and the base string it must give.
RFC_3411_URL = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
RFC_3411_OAUTH = {
    "realm": "Example",
    "oauth_consumer_key": "9djdj82h48djs9d2",
    "oauth_token": "kkk9d7dh3k39sjv7",
    "oauth_signature_method": "HMAC-SHA1",
    "oauth_timestamp": "137131201",
    "oauth_nonce": "7d8f3e4a",
    "oauth_signature": "bYT5CMsGcbgUdFHObYMEfcx6bsw=",
}
RFC_3411_BASE = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D"
    "%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26"
    "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
)


def test_the_base_string_matches_rfc_5849_section_3_4_1_1():
    base = signature_base_string("POST", RFC_3411_URL, RFC_3411_OAUTH, form=[("c2", ""), ("a3", "2 q")])

    assert base == RFC_3411_BASE


def test_the_signature_matches_rfc_5849_section_1_2():
    # The protected-resource request of the RFC's introduction, HMAC-SHA1.
    params = {
        "oauth_consumer_key": "dpf43f3p2l4k3l03",
        "oauth_token": "nnch734d00sl2jdk",
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": "137131202",
        "oauth_nonce": "chapoH",
    }
    base = signature_base_string(
        "GET", "http://photos.example.net/photos?file=vacation.jpg&size=original", params
    )

    assert sign(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", "HMAC-SHA1") == "MdpQcU8iPSUjWoN/UDMsK2sui9I="


def test_hmac_sha256_signs_the_same_base_string_with_sha256():
    base = RFC_3411_BASE
    key = b"cs%20secret&ts%2Bsecret"
    expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()

    assert sign(base, "cs secret", "ts+secret", "HMAC-SHA256") == expected


def test_the_base_uri_drops_default_ports_and_lowercases_the_host():
    assert base_string_uri("HTTP://Example.COM:80/r%20v/X?id=123") == "http://example.com/r%20v/X"
    assert base_string_uri("https://www.example.net:8080/?q=1") == "https://www.example.net:8080/"


def test_percent_encoding_is_rfc_3986_over_utf8():
    assert percent_encode("a b+c/~*") == "a%20b%2Bc%2F~%2A"
    assert percent_encode("MAGNÉSIUM") == "MAGN%C3%89SIUM"


def test_a_signed_request_verifies_and_a_changed_one_does_not():
    creds = OAuthCredentials("ck", "cs", "tok", "tsec")
    url = "https://shop.example.test/rest/de/V1/products?searchCriteria%5BpageSize%5D=300"
    header = creds.sign_request("GET", url, nonce="n1", timestamp=1700000000)
    params = parse_authorization_header(header)

    verify_signature("GET", url, params, "cs", "tsec")
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    with pytest.raises(OAuthSignatureError):
        verify_signature("GET", url.replace("300", "301"), params, "cs", "tsec")
    with pytest.raises(OAuthSignatureError):
        verify_signature("GET", url, params, "cs", "wrong")


def test_every_signature_uses_a_fresh_nonce():
    creds = OAuthCredentials("ck", "cs", "tok", "tsec")
    first = parse_authorization_header(creds.sign_request("GET", "http://h/x"))
    second = parse_authorization_header(creds.sign_request("GET", "http://h/x"))

    assert first["oauth_nonce"] != second["oauth_nonce"]


def test_credentials_do_not_show_their_secrets():
    text = repr(OAuthCredentials("ck", "consumer-secret", "tok", "token-secret"))

    assert "consumer-secret" not in text and "token-secret" not in text
