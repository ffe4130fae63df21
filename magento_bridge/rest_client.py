"""HTTP to a Magento 2.4 store's REST API (``/rest/<store_code>/V1/...``), as the project's Magento
reference describes it; :mod:`magento_bridge.rest` turns the answers into observed items.

- Authentication: OAuth 1.0a with HMAC-SHA256 (RFC 5849, signed by ``oauthlib``) with an
  integration's consumer key/secret and access token/secret, re-signed on every attempt since
  Magento refuses a reused nonce; or the access token as a Bearer token where the store allows it
  (``oauth/consumer/enable_integration_as_bearer``). A refused request is explained in operator
  terms: which setting is the likely cause.
- Lists through ``searchCriteria`` (filter groups AND, filters in a group OR; sort orders; paging
  with ``pageSize <= 300`` and ``currentPage`` from 1) with ``fields=`` trimming each response.
  Magento returns the last page again past the end, so paging stops on ``total_count``; keyset
  paging (``key > last``, sorted by ``key``) keeps rows changing mid-read from being skipped or
  repeated.
- A polite client over ``httpx``: a request-rate limit shared by its threads, bounded concurrency,
  timeouts, kept-alive connections, and retries with exponential backoff on 429, 5xx, timeouts and
  dropped connections honouring ``Retry-After`` (a small loop of our own: each attempt is signed
  afresh and counted for the sync run's record).
"""

from __future__ import annotations

import email.utils
import json
import logging
import secrets
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import oauthlib.oauth1

from magento_bridge.reader import MagentoError, MagentoUnavailable, _text

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 300  # webapi/validation/maximum_page_size default

# The ACL resource each route needs (Magento's webapi.xml files).
RESOURCE_PRODUCTS = "Magento_Catalog::products"
RESOURCE_BLOCKS = "Magento_Cms::block"
RESOURCE_PAGES = "Magento_Cms::page"
RESOURCE_STORES = "Magento_Backend::store"
BEARER_SETTING = "oauth/consumer/enable_integration_as_bearer"


class MagentoRestError(MagentoError):
    """Magento answered a REST request with an error (after any retries)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MagentoRestAuthError(MagentoRestError):
    """Magento refused the credentials (401): the message names the likely cause."""

    # What the public health check may say (no account, host or token in it).
    public_reason = "credentials refused: the access token is unknown, revoked or expired"


Filter = tuple[str, str, str]  # field, value, condition_type


@dataclass
class RestStats:
    """What the client did, for the sync run's record."""

    requests: int = 0  # HTTP requests sent, retries included
    retries: int = 0
    throttled: int = 0  # 429 answers
    server_errors: int = 0  # 5xx answers
    timeouts: int = 0  # timeouts and dropped connections
    bytes: int = 0
    waited_seconds: float = 0.0  # sleeping for Retry-After / backoff
    by_endpoint: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
            "server_errors": self.server_errors,
            "timeouts": self.timeouts,
            "bytes": self.bytes,
            "waited_seconds": round(self.waited_seconds, 3),
            "by_endpoint": dict(sorted(self.by_endpoint.items())),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class OAuthCredentials:
    """An integration's four secrets; ``repr`` hides them."""

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token: str
    token_secret: str = field(repr=False)
    signature_method: str = "HMAC-SHA256"  # or HMAC-SHA1

    def sign_request(
        self, method: str, url: str, *, nonce: str | None = None, timestamp: int | None = None
    ) -> str:
        """The ``Authorization`` header for one request, signed over its method, URL and query
        (RFC 5849 3.4). A fresh nonce each call: Magento refuses a reused nonce, so a retried
        request must be signed again."""
        client = oauthlib.oauth1.Client(
            self.consumer_key,
            client_secret=self.consumer_secret,
            resource_owner_key=self.token,
            resource_owner_secret=self.token_secret,
            signature_method=self.signature_method,
            nonce=nonce or secrets.token_hex(16),
            timestamp=str(timestamp if timestamp is not None else int(time.time())),
        )
        _url, headers, _body = client.sign(url, http_method=method)
        return headers["Authorization"]


class _Retryable(Exception):
    """A failure worth another attempt: 429, 5xx, a timeout or a dropped connection."""

    def __init__(self, failure: str, *, retry_after: float | None = None) -> None:
        super().__init__(failure)
        self.retry_after = retry_after


class _RateLimit:
    """At most ``rate`` request starts per second across threads (0: unlimited)."""

    def __init__(self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)


def render_message(body: Any) -> str:
    """Magento's error body as text: ``message`` with ``%name`` / ``%1`` filled from ``parameters``."""
    if not isinstance(body, dict):
        return _text(body)[:300]
    message = _text(body.get("message"))
    params = body.get("parameters")
    if isinstance(params, dict):
        for name, value in params.items():
            message = message.replace(f"%{name}", _text(value))
    elif isinstance(params, list):
        for index, value in reversed(list(enumerate(params, start=1))):
            message = message.replace(f"%{index}", _text(value))
    return message


def _encode(value: str) -> str:
    """RFC 3986 percent-encoding over UTF-8: everything but ``ALPHA / DIGIT / "-" / "." / "_" / "~"``,
    the encoding RFC 5849 3.6 signs, so the URL sent is the URL signed."""
    return quote(value, safe="")


def sku_path(sku: str) -> str:
    """A SKU as one URL path segment: ``/``, spaces, ``?``, ``#`` and non-ASCII percent-encoded."""
    return quote(sku.encode("utf-8"), safe="")


def search_params(
    *,
    groups: Sequence[Sequence[Filter]] = (),
    sort: Sequence[tuple[str, str]] = (),
    page_size: int | None = None,
    page: int | None = None,
    fields: str = "",
) -> list[tuple[str, str]]:
    """``searchCriteria`` query parameters: groups AND together, filters within a group OR."""
    params: list[tuple[str, str]] = []
    for g, group in enumerate(groups):
        for f, (name, value, condition) in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            params += [
                (f"{prefix}[field]", name),
                (f"{prefix}[value]", value),
                (f"{prefix}[condition_type]", condition),
            ]
    for s, (name, direction) in enumerate(sort):
        params += [
            (f"searchCriteria[sortOrders][{s}][field]", name),
            (f"searchCriteria[sortOrders][{s}][direction]", direction),
        ]
    if page_size is not None:
        params.append(("searchCriteria[pageSize]", str(page_size)))
    if page is not None:
        params.append(("searchCriteria[currentPage]", str(page)))
    if fields:
        params.append(("fields", fields))
    return params


def search_result(body: Any, path: str) -> tuple[list[dict], int]:
    """``items`` and ``total_count`` of a search answer. Without ``total_count`` paging cannot know
    where the list ends, and a short read would look like removed content: refuse it."""
    if not isinstance(body, dict) or not isinstance(body.get("total_count"), int):
        raise MagentoRestError(
            f"Magento REST {path} answered a search without total_count: cannot page safely"
        )
    items = body.get("items") or []
    if not isinstance(items, list):
        raise MagentoRestError(f"Magento REST {path} answered a search whose items are not a list")
    return items, body["total_count"]


class MagentoRestClient:
    """HTTP to one Magento's REST API: signing, throttling, retries, connection reuse, counting."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: str = "oauth",
        oauth: OAuthCredentials | None = None,
        bearer_token: str = "",
        page_size: int = MAX_PAGE_SIZE,
        rate: float = 10.0,
        concurrency: int = 2,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 2.0,
        max_retry_after: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MagentoRestError(f"MAGENTO_REST_BASE_URL {base_url!r} is not an http(s) URL")
        if auth == "oauth" and oauth is None:
            raise MagentoRestError(
                "REST auth 'oauth' needs MAGENTO_REST_CONSUMER_KEY, MAGENTO_REST_CONSUMER_SECRET, "
                "MAGENTO_REST_ACCESS_TOKEN and MAGENTO_REST_ACCESS_TOKEN_SECRET"
            )
        if auth == "bearer" and not bearer_token:
            raise MagentoRestError("REST auth 'bearer' needs MAGENTO_REST_ACCESS_TOKEN")
        if auth not in ("oauth", "bearer"):
            raise MagentoRestError(f"unknown REST auth {auth!r}: use oauth or bearer")
        self.root = parts.path.rstrip("/")  # a store installed under a path: /shop/rest/...
        self.base_url = f"{parts.scheme}://{parts.netloc}{self.root}/"
        self.auth = auth
        self.oauth = oauth
        self._bearer = bearer_token
        self.page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
        self.concurrency = max(1, int(concurrency))
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._limit = _RateLimit(rate, clock, sleep)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self.stats = RestStats()

    def __repr__(self) -> str:
        return f"MagentoRestClient({self.base_url!r}, auth={self.auth!r})"

    def describe(self) -> str:
        return f"REST {self.base_url} ({'OAuth 1.0a' if self.auth == 'oauth' else 'Bearer token'})"

    # -- connections ----------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        """The HTTP client, shared by the reader's threads: one kept-alive connection per thread in
        flight. No redirects, proxies from the environment or compression (the byte counts are the
        bodies'), the system's CA certificates as with the standard library."""
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self.timeout,
                    limits=httpx.Limits(max_keepalive_connections=self.concurrency),
                    verify=ssl.create_default_context(),
                    trust_env=False,
                    follow_redirects=False,
                )
                del self._client.headers["Accept-Encoding"]
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- requests -------------------------------------------------------------------------

    def url_for(self, path: str, params: Sequence[tuple[str, str]] = (), *, store: str | None = None) -> str:
        """The absolute URL: ``<base>/rest/<store>/V1/...?<params>`` (RFC 3986 encoded)."""
        scope = f"/{quote(store, safe='')}" if store else ""
        query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in params)
        return f"{self.base_url}rest{scope}{path}" + (f"?{query}" if query else "")

    def _authorization(self, method: str, url: str) -> str:
        if self.auth == "bearer":
            return f"Bearer {self._bearer}"
        assert self.oauth is not None
        return self.oauth.sign_request(method, url)

    def _count(self, **deltas: float) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)

    def warn(self, message: str) -> None:
        with self._lock:
            if message not in self.stats.warnings:
                self.stats.warnings.append(message)
        logger.warning("%s", message)

    def get(
        self,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        store: str | None = None,
        resource: str = "",
        endpoint: str = "",
        retries: int | None = None,
    ) -> Any:
        """GET one resource and return its decoded JSON; raise a :class:`MagentoError`.

        429, 5xx, timeouts and dropped connections are retried ``retries`` times, after
        ``Retry-After`` (capped at ``max_retry_after``) or else ``backoff * 2**attempt`` seconds."""
        url = self.url_for(path, params, store=store)
        retries = self.retries if retries is None else retries
        attempt = 0
        while True:
            try:
                return self._attempt(url, resource=resource, endpoint=endpoint or path)
            except _Retryable as exc:
                if attempt >= retries:
                    raise MagentoUnavailable(
                        f"Magento REST {self._redacted(url)} failed after {attempt + 1} attempt(s): {exc}"
                    ) from None
                delay = self.backoff * (2**attempt)
                if exc.retry_after is not None:
                    delay = min(max(exc.retry_after, 0.0), self.max_retry_after)
                logger.warning("Magento REST %s: %s; retrying in %.1fs", endpoint or path, exc, delay)
                self._count(retries=1, waited_seconds=delay)
                self._sleep(delay)
                attempt += 1

    def _attempt(self, url: str, *, resource: str, endpoint: str) -> Any:
        """One signed request (a fresh nonce per attempt): the decoded JSON, or raise."""
        self._limit.wait()
        headers = {
            "Accept": "application/json",
            "Authorization": self._authorization("GET", url),
            "User-Agent": "Provenant-sync",
        }
        self._count(requests=1)
        with self._lock:
            self.stats.by_endpoint[endpoint] += 1
        try:
            response = self._http().get(url, headers=headers)
        except httpx.TimeoutException as exc:
            self._count(timeouts=1)
            raise _Retryable(f"timed out after {self.timeout:g} s ({exc})") from None
        except httpx.TransportError as exc:
            self._count(timeouts=1)
            raise _Retryable(f"connection failed: {type(exc).__name__}: {exc}") from None
        body, status = response.content, response.status_code
        self._count(bytes=len(body))
        if response.is_success:
            return self._decode(body, url)
        if status == 429 or status >= 500:
            self._count(throttled=int(status == 429), server_errors=int(status >= 500))
            raise _Retryable(
                f"HTTP {status}: {render_message(self._loads(body)) or response.reason_phrase}",
                retry_after=self._retry_after(response.headers.get("Retry-After")),
            )
        raise self._error(status, self._loads(body), url=url, resource=resource)

    @staticmethod
    def _retry_after(value: str | None) -> float | None:
        """``Retry-After`` as seconds: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
        if not value:
            return None
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, (moment - datetime.now(UTC)).total_seconds())

    @staticmethod
    def _loads(body: bytes) -> Any:
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return body[:200].decode("utf-8", errors="replace")

    def _decode(self, body: bytes, url: str) -> Any:
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise MagentoRestError(
                f"Magento REST {self._redacted(url)} answered with something that is not JSON "
                f"(a proxy or login page?): {body[:120].decode('utf-8', errors='replace')!r}"
            ) from None

    @staticmethod
    def _redacted(url: str) -> str:
        return url.split("?", 1)[0]

    def _error(self, status: int, body: Any, *, url: str, resource: str) -> MagentoRestError:
        message = render_message(body)
        where = self._redacted(url)
        if status in (401, 403):
            return MagentoRestAuthError(
                self._explain_auth(message, body, url=url, resource=resource), status=status
            )
        if status == 404 and "does not match any route" in message:
            return MagentoRestError(
                f"Magento REST {where}: {message} Check MAGENTO_REST_BASE_URL (the storefront's base "
                "URL, REST lives under /rest/) and that the store code exists.",
                status=status,
            )
        return MagentoRestError(
            f"Magento REST {where} refused the request (HTTP {status}): {message}", status=status
        )

    def _explain_auth(self, message: str, body: Any, *, url: str, resource: str) -> str:
        """A 401 in operator terms: which setting is the likely cause."""
        lowered = message.lower()
        said = f"Magento said: {message!r}."
        resources = ""
        if isinstance(body, dict) and isinstance(body.get("parameters"), dict):
            resources = _text(body["parameters"].get("resources"))
        resources = resources or resource or "the route's resource"
        path = urlsplit(url).path
        if "signature is invalid" in lowered:
            if "%2F" in path.upper():
                return (
                    f"{said} The request path holds a SKU with '/', which Magento cannot verify OAuth "
                    "signatures for (a known Magento bug: it decodes %2F before checking the signature). "
                    "Read such products through list endpoints, rename the SKU, or use "
                    "MAGENTO_REST_AUTH=bearer where the store allows it."
                )
            return (
                f"{said} Likely cause: the OAuth signature: check MAGENTO_REST_CONSUMER_SECRET and "
                "MAGENTO_REST_ACCESS_TOKEN_SECRET, and that MAGENTO_REST_BASE_URL is exactly the URL "
                "Magento sees (scheme, host, port; a proxy that rewrites it breaks signatures)."
            )
        if "consumer having the specified key" in lowered or "consumer key" in lowered:
            return (
                f"{said} Likely cause: MAGENTO_REST_CONSUMER_KEY: the integration was deleted or the key "
                "is wrong; copy it from System > Extensions > Integrations."
            )
        if "nonce" in lowered or "timestamp" in lowered:
            return (
                f"{said} Likely cause: the OAuth nonce or timestamp: check this host's clock "
                "(Magento refuses timestamps too far off) and that no proxy replays requests."
            )
        if "token" in lowered:
            return (
                f"{said} Likely cause: the access token is unknown, revoked or expired: reactivate the "
                "integration (System > Extensions > Integrations > Reauthorize) and update "
                "MAGENTO_REST_ACCESS_TOKEN (and its secret)."
            )
        if "isn't authorized" in lowered or "not authorized" in lowered:
            if self.auth == "bearer":
                return (
                    f"{said} Likely causes, in order: the store refuses integration tokens as Bearer "
                    f"tokens (set {BEARER_SETTING} = 1: Stores > Configuration > Services > OAuth > "
                    "Consumer Settings > Allow OAuth Access Tokens to be used as standalone Bearer "
                    "tokens), or the token is unknown or revoked, or the integration lacks the ACL "
                    f"resource {resources}. Or use MAGENTO_REST_AUTH=oauth."
                )
            return (
                f"{said} Likely cause: the integration lacks the ACL resource {resources}: grant it "
                "in the integration's API tab (System > Extensions > Integrations) and reauthorize."
            )
        return f"{said} Magento refused the credentials for {self._redacted(url)} (HTTP 401)."

    # -- searchCriteria lists -------------------------------------------------------------

    def search_after(
        self,
        path: str,
        *,
        key: str,
        store: str | None,
        resource: str,
        fields: str,
        groups: Sequence[Sequence[Filter]] = (),
        page_size: int | None = None,
        endpoint: str = "",
    ) -> Iterator[list[dict]]:
        """Pages of a list by keyset: ``key > last`` sorted by ``key``, ``currentPage`` 1, until a
        page holds all that ``total_count`` says is left. Items must carry their key as ``id``."""
        size = min(page_size or self.page_size, MAX_PAGE_SIZE)
        last: int | None = None
        while True:
            page_groups = list(groups) + ([[(key, str(last), "gt")]] if last is not None else [])
            body = self.get(
                path,
                search_params(groups=page_groups, sort=[(key, "ASC")], page_size=size, page=1, fields=fields),
                store=store,
                resource=resource,
                endpoint=endpoint,
            )
            items, total = search_result(body, path)
            if not items:
                return
            ids = [int(item["id"]) for item in items]
            if last is not None and ids[0] <= last:
                raise MagentoRestError(
                    f"Magento REST {path} ignored the filter {key} > {last}: cannot page safely"
                )
            yield items
            if len(items) >= total:
                return
            last = max(ids)

    def search_pages(
        self,
        path: str,
        *,
        store: str | None,
        resource: str,
        fields: str,
        groups: Sequence[Sequence[Filter]] = (),
        sort: Sequence[tuple[str, str]] = (),
        page_size: int | None = None,
        endpoint: str = "",
    ) -> Iterator[list[dict]]:
        """Pages by ``currentPage``, stopping once ``page * size >= total_count``: Magento answers a
        page past the end with the last page again, so an empty page never comes."""
        size = min(page_size or self.page_size, MAX_PAGE_SIZE)
        page = 1
        while True:
            body = self.get(
                path,
                search_params(groups=groups, sort=sort, page_size=size, page=page, fields=fields),
                store=store,
                resource=resource,
                endpoint=endpoint,
            )
            items, total = search_result(body, path)
            if items:
                yield items
            if not items or page * size >= total:
                return
            page += 1

    def product(self, sku: str, *, store: str | None = None) -> dict:
        """One product by SKU (``GET /V1/products/{sku}``), the SKU encoded as one path segment."""
        return self.get(
            f"/V1/products/{sku_path(sku)}", store=store, resource=RESOURCE_PRODUCTS, endpoint="product"
        )
