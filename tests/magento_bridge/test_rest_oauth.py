"""OAuth 1.0a signing (RFC 5849) of the REST client, and the test server's check of it, against the
RFC's own examples."""

from __future__ import annotations

import base64
import hashlib
import hmac

from magento_bridge.rest_client import MagentoRestClient, OAuthCredentials
from tests.magento_bridge.rest_server import oauth_base_string, oauth_parameters, oauth_signature_valid

# RFC 5849 section 3.4.1.1: the example request and the base string it must give.
RFC_3411_URL = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
RFC_3411_HEADER = (
    'OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", '
    'oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", '
    'oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"'
)
RFC_3411_BASE = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D"
    "%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26"
    "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
)
# RFC 5849 section 1.2: the signed protected-resource request of the introduction.
RFC_12_URL = "http://photos.example.net/photos?file=vacation.jpg&size=original"
RFC_12_HEADER = (
    'OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_token="nnch734d00sl2jdk", '
    'oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131202", oauth_nonce="chapoH", '
    'oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"'
)


def test_the_base_string_matches_rfc_5849_section_3_4_1_1():
    assert oauth_base_string("POST", RFC_3411_URL, RFC_3411_HEADER, form="c2&a3=2+q") == RFC_3411_BASE


def test_the_signed_request_of_rfc_5849_section_1_2_verifies():
    assert oauth_signature_valid("GET", RFC_12_URL, RFC_12_HEADER, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00")
    assert not oauth_signature_valid("GET", RFC_12_URL, RFC_12_HEADER, "kd94hf93k423kf44", "wrong")


def test_the_client_signs_with_hmac_sha256_over_the_base_string():
    creds = OAuthCredentials("ck", "cs secret", "tok", "ts+secret")
    url = "https://shop.example.test/rest/de/V1/products?searchCriteria%5BpageSize%5D=300"
    header = creds.sign_request("GET", url, nonce="n1", timestamp=1700000000)
    key = b"cs%20secret&ts%2Bsecret"
    base = oauth_base_string("GET", url, header)
    expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()

    params = oauth_parameters(header)
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    assert params["oauth_nonce"] == "n1" and params["oauth_timestamp"] == "1700000000"
    assert params["oauth_version"] == "1.0"
    assert params["oauth_signature"] == expected


def test_query_parameters_are_rfc_3986_encoded_over_utf8():
    client = MagentoRestClient("https://shop.example.test/", auth="bearer", bearer_token="t")

    url = client.url_for("/V1/products", [("a b+c/~*", "MAGNÉSIUM")], store="de")

    assert url == "https://shop.example.test/rest/de/V1/products?a%20b%2Bc%2F~%2A=MAGN%C3%89SIUM"


def test_a_signed_request_verifies_and_a_changed_one_does_not():
    creds = OAuthCredentials("ck", "cs", "tok", "tsec")
    url = "https://shop.example.test/rest/de/V1/products?searchCriteria%5BpageSize%5D=300"
    header = creds.sign_request("GET", url, nonce="n1", timestamp=1700000000)

    assert oauth_signature_valid("GET", url, header, "cs", "tsec")
    assert not oauth_signature_valid("GET", url.replace("300", "301"), header, "cs", "tsec")
    assert not oauth_signature_valid("GET", url, header, "cs", "wrong")


def test_hmac_sha1_is_available_for_older_integrations():
    creds = OAuthCredentials("ck", "cs", "tok", "tsec", signature_method="HMAC-SHA1")
    header = creds.sign_request("GET", "http://h/x")

    assert oauth_parameters(header)["oauth_signature_method"] == "HMAC-SHA1"
    assert oauth_signature_valid("GET", "http://h/x", header, "cs", "tsec")


def test_every_signature_uses_a_fresh_nonce():
    creds = OAuthCredentials("ck", "cs", "tok", "tsec")
    first = oauth_parameters(creds.sign_request("GET", "http://h/x"))
    second = oauth_parameters(creds.sign_request("GET", "http://h/x"))

    assert first["oauth_nonce"] != second["oauth_nonce"]


def test_credentials_do_not_show_their_secrets():
    text = repr(OAuthCredentials("ck", "consumer-secret", "tok", "token-secret"))

    assert "consumer-secret" not in text and "token-secret" not in text
