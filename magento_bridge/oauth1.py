"""OAuth 1.0a request signing (RFC 5849, section 3) with HMAC-SHA256 or HMAC-SHA1.

Magento integrations authenticate REST calls this way: a consumer key/secret and an access
token/secret, each request signed over its method, base URI and every query and form parameter.
Pure module (no Django): the sync's REST client signs with it and the test server verifies with it.

- Percent-encoding is RFC 5849 3.6: every byte except ``ALPHA / DIGIT / "-" / "." / "_" / "~"``
  as ``%XX`` with upper-case hex, over UTF-8.
- The base string is RFC 5849 3.4.1: ``METHOD&enc(base URI)&enc(normalised parameters)``, the base
  URI lower-casing scheme and host and dropping default ports, parameters sorted by encoded name
  then encoded value.
- The key is ``enc(consumer secret)&enc(token secret)``; the signature is base64 of the HMAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

SIGNATURE_METHODS = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}


class OAuthSignatureError(Exception):
    """A signature does not match the one computed from the request."""

    def __init__(self, expected: str, received: str) -> None:
        super().__init__("OAuth signature mismatch")
        self.expected = expected
        self.received = received


def percent_encode(value: str) -> str:
    """RFC 5849 3.6 encoding (RFC 3986 unreserved characters only)."""
    return quote(value.encode("utf-8"), safe="-._~")


def base_string_uri(url: str) -> str:
    """RFC 5849 3.4.1.2: scheme and host lower-cased, default port dropped, no query or fragment."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def normalized_parameters(params: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 3.4.1.3.2: encode each name and value, sort, join with ``=`` and ``&``."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in encoded)


def request_parameters(
    url: str, oauth_params: dict[str, str], form: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """RFC 5849 3.4.1.3.1: query parameters (decoded), ``oauth_*`` protocol parameters except the
    signature and ``realm``, and ``application/x-www-form-urlencoded`` body parameters."""
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    protocol = [(k, v) for k, v in oauth_params.items() if k not in ("oauth_signature", "realm")]
    return [*query, *protocol, *form]


def signature_base_string(
    method: str, url: str, oauth_params: dict[str, str], form: Sequence[tuple[str, str]] = ()
) -> str:
    """RFC 5849 3.4.1.1."""
    params = normalized_parameters(request_parameters(url, oauth_params, form))
    return "&".join((method.upper(), percent_encode(base_string_uri(url)), percent_encode(params)))


def sign(base_string: str, consumer_secret: str, token_secret: str, method: str = "HMAC-SHA256") -> str:
    """RFC 5849 3.4.2: base64 HMAC over the base string."""
    digest = SIGNATURE_METHODS[method]
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}".encode()
    mac = hmac.new(key, base_string.encode("utf-8"), digest).digest()
    return base64.b64encode(mac).decode("ascii")


def authorization_header(params: dict[str, str]) -> str:
    """RFC 5849 3.5.1: ``OAuth name="value", ...`` with encoded names and values."""
    return "OAuth " + ", ".join(f'{percent_encode(k)}="{percent_encode(v)}"' for k, v in params.items())


def parse_authorization_header(header: str) -> dict[str, str]:
    """The parameters of an ``OAuth ...`` Authorization header (``realm`` dropped)."""
    if not header[:6].lower() == "oauth ":
        return {}
    params: dict[str, str] = {}
    for part in header[6:].split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        params[unquote(name.strip())] = unquote(value)
    params.pop("realm", None)
    return params


@dataclass(frozen=True)
class OAuthCredentials:
    """An integration's four secrets; ``repr`` hides them."""

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token: str
    token_secret: str = field(repr=False)
    signature_method: str = "HMAC-SHA256"

    def sign_request(
        self,
        method: str,
        url: str,
        *,
        form: Sequence[tuple[str, str]] = (),
        nonce: str | None = None,
        timestamp: int | None = None,
    ) -> str:
        """The Authorization header for one request. A fresh nonce each call: Magento refuses a
        reused nonce, so a retried request must be signed again."""
        params = {
            "oauth_consumer_key": self.consumer_key,
            "oauth_nonce": nonce or secrets.token_hex(16),
            "oauth_signature_method": self.signature_method,
            "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
            "oauth_token": self.token,
            "oauth_version": "1.0",
        }
        base = signature_base_string(method, url, params, form)
        params["oauth_signature"] = sign(base, self.consumer_secret, self.token_secret, self.signature_method)
        return authorization_header(params)


def verify_signature(
    method: str,
    url: str,
    oauth_params: dict[str, str],
    consumer_secret: str,
    token_secret: str,
    form: Sequence[tuple[str, str]] = (),
) -> None:
    """Raise :class:`OAuthSignatureError` unless ``oauth_params['oauth_signature']`` is right."""
    signature_method = oauth_params.get("oauth_signature_method", "")
    if signature_method not in SIGNATURE_METHODS:
        raise OAuthSignatureError(expected=f"one of {sorted(SIGNATURE_METHODS)}", received=signature_method)
    base = signature_base_string(method, url, oauth_params, form)
    expected = sign(base, consumer_secret, token_secret, signature_method)
    received = oauth_params.get("oauth_signature", "")
    if not hmac.compare_digest(expected.encode(), received.encode()):
        raise OAuthSignatureError(expected=expected, received=received)
