"""A loopback server that speaks Magento 2.4's REST contract over a demo store database.

It answers what the REST source reads, the way Magento answers it (the project's Magento
reference): ``/rest/<store_code>/V1/products`` (store-view values, ``media_gallery_entries`` without
globally disabled entries, ``product_links`` in link order with their positions), ``/V1/products/
{sku}``, ``cmsBlock/search`` and ``cmsPage/search`` (items without store ids; a ``store_id`` filter
matching exactly that store), ``store/storeViews`` and ``store/storeConfigs``;
``searchCriteria`` filter groups (AND) of filters (OR) with condition types, sort orders and paging
with the last page repeated past the end, ``fields=`` trimming, a 400 above the maximum page size;
OAuth 1.0a verification (HMAC-SHA256/SHA1, nonces, the ``%2F``-in-path bug), Bearer tokens only when
allowed, ACL resources per integration, and Magento's 401 bodies. Faults (429, 503, slow answers)
can be injected per request count. Products, gallery and links are read from the database with
SQL of its own; store-view fallback of gallery values reuses the MySQL reader.
"""

from __future__ import annotations

import hmac
import json
import math
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from oauthlib.oauth1 import Client
from oauthlib.oauth1.rfc5849 import signature, utils

from magento_bridge.connection import DatabaseUrl
from magento_bridge.reader import MagentoReader, UnknownStoreError, _text
from magento_bridge.records import StoreView

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
BAD_SIGNATURE = "The signature is invalid. Verify and try again."
UNKNOWN_TOKEN = "Specified token does not exist"
REVOKED_TOKEN = "Access token has been revoked."
UNKNOWN_CONSUMER = "A consumer having the specified key does not exist"

_FILTER = re.compile(
    r"^searchCriteria\[filter_groups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(field|value|condition_type)\]$"
)
_SORT = re.compile(r"^searchCriteria\[sortOrders\]\[(\d+)\]\[(field|direction)\]$")
_OPS = {
    "eq": "=",
    "neq": "!=",
    "gt": ">",
    "gteq": ">=",
    "lt": "<",
    "lteq": "<=",
    "like": "LIKE",
    "nlike": "NOT LIKE",
}


_SIGNERS = {
    "HMAC-SHA256": signature.sign_hmac_sha256_with_client,
    "HMAC-SHA1": signature.sign_hmac_sha1_with_client,
}


def oauth_parameters(header: str) -> dict[str, str]:
    """The decoded parameters of an ``OAuth ...`` Authorization header, ``realm`` left out."""
    try:
        pairs = utils.parse_authorization_header(header)
    except ValueError:
        return {}
    return {utils.unescape(k): utils.unescape(v) for k, v in pairs if k != "realm"}


def oauth_base_string(method: str, url: str, header: str, form: str = "") -> str:
    """RFC 5849 3.4.1: the signature base string of a request as the server sees it."""
    params = signature.collect_parameters(
        uri_query=urlsplit(url).query, body=form or None, headers={"Authorization": header}
    )
    return signature.signature_base_string(
        method.upper(), signature.base_string_uri(url), signature.normalize_parameters(params)
    )


def oauth_signature_valid(
    method: str, url: str, header: str, consumer_secret: str, token_secret: str
) -> bool:
    """Whether the header's HMAC-SHA256/SHA1 signature is the one computed from the request."""
    params = oauth_parameters(header)
    signer = _SIGNERS.get(params.get("oauth_signature_method", ""))
    if signer is None:
        return False
    secrets = Client(
        params.get("oauth_consumer_key", ""),
        client_secret=consumer_secret,
        resource_owner_secret=token_secret,
    )
    expected = signer(oauth_base_string(method, url, header), secrets)
    return hmac.compare_digest(expected.encode(), params.get("oauth_signature", "").encode())


class RestFailure(Exception):
    def __init__(self, status: int, message: str, parameters: Any = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"message": message, **({"parameters": parameters} if parameters is not None else {})}
        self.headers = headers or {}


@dataclass
class Integration:
    """An activated integration: its four secrets and the ACL resources it was granted."""

    consumer_key: str = "ck-demo"
    consumer_secret: str = "cs-demo"
    token: str = "at-demo"
    token_secret: str = "ts-demo"
    resources: set[str] | None = None  # None: all
    revoked: bool = False


@dataclass
class Fault:
    """Answer ``status`` to ``times`` requests whose path contains ``match``, after ``after`` such."""

    status: int
    times: int = 1
    after: int = 0
    match: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "Service Unavailable"
    delay: float = 0.0  # sleep before answering (to trip client timeouts)
    seen: int = 0


def parse_fields(spec: str) -> dict[str, Any]:
    """``items[id,media_gallery_entries[id,file]],total_count`` -> nested dict (None = keep all)."""
    tree: dict[str, Any] = {}
    stack = [tree]
    name = ""
    for ch in spec + ",":
        if ch == "[":
            child: dict[str, Any] = {}
            stack[-1][name.strip()] = child
            stack.append(child)
            name = ""
        elif ch in ",]":
            if name.strip():
                stack[-1][name.strip()] = None
            name = ""
            if ch == "]":
                stack.pop()
        else:
            name += ch
    return tree


def trim(value: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [trim(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: trim(v, tree[k]) for k, v in value.items() if k in tree}
    return value


def parse_criteria(query: list[tuple[str, str]], max_page_size: int) -> dict[str, Any]:
    groups: dict[int, dict[int, dict[str, str]]] = {}
    sorts: dict[int, dict[str, str]] = {}
    page_size = current_page = None
    for key, value in query:
        if m := _FILTER.match(key):
            groups.setdefault(int(m[1]), {}).setdefault(int(m[2]), {})[m[3]] = value
        elif m := _SORT.match(key):
            sorts.setdefault(int(m[1]), {})[m[2]] = value
        elif key == "searchCriteria[pageSize]":
            page_size = int(value)
        elif key == "searchCriteria[currentPage]":
            current_page = int(value)
    if page_size is not None and page_size > max_page_size:
        raise RestFailure(400, "Maximum SearchCriteria pageSize is %max", {"max": max_page_size})
    filter_groups = [
        [
            {
                "field": f["field"],
                "value": f.get("value", ""),
                "condition_type": f.get("condition_type", "eq"),
            }
            for _, f in sorted(g.items())
        ]
        for _, g in sorted(groups.items())
    ]
    sort_orders = [
        {"field": s["field"], "direction": s.get("direction", "ASC").upper()}
        for _, s in sorted(sorts.items())
    ]
    return {
        "filter_groups": [{"filters": g} for g in filter_groups],
        "sort_orders": sort_orders,
        "page_size": page_size,
        "current_page": current_page,
    }


def _stamp(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return _text(value)[:19]


class MagentoRestServer:
    """``with MagentoRestServer(db) as server:`` -> ``server.base_url`` (threaded, loopback)."""

    def __init__(
        self,
        db: DatabaseUrl,
        *,
        prefix: str = "",
        integration: Integration | None = None,
        bearer_allowed: bool = False,
        max_page_size: int = 300,
        slash_bug: bool = True,
        media_root: Path | None = None,
    ) -> None:
        self.db = db
        self.prefix = prefix
        self.integration = integration or Integration()
        self.bearer_allowed = bearer_allowed
        self.max_page_size = max_page_size
        self.slash_bug = slash_bug
        self.media_root = media_root  # serve <media_root>/... as /media/... and report that URL
        # (store code, entity_id): leave the product out of that store view's next product list,
        # as if it was saved while the sync read (it then matches an updated_at filter no more).
        self.hide_once: set[tuple[str, int]] = set()
        self.faults: list[Fault] = []
        self.log: list[tuple[str, int]] = []  # (path?query, status)
        self.auth_kinds: Counter = Counter()
        self._nonces: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.connections = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections += 1

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if not server._media(self):
                    server._handle(self)

            def do_HEAD(self) -> None:  # noqa: N802
                if not server._media(self):
                    self.send_response(405)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self.base_url

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> MagentoRestServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_to(self, fragment: str) -> int:
        return sum(1 for path, _status in self.log if fragment in path)

    # -- one request -------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        status, body, headers = 200, None, {}
        try:
            fault = self._fault(handler.path)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                raise RestFailure(fault.status, fault.message, headers=fault.headers)
            body = self._route(handler)
        except RestFailure as exc:
            status, body, headers = exc.status, exc.body, exc.headers
        except Exception as exc:  # noqa: BLE001 - a test server reports its own bugs as 500s
            status, body = 500, {"message": f"Internal Error. {type(exc).__name__}: {exc}"}
        data = json.dumps(body).encode("utf-8")
        with self._lock:
            self.log.append((handler.path, status))
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up (a timeout test)

    def _fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.match in path and fault.times > 0:
                    fault.seen += 1
                    if fault.seen > fault.after:
                        fault.times -= 1
                        return fault
        return None

    def _media(self, handler: BaseHTTPRequestHandler) -> bool:
        """Answer a GET/HEAD under /media/ from the media root (no authentication, like a CDN)."""
        path = unquote(urlsplit(handler.path).path)
        if self.media_root is None or not path.startswith("/media/"):
            return False
        root = self.media_root.resolve()
        file = (root / path[len("/media/") :]).resolve()
        with self._lock:
            self.log.append((handler.path, 200 if file.is_file() else 404))
        if root not in file.parents or not file.is_file():
            handler.send_response(404)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return True
        data = file.read_bytes()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command == "GET":
            handler.wfile.write(data)
        return True

    def _route(self, handler: BaseHTTPRequestHandler) -> Any:
        parts = urlsplit(handler.path)
        segments = parts.path.split("/")
        # "", "rest", [store], "V1", ...
        if len(segments) < 4 or segments[1] != "rest":
            raise RestFailure(404, "Request does not match any route.")
        if segments[2] == "V1":
            store_code, rest = "default", segments[3:]
        else:
            store_code, rest = unquote(segments[2]), segments[4:] if segments[3] == "V1" else []
        route = "/".join(rest)
        query = parse_qsl(parts.query, keep_blank_values=True)
        routes = {
            "store/storeViews": ("Magento_Backend::store", self._store_views),
            "store/storeConfigs": ("Magento_Backend::store", self._store_configs),
            "products": ("Magento_Catalog::products", self._products),
            "cmsBlock/search": ("Magento_Cms::block", lambda s, q: self._cms("cms_block", s, q)),
            "cmsPage/search": ("Magento_Cms::page", lambda s, q: self._cms("cms_page", s, q)),
        }
        if route in routes:
            resource, action = routes[route]
        elif len(rest) == 2 and rest[0] == "products":
            resource = "Magento_Catalog::products"
            sku = unquote(rest[1])

            def action(store: str, q: list, sku: str = sku) -> Any:
                return self._product(sku, store, q)
        else:
            raise RestFailure(404, "Request does not match any route.")
        self._authenticate(handler, resource)
        result = action(store_code, query)
        fields = dict(query).get("fields")
        return trim(result, parse_fields(fields)) if fields else result

    def _authenticate(self, handler: BaseHTTPRequestHandler, resource: str) -> None:
        header = handler.headers.get("Authorization", "")
        integration = self.integration
        denied = RestFailure(401, NOT_AUTHORIZED, {"resources": resource})
        if header.startswith("Bearer "):
            with self._lock:
                self.auth_kinds["bearer"] += 1
            if not self.bearer_allowed or header[7:] != integration.token or integration.revoked:
                raise denied
        elif header[:6].lower() == "oauth ":
            with self._lock:
                self.auth_kinds["oauth"] += 1
            params = oauth_parameters(header)
            if params.get("oauth_consumer_key") != integration.consumer_key:
                raise RestFailure(401, UNKNOWN_CONSUMER)
            if params.get("oauth_token") != integration.token:
                raise RestFailure(401, UNKNOWN_TOKEN)
            if integration.revoked:
                raise RestFailure(401, REVOKED_TOKEN)
            nonce = (params.get("oauth_nonce", ""), params.get("oauth_timestamp", ""))
            with self._lock:
                if nonce in self._nonces:
                    raise RestFailure(401, "The nonce is already being used by the consumer with ID %1", [1])
                self._nonces.add(nonce)
            host = handler.headers.get("Host", "")
            path = handler.path
            if self.slash_bug:
                # Magento checks the signature against a path whose %2F the web server decoded.
                raw, _, query = path.partition("?")
                path = re.sub("%2F", "/", raw, flags=re.IGNORECASE) + (f"?{query}" if query else "")
            if not oauth_signature_valid(
                "GET", f"http://{host}{path}", header, integration.consumer_secret, integration.token_secret
            ):
                raise RestFailure(401, BAD_SIGNATURE)
        else:
            raise denied
        if integration.resources is not None and resource not in integration.resources:
            raise denied

    # -- data --------------------------------------------------------------------------------

    def _reader(self) -> MagentoReader:
        reader = MagentoReader(self.db, prefix=self.prefix)
        reader.prepare()
        return reader

    def _view(self, reader: MagentoReader, code: str) -> StoreView:
        if code == "all":
            return StoreView(store_id=0, code="admin", name="Admin", website_id=0, is_active=True)
        try:
            return reader.store_views([code])[0]
        except UnknownStoreError:
            raise RestFailure(
                400, "The store that was requested wasn't found. Verify the store and try again."
            ) from None

    def _store_views(self, store: str, query: list) -> Any:
        with self._reader() as reader:
            rows = reader._query(
                "SELECT store_id, code, name, website_id, group_id, is_active "
                f"FROM {reader.t('store')} ORDER BY store_id"
            )
        return [
            {
                "id": int(i),
                "code": _text(c),
                "name": _text(n),
                "website_id": int(w),
                "store_group_id": int(g),
                "is_active": int(a),
            }
            for i, c, n, w, g, a in rows
        ]

    def _store_configs(self, store: str, query: list) -> Any:
        codes = [v for k, v in query if k.startswith("storeCodes")]
        with self._reader() as reader:
            views = reader.store_views(codes or None)
        return [
            {
                "id": v.store_id,
                "code": v.code,
                "website_id": v.website_id,
                "locale": "en_US",
                "base_currency_code": "EUR",
                "timezone": "Europe/Berlin",
                "base_url": v.base_url,
                "secure_base_url": v.base_url,
                "base_media_url": v.media_base_url,
                "secure_base_media_url": f"{self.base_url}media/" if self.media_root else v.media_base_url,
            }
            for v in views
        ]

    @staticmethod
    def _where(
        criteria: dict, columns: dict[str, str], special: dict[str, Any] | None = None
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for group in criteria["filter_groups"]:
            ors = []
            for f in group["filters"]:
                name, value, condition = f["field"], f["value"], f["condition_type"]
                if special and name in special:
                    sql, extra = special[name](value, condition)
                    ors.append(sql)
                    params += extra
                    continue
                if name not in columns:
                    raise RestFailure(400, "Invalid attribute name: %1", [name])
                column = columns[name]
                if condition in ("in", "nin"):
                    values = [v for v in value.split(",") if v != ""]
                    if not values:
                        ors.append("1 = 0" if condition == "in" else "1 = 1")
                        continue
                    negate = "NOT " if condition == "nin" else ""
                    ors.append(f"{column} {negate}IN ({', '.join(['%s'] * len(values))})")
                    params += values
                elif condition == "null":
                    ors.append(f"{column} IS NULL")
                elif condition == "notnull":
                    ors.append(f"{column} IS NOT NULL")
                elif condition in _OPS:
                    ors.append(f"{column} {_OPS[condition]} %s")
                    params.append(value)
                else:
                    raise RestFailure(400, 'Invalid condition type "%1"', [condition])
            if ors:
                clauses.append("(" + " OR ".join(ors) + ")")
        return (" AND " + " AND ".join(clauses)) if clauses else "", params

    @staticmethod
    def _order(criteria: dict, columns: dict[str, str], default: str) -> str:
        parts = []
        for s in criteria["sort_orders"]:
            if s["field"] not in columns:
                raise RestFailure(400, "Invalid attribute name: %1", [s["field"]])
            parts.append(f"{columns[s['field']]} {'DESC' if s['direction'] == 'DESC' else 'ASC'}")
        return " ORDER BY " + ", ".join(parts or [default])

    def _page(
        self, reader: MagentoReader, criteria: dict, select: str, count: str, params: list
    ) -> tuple[list, int]:
        total = int(reader._query(count, params)[0][0])
        size, page = criteria["page_size"], criteria["current_page"] or 1
        if size is None:
            return reader._query(select, params), total
        last_page = max(1, math.ceil(total / size))
        page = min(max(page, 1), last_page)  # Magento: past the end, the last page again
        return reader._query(f"{select} LIMIT %s OFFSET %s", [*params, size, (page - 1) * size]), total

    def _products(self, store: str, query: list) -> Any:
        criteria = parse_criteria(query, self.max_page_size)
        with self._reader() as reader:
            view = self._view(reader, store)
            key = "row_id" if reader.staging else "entity_id"
            columns = {
                name: f"e.{name}" for name in ("entity_id", "sku", "updated_at", "created_at", "type_id")
            }
            where, params = self._where(criteria, columns)
            with self._lock:
                hidden = [eid for code, eid in self.hide_once if code == store]
                self.hide_once -= {(store, eid) for eid in hidden}
            if hidden:
                where += f" AND e.entity_id NOT IN ({', '.join(['%s'] * len(hidden))})"
                params += hidden
            live, live_params = reader._live("e")
            table = reader.t("catalog_product_entity")
            rows, total = self._page(
                reader,
                criteria,
                f"SELECT e.entity_id, e.{key}, e.sku, e.updated_at, e.created_at, e.type_id FROM {table} e "
                f"WHERE 1 = 1{where}{live}{self._order(criteria, columns, 'e.entity_id ASC')}",
                f"SELECT COUNT(*) FROM {table} e WHERE 1 = 1{where}{live}",
                [*params, *live_params],
            )
            items = self._product_items(reader, view, rows)
        return {"items": items, "search_criteria": criteria, "total_count": total}

    def _product(self, sku: str, store: str, query: list) -> Any:
        with self._reader() as reader:
            view = self._view(reader, store)
            key = "row_id" if reader.staging else "entity_id"
            live, live_params = reader._live("e")
            rows = reader._query(
                f"SELECT e.entity_id, e.{key}, e.sku, e.updated_at, e.created_at, e.type_id "
                f"FROM {reader.t('catalog_product_entity')} e WHERE e.sku = %s{live}",
                [sku, *live_params],
            )
            if not rows:
                raise RestFailure(
                    404, "The product that was requested doesn't exist. Verify the product and try again."
                )
            return self._product_items(reader, view, rows[:1])[0]

    def _product_items(self, reader: MagentoReader, view: StoreView, rows: list[tuple]) -> list[dict]:
        if not rows:
            return []
        keys = [int(r[1]) for r in rows]
        batch = reader._product_batch([(r[0], r[1], r[2], r[3]) for r in rows], [view])
        values = reader._attribute_values(keys, [0, view.store_id])
        value_ids = sorted({e.value_id for e in batch.gallery})
        disabled: set[int] = set()
        if value_ids:
            disabled = {
                int(r[0])
                for r in reader._query(
                    f"SELECT value_id FROM {reader.t('catalog_product_entity_media_gallery')} "
                    f"WHERE disabled = 1 AND value_id IN ({', '.join(['%s'] * len(value_ids))})",
                    value_ids,
                )
            }
        gallery: dict[int, list[dict]] = {}
        for e in batch.gallery:
            if e.value_id in disabled:
                continue  # Magento's gallery read leaves globally disabled entries out
            entry: dict[str, Any] = {
                "id": e.value_id,
                "media_type": e.media_type,
                "label": e.label or None,
                "position": e.position,
                "disabled": e.hidden,
                "types": list(e.roles),
                "file": e.file,
            }
            if e.media_type == "external-video":
                entry["extension_attributes"] = {
                    "video_content": {
                        "media_type": "external-video",
                        "video_provider": "",
                        "video_url": e.video_url,
                        "video_title": e.video_title,
                        "video_description": "",
                        "video_metadata": "",
                    }
                }
            gallery.setdefault(e.entity_id, []).append(entry)
        links = self._links(reader, keys)
        items = []
        for entity_id, row_key, sku, updated, created, type_id in rows:
            row_key = int(row_key)
            status = reader._scoped(values, row_key, "status", view.store_id)
            visibility = reader._scoped(values, row_key, "visibility", view.store_id)
            name = reader._scoped(values, row_key, "name", view.store_id)
            item: dict[str, Any] = {
                "id": int(entity_id),
                "sku": _text(sku),
                "attribute_set_id": 4,
                "status": int(status) if status is not None else None,
                "visibility": int(visibility) if visibility is not None else None,
                "type_id": _text(type_id),
                "created_at": _stamp(created),
                "updated_at": _stamp(updated),
                "extension_attributes": {"website_ids": [1]},
                "product_links": [{"sku": _text(sku), **link} for link in links.get(row_key, [])],
                "options": [],
                "media_gallery_entries": gallery.get(int(entity_id), []),
                "tier_prices": [],
                "custom_attributes": [],
            }
            if name is not None:
                item["name"] = _text(name)
            items.append(item)
        return items

    def _links(self, reader: MagentoReader, keys: list[int]) -> dict[int, list[dict]]:
        names = {"relation": "related", "up_sell": "upsell", "cross_sell": "crosssell", "super": "associated"}
        live, live_params = reader._live("e2")
        marks = ", ".join(["%s"] * len(keys))
        rows = reader._query(
            "SELECT l.product_id, t.code, e2.sku, pos.value, l.link_id "
            f"FROM {reader.t('catalog_product_link')} l "
            f"JOIN {reader.t('catalog_product_link_type')} t ON t.link_type_id = l.link_type_id "
            f"JOIN {reader.t('catalog_product_entity')} e2 ON e2.entity_id = l.linked_product_id{live} "
            f"LEFT JOIN {reader.t('catalog_product_link_attribute')} a ON a.link_type_id = l.link_type_id "
            "AND a.product_link_attribute_code = 'position' "
            f"LEFT JOIN {reader.t('catalog_product_link_attribute_int')} pos ON pos.link_id = l.link_id "
            "AND pos.product_link_attribute_id = a.product_link_attribute_id "
            f"WHERE l.product_id IN ({marks}) ORDER BY l.link_id",
            [*live_params, *keys],
        )
        result: dict[int, list[dict]] = {}
        for product_key, code, linked_sku, position, _link_id in rows:
            if _text(code) not in names:
                continue
            result.setdefault(int(product_key), []).append(
                {
                    "link_type": names[_text(code)],
                    "linked_product_sku": _text(linked_sku),
                    "linked_product_type": "simple",
                    "position": int(position) if position is not None else 0,
                }
            )
        return result

    def _cms(self, table: str, store: str, query: list) -> Any:
        criteria = parse_criteria(query, self.max_page_size)
        id_col = "block_id" if table == "cms_block" else "page_id"
        with self._reader() as reader:
            key = "row_id" if reader.staging else id_col
            columns = {
                id_col: f"c.{id_col}",
                "identifier": "c.identifier",
                "title": "c.title",
                "is_active": "c.is_active",
                "creation_time": "c.creation_time",
                "update_time": "c.update_time",
            }

            def store_filter(value: str, condition: str) -> tuple[str, list]:
                ids = [v for v in value.split(",") if v] if condition == "in" else [value]
                marks = ", ".join(["%s"] * len(ids))
                return (
                    f"EXISTS (SELECT 1 FROM {reader.t(table + '_store')} s WHERE s.{key} = c.{key} "
                    f"AND s.store_id IN ({marks}))",
                    ids,
                )

            where, params = self._where(criteria, columns, {"store_id": store_filter})
            live, live_params = reader._live("c")
            heading = (
                ", c.content_heading, c.page_layout, c.meta_title, c.sort_order"
                if table == "cms_page"
                else ""
            )
            rows, total = self._page(
                reader,
                criteria,
                f"SELECT c.{id_col}, c.identifier, c.title, c.content, c.creation_time, c.update_time, "
                f"c.is_active{heading} FROM {reader.t(table)} c WHERE 1 = 1{where}{live}"
                f"{self._order(criteria, columns, f'c.{id_col} ASC')}",
                f"SELECT COUNT(*) FROM {reader.t(table)} c WHERE 1 = 1{where}{live}",
                [*params, *live_params],
            )
        items = []
        for row in rows:
            item = {
                "id": int(row[0]),
                "identifier": _text(row[1]),
                "title": _text(row[2]),
                "content": _text(row[3]),
                "creation_time": _stamp(row[4]),
                "update_time": _stamp(row[5]),
                "active": bool(int(row[6] or 0)),
            }
            if table == "cms_page":
                item.update(
                    content_heading=_text(row[7]),
                    page_layout=_text(row[8]),
                    meta_title=_text(row[9]),
                    sort_order=_text(row[10]),
                )
            items.append(item)
        return {"items": items, "search_criteria": criteria, "total_count": total}
