"""Read a Magento 2.4 store through its REST API (``/rest/<store_code>/V1/...``).

The second source next to :mod:`magento_bridge.reader`: :class:`MagentoRestReader` has the MySQL
reader's interface and yields the same records, so the sync feeds the registry identically from
either. It implements the REST contract in the project's Magento reference:

- Authentication: OAuth 1.0a with HMAC-SHA256 (RFC 5849, :mod:`magento_bridge.oauth1`) with an
  integration's consumer key/secret and access token/secret, re-signed on every attempt since
  Magento refuses a reused nonce; or the access token as a Bearer token where the store allows it
  (``oauth/consumer/enable_integration_as_bearer``).
- Lists through ``searchCriteria`` (filter groups AND, filters in a group OR; sort orders; paging
  with ``pageSize <= 300`` and ``currentPage`` from 1) with ``fields=`` trimming each response.
  Magento returns the last page again past the end, so paging stops on ``total_count``; products
  page by keyset (``entity_id > last``, sorted by ``entity_id``) so rows changing mid-read are
  neither skipped nor repeated and every store view reads the same products per batch.
- Store-view values: a product read in a store scope carries that view's name, status, visibility
  and gallery labels/positions/``disabled``, with Magento's own fallback to the default scope.
  CMS items carry no store ids: a ``store_id`` filter matches items assigned to exactly that store,
  so assignments are learnt by listing each store view and store 0.
- A polite client: a request-rate limit shared by its threads, bounded concurrency, timeouts,
  retries with exponential backoff on 429, 5xx, timeouts and dropped connections honouring
  ``Retry-After``, and one kept-alive connection per thread.

What REST cannot show: a gallery entry disabled globally (``catalog_product_entity_media_gallery.
disabled = 1``) is left out of ``media_gallery_entries`` by Magento itself, so such entries (hidden in
every store view) are absent here while the MySQL reader records them as hidden.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from magento_bridge.oauth1 import OAuthCredentials, percent_encode
from magento_bridge.reader import (
    MagentoError,
    MagentoUnavailable,
    ProductBatch,
    _as_utc,
    _db_time,
    _int_or_none,
    _text,
    store_views_select,
)
from magento_bridge.records import (
    IMAGE_ROLES,
    SURFACE_CMS_BLOCK,
    SURFACE_CMS_PAGE,
    CmsContent,
    GalleryEntry,
    ProductLinkSet,
    StoreView,
)

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 300  # webapi/validation/maximum_page_size default
ADMIN_SCOPE = "all"  # /rest/all/V1/...: the admin (store 0) scope

# REST link_type -> our name (records.LINK_TYPES values); "associated" (grouped products) is no
# recommendation.
REST_LINK_TYPES = {"related": "related", "upsell": "up_sell", "crosssell": "cross_sell"}
_LINK_ORDER = {"related": 0, "up_sell": 1, "cross_sell": 2}

# The ACL resource each route needs (Magento's webapi.xml files).
RESOURCE_PRODUCTS = "Magento_Catalog::products"
RESOURCE_BLOCKS = "Magento_Cms::block"
RESOURCE_PAGES = "Magento_Cms::page"
RESOURCE_STORES = "Magento_Backend::store"
BEARER_SETTING = "oauth/consumer/enable_integration_as_bearer"

_PRODUCT_FIELDS = (
    "items[id,sku,name,status,visibility,updated_at,"
    "media_gallery_entries[id,media_type,label,position,disabled,types,file,extension_attributes],"
    "product_links[link_type,linked_product_sku,position]],total_count"
)
_CMS = {
    SURFACE_CMS_BLOCK: ("/V1/cmsBlock/search", "block_id", RESOURCE_BLOCKS, ""),
    SURFACE_CMS_PAGE: ("/V1/cmsPage/search", "page_id", RESOURCE_PAGES, ",content_heading"),
}


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


def _search_result(body: Any, path: str) -> tuple[list[dict], int]:
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
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
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
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self.stats = RestStats()

    def __repr__(self) -> str:
        return f"MagentoRestClient({self.base_url!r}, auth={self.auth!r})"

    def describe(self) -> str:
        return f"REST {self.base_url} ({'OAuth 1.0a' if self.auth == 'oauth' else 'Bearer token'})"

    # -- connections ----------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            conn = cls(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- requests -------------------------------------------------------------------------

    def url_for(self, path: str, params: Sequence[tuple[str, str]] = (), *, store: str | None = None) -> str:
        """The absolute URL: ``<base>/rest/<store>/V1/...?<params>`` (RFC 3986 encoded)."""
        scope = f"/{quote(store, safe='')}" if store else ""
        query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params)
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
        """GET one resource and return its decoded JSON; raise a :class:`MagentoError`."""
        url = self.url_for(path, params, store=store)
        target = url[len(f"{self.scheme}://") :].split("/", 1)[1]
        target = "/" + target
        retries = self.retries if retries is None else retries
        attempt = 0
        while True:
            self._limit.wait()
            headers = {
                "Accept": "application/json",
                "Authorization": self._authorization("GET", url),  # a fresh nonce per attempt
                "User-Agent": "Provenant-sync",
            }
            self._count(requests=1)
            with self._lock:
                self.stats.by_endpoint[endpoint or path] += 1
            failure: str
            retry_after: float | None = None
            try:
                conn = self._connection()
                conn.request("GET", target, headers=headers)
                response = conn.getresponse()
                body = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    self._drop_connection()
            except TimeoutError as exc:
                self._drop_connection()
                self._count(timeouts=1)
                failure = f"timed out after {self.timeout:g} s ({exc})"
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                self._count(timeouts=1)
                failure = f"connection failed: {type(exc).__name__}: {exc}"
            else:
                self._count(bytes=len(body))
                if 200 <= status < 300:
                    return self._decode(body, url)
                if status == 429 or status >= 500:
                    self._count(throttled=int(status == 429), server_errors=int(status >= 500))
                    retry_after = self._retry_after(response.getheader("Retry-After"))
                    failure = f"HTTP {status}: {render_message(self._loads(body)) or response.reason}"
                else:
                    raise self._error(status, self._loads(body), url=url, resource=resource)
            if attempt >= retries:
                raise MagentoUnavailable(
                    f"Magento REST {self._redacted(url)} failed after {attempt + 1} attempt(s): {failure}"
                )
            delay = self.backoff * (2**attempt)
            if retry_after is not None:
                delay = min(max(retry_after, 0.0), self.max_retry_after)
            logger.warning("Magento REST %s: %s; retrying in %.1fs", endpoint or path, failure, delay)
            self._count(retries=1, waited_seconds=delay)
            self._sleep(delay)
            attempt += 1

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
            items, total = _search_result(body, path)
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
            items, total = _search_result(body, path)
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


# -- the reader ---------------------------------------------------------------------------


def _flag(value: Any) -> bool:
    """A JSON boolean that may arrive as ``true``, ``1`` or ``"1"``."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false")
    return bool(value)


def _video(entry: dict) -> tuple[str, str]:
    content = (entry.get("extension_attributes") or {}).get("video_content") or {}
    return _text(content.get("video_url")), _text(content.get("video_title"))


class MagentoRestReader:
    """The REST source with :class:`magento_bridge.reader.MagentoReader`'s interface and records."""

    def __init__(self, client: MagentoRestClient, *, batch_size: int | None = None) -> None:
        self.client = client
        self.batch_size = min(batch_size or client.page_size, MAX_PAGE_SIZE)
        self._store_views: list[dict] | None = None
        self._sku_ids: dict[str, int] = {}
        self._assignments: dict[str, dict[int, set[int]]] = {}
        self._listed_stores: dict[str, set[int]] = {}
        self._pool: ThreadPoolExecutor | None = None

    @property
    def queries(self) -> int:
        """HTTP requests made (the MySQL reader counts SQL queries here)."""
        return self.client.stats.requests

    def source_stats(self) -> dict:
        return {"queries": self.queries, "rest": self.client.stats.as_dict()}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.client.close()

    def __enter__(self) -> MagentoRestReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``fn`` over ``items`` with at most ``client.concurrency`` requests in flight."""
        if self.client.concurrency <= 1 or len(items) <= 1:
            return [fn(item) for item in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.client.concurrency)
        return list(self._pool.map(fn, items))

    # -- stores ---------------------------------------------------------------------------

    def prepare(self) -> None:
        """Read the store views once: the cheapest call that proves the credentials work."""
        if self._store_views is None:
            body = self.client.get(
                "/V1/store/storeViews", store=ADMIN_SCOPE, resource=RESOURCE_STORES, endpoint="storeViews"
            )
            self._store_views = [v for v in (body or []) if isinstance(v, dict)]

    def store_views(self, codes: Sequence[str] | None = None) -> list[StoreView]:
        """Active storefront store views, or exactly ``codes`` (unknown codes raise)."""
        self.prepare()
        assert self._store_views is not None
        rows = sorted((v for v in self._store_views if int(v.get("id") or 0) > 0), key=lambda v: int(v["id"]))
        configs = self.client.get(
            "/V1/store/storeConfigs",
            [(f"storeCodes[{i}]", _text(v.get("code"))) for i, v in enumerate(rows)],
            store=ADMIN_SCOPE,
            resource=RESOURCE_STORES,
            endpoint="storeConfigs",
        )
        by_code = {_text(c.get("code")): c for c in (configs or []) if isinstance(c, dict)}
        views = []
        for row in rows:
            code = _text(row.get("code"))
            config = by_code.get(code, {})
            base = _text(config.get("secure_base_url"))
            media = _text(config.get("secure_base_media_url"))
            views.append(
                StoreView(
                    store_id=int(row["id"]),
                    code=code,
                    name=_text(row.get("name")),
                    website_id=int(row.get("website_id") or 0),
                    is_active=bool(int(row.get("is_active") or 0)),
                    base_url=base,
                    media_base_url=media or (f"{base}media/" if base else ""),
                )
            )
        return store_views_select(views, codes)

    # -- products -------------------------------------------------------------------------

    def product_ids(self) -> list[int]:
        """Every product's entity_id; also learns each SKU's id for link lists."""
        self.prepare()
        ids: list[int] = []
        slashed = 0
        for items in self.client.search_after(
            "/V1/products",
            key="entity_id",
            store=ADMIN_SCOPE,
            resource=RESOURCE_PRODUCTS,
            fields="items[id,sku],total_count",
            endpoint="products:ids",
        ):
            for item in items:
                entity_id, sku = int(item["id"]), _text(item.get("sku"))
                ids.append(entity_id)
                self._sku_ids.setdefault(sku, entity_id)
                slashed += "/" in sku
        if slashed and self.client.auth == "oauth":
            self.client.warn(
                f"{slashed} SKU(s) contain '/': Magento cannot verify OAuth signatures for "
                "per-product URLs of such SKUs (a known Magento bug). This sync reads them through "
                "list endpoints and is not affected; other integrations calling /V1/products/{sku} are."
            )
        return ids

    def _resolve_skus(self, skus: set[str]) -> None:
        """Learn the ids of linked SKUs not seen yet (an incremental sync reads few products)."""
        missing = sorted(s for s in skus if s not in self._sku_ids)
        for start in range(0, len(missing), 20):
            chunk = missing[start : start + 20]
            for items in self.client.search_after(
                "/V1/products",
                key="entity_id",
                store=ADMIN_SCOPE,
                resource=RESOURCE_PRODUCTS,
                fields="items[id,sku],total_count",
                groups=[[("sku", sku, "eq") for sku in chunk]],
                endpoint="products:skus",
            ):
                for item in items:
                    self._sku_ids.setdefault(_text(item.get("sku")), int(item["id"]))

    def product_batches(
        self,
        stores: Sequence[StoreView],
        *,
        updated_since: datetime | None = None,
        entity_ids: Sequence[int] | None = None,
    ) -> Iterator[ProductBatch]:
        """Gallery entries and link lists per product page, every store view read for the same
        products: the first view pages by keyset, the others read the page's id range."""
        self.prepare()
        if not stores:
            return
        base: list[list[Filter]] = []
        if updated_since is not None:
            base.append([("updated_at", _db_time(updated_since), "gteq")])
        if entity_ids is not None:
            wanted = sorted(set(entity_ids))
            if not wanted:
                return
            for start in range(0, len(wanted), self.batch_size):
                chunk = wanted[start : start + self.batch_size]
                groups = [*base, [("entity_id", ",".join(map(str, chunk)), "in")]]
                yield from self._batches(stores, groups)
            return
        yield from self._batches(stores, base)

    def _batches(self, stores: Sequence[StoreView], groups: list[list[Filter]]) -> Iterator[ProductBatch]:
        """Every store view reads the same keyset page at once (``MAGENTO_REST_CONCURRENCY``); a view
        whose page holds other products than the first view's (a product saved mid-read) reads the
        first view's id range again, so each batch covers exactly the same products everywhere."""
        first = stores[0]
        last: int | None = None

        def page(store: StoreView, page_groups: list[list[Filter]]) -> tuple[list[dict], int]:
            body = self.client.get(
                "/V1/products",
                search_params(
                    groups=page_groups,
                    sort=[("entity_id", "ASC")],
                    page_size=self.batch_size,
                    page=1,
                    fields=_PRODUCT_FIELDS,
                ),
                store=store.code,
                resource=RESOURCE_PRODUCTS,
                endpoint="products",
            )
            return _search_result(body, "/V1/products")

        while True:
            page_groups = [*groups, *([[("entity_id", str(last), "gt")]] if last is not None else [])]
            pages = self._map(lambda store, g=page_groups: page(store, g), list(stores))
            items, total = pages[0]
            if not items:
                return
            ids = [int(item["id"]) for item in items]
            if last is not None and min(ids) <= last:
                raise MagentoRestError(f"Magento REST /V1/products ignored the filter entity_id > {last}")
            ranged = [*groups, [("entity_id", str(min(ids)), "gteq")], [("entity_id", str(max(ids)), "lteq")]]
            per_store = [(first, items)]
            for store, (store_items, _total) in zip(stores[1:], pages[1:], strict=True):
                if sorted(int(i["id"]) for i in store_items) != sorted(ids):
                    store_items = [
                        item
                        for found in self.client.search_after(
                            "/V1/products",
                            key="entity_id",
                            store=store.code,
                            resource=RESOURCE_PRODUCTS,
                            fields=_PRODUCT_FIELDS,
                            groups=ranged,
                            page_size=self.batch_size,
                            endpoint="products:reread",
                        )
                        for item in found
                    ]
                per_store.append((store, store_items))
            yield self._product_batch(ids, per_store)
            if len(items) >= total:
                return
            last = max(ids)

    def _product_batch(self, ids: list[int], per_store: list[tuple[StoreView, list[dict]]]) -> ProductBatch:
        wanted = set(ids)
        linked = {
            _text(link.get("linked_product_sku"))
            for _store, items in per_store
            for item in items
            for link in item.get("product_links") or []
        }
        self._resolve_skus(linked)
        batch = ProductBatch(entity_ids=ids)
        stamps = [s for s in (_as_utc(item.get("updated_at")) for item in per_store[0][1]) if s is not None]
        batch.max_updated_at = max(stamps) if stamps else None
        for store, items in per_store:
            # A product created inside the range after the first view's page is read with the next
            # sync; the batch covers exactly the first view's products.
            for item in sorted((i for i in items if int(i["id"]) in wanted), key=lambda i: int(i["id"])):
                batch.gallery.extend(self._gallery(store, item))
                batch.links.extend(self._links(store, item))
        return batch

    @staticmethod
    def _product_fields(item: dict) -> tuple[int, str, str, bool, int | None, datetime | None]:
        status = _int_or_none(item.get("status"))
        return (
            int(item["id"]),
            _text(item.get("sku")),
            _text(item.get("name")),
            status == 1,
            _int_or_none(item.get("visibility")),
            _as_utc(item.get("updated_at")),
        )

    def _gallery(self, store: StoreView, item: dict) -> list[GalleryEntry]:
        entity_id, sku, name, enabled, visibility, updated = self._product_fields(item)
        entries = []
        for entry in sorted(item.get("media_gallery_entries") or [], key=lambda e: int(e["id"])):
            types = set(entry.get("types") or [])
            video_url, video_title = _video(entry)
            entries.append(
                GalleryEntry(
                    store_code=store.code,
                    entity_id=entity_id,
                    sku=sku,
                    value_id=int(entry["id"]),
                    file=_text(entry.get("file")),
                    media_type=_text(entry.get("media_type")) or "image",
                    label=_text(entry.get("label")),
                    position=_int_or_none(entry.get("position")),
                    hidden=_flag(entry.get("disabled")),
                    roles=tuple(role for role in IMAGE_ROLES if role in types),
                    product_name=name,
                    product_enabled=enabled,
                    product_visibility=visibility,
                    updated_at=updated,
                    video_url=video_url,
                    video_title=video_title,
                )
            )
        return entries

    def _links(self, store: StoreView, item: dict) -> list[ProductLinkSet]:
        entity_id, sku, name, enabled, _visibility, updated = self._product_fields(item)
        grouped: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for index, link in enumerate(item.get("product_links") or []):
            link_type = REST_LINK_TYPES.get(_text(link.get("link_type")))
            linked = _text(link.get("linked_product_sku"))
            if link_type is None or linked not in self._sku_ids:
                continue  # grouped-product members, or a product deleted since
            position = _int_or_none(link.get("position"))
            grouped[link_type].append((position if position is not None else 2**31, index, linked))
        sets = []
        for link_type in sorted(grouped, key=_LINK_ORDER.__getitem__):
            ordered = sorted(grouped[link_type])
            sets.append(
                ProductLinkSet(
                    store_code=store.code,
                    entity_id=entity_id,
                    sku=sku,
                    link_type=link_type,
                    linked_skus=tuple(m[2] for m in ordered),
                    linked_entity_ids=tuple(self._sku_ids[m[2]] for m in ordered),
                    product_name=name,
                    product_enabled=enabled,
                    updated_at=updated,
                )
            )
        return sets

    # -- CMS ------------------------------------------------------------------------------

    @staticmethod
    def _cms(surface: str) -> tuple[str, str, str, str]:
        if surface not in _CMS:
            raise ValueError(f"not a CMS surface: {surface}")
        return _CMS[surface]

    def cms_ids(self, surface: str) -> list[int]:
        """Every block or page id."""
        self.prepare()
        path, key, resource, _extra = self._cms(surface)
        ids: list[int] = []
        for items in self.client.search_after(
            path,
            key=key,
            store=ADMIN_SCOPE,
            resource=resource,
            fields="items[id],total_count",
            endpoint=f"{surface}:ids",
        ):
            ids.extend(int(item["id"]) for item in items)
        return sorted(set(ids))

    def _cms_assignments(self, surface: str, stores: Sequence[StoreView]) -> dict[int, set[int]]:
        """content id -> assigned store ids (0 = all), from one ``store_id`` listing per store."""
        wanted = [0, *(s.store_id for s in stores)]
        assigned = self._assignments.setdefault(surface, {})
        listed = self._listed_stores.setdefault(surface, set())
        path, key, resource, _extra = self._cms(surface)

        def listing(store_id: int) -> tuple[int, list[int]]:
            ids: list[int] = []
            for items in self.client.search_pages(
                path,
                store=ADMIN_SCOPE,
                resource=resource,
                fields="items[id],total_count",
                groups=[[("store_id", str(store_id), "eq")]],
                sort=[(key, "ASC")],
                endpoint=f"{surface}:stores",
            ):
                ids.extend(int(item["id"]) for item in items)
            return store_id, ids

        for store_id, ids in self._map(listing, [sid for sid in wanted if sid not in listed]):
            listed.add(store_id)
            for content_id in ids:
                assigned.setdefault(content_id, set()).add(store_id)
        return assigned

    def cms_batches(
        self,
        surface: str,
        stores: Sequence[StoreView],
        *,
        updated_since: datetime | None = None,
        batch_size: int | None = None,
    ) -> Iterator[tuple[list[int], list[CmsContent], datetime | None]]:
        """(ids in the batch, contents per assigned store view, newest update_time) per page."""
        self.prepare()
        path, key, resource, extra = self._cms(surface)
        assignments = self._cms_assignments(surface, stores)
        groups: list[list[Filter]] = []
        if updated_since is not None:
            groups.append([("update_time", _db_time(updated_since), "gteq")])
        for items in self.client.search_after(
            path,
            key=key,
            store=ADMIN_SCOPE,
            resource=resource,
            fields=f"items[id,identifier,title,content,active,update_time{extra}],total_count",
            groups=groups,
            page_size=min(batch_size or self.batch_size, MAX_PAGE_SIZE),
            endpoint=surface,
        ):
            contents: list[CmsContent] = []
            stamps = []
            for item in items:
                content_id = int(item["id"])
                updated_at = _as_utc(item.get("update_time"))
                if updated_at:
                    stamps.append(updated_at)
                assigned = assignments.get(content_id, set())
                for store in stores:
                    if 0 not in assigned and store.store_id not in assigned:
                        continue
                    contents.append(
                        CmsContent(
                            surface=surface,
                            store_code=store.code,
                            content_id=content_id,
                            identifier=_text(item.get("identifier")),
                            title=_text(item.get("title")),
                            content=_text(item.get("content")),
                            is_active=_flag(item.get("active")),
                            all_stores=0 in assigned,
                            updated_at=updated_at,
                            content_heading=_text(item.get("content_heading")),
                        )
                    )
            yield [int(item["id"]) for item in items], contents, (max(stamps) if stamps else None)

    # -- health ---------------------------------------------------------------------------

    def ping(self) -> None:
        """Raise a :class:`MagentoError` unless the store list can be read (no retries)."""
        self.client.get(
            "/V1/store/storeViews",
            store=ADMIN_SCOPE,
            resource=RESOURCE_STORES,
            endpoint="storeViews",
            retries=0,
        )
