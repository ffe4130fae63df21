"""The resized image URLs a headless or remote storefront serves, from Magento's GraphQL API.

Without the store's ``pub/media`` directory the cache directory names cannot be derived: each
``catalog/product/cache/<hash>`` is an MD5 HMAC of the resize parameters keyed with the store's
``crypt/key``. The storefront's own GraphQL API (Magento 2.4, ``POST /graphql``, public catalog
data, no token) answers them instead: ``products(filter: {sku: {in: [...]}})`` returns, per
product, the URL of its ``image``, ``small_image`` and ``thumbnail`` roles as the storefront renders
them (``Magento\\CatalogGraphQl`` resolves them through the same image helper as the theme), so
those are the derivatives a PWA or Hyvä storefront serves. Gallery images beyond the roles are
answered as originals and are not derivatives.

The answer is read defensively: at most :data:`MAX_ANSWER_BYTES`, only URLs on the configured
media base whose path holds ``catalog/product/cache/<hash>/``, paths without ``..``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

__all__ = ["GraphqlImagesError", "RoleImage", "graphql_role_images", "graphql_url_for"]

MAX_ANSWER_BYTES = 8 * 1024 * 1024
SKUS_PER_QUERY = 50
ROLES = ("image", "small_image", "thumbnail")
_QUERY = (
    "query ProvenantRoleImages($skus: [String], $size: Int) {"
    " products(filter: {sku: {in: $skus}}, pageSize: $size) {"
    " items { sku image { url } small_image { url } thumbnail { url } } } }"
)
_CACHE = re.compile(r"/catalog/product(/cache/[0-9A-Za-z]{1,64}/.+)\Z")


class GraphqlImagesError(Exception):
    """The GraphQL endpoint could not be asked or gave an answer that is not one."""


@dataclass(frozen=True)
class RoleImage:
    """A role image of product ``sku`` as served: ``path`` below ``catalog/product``
    (``/cache/<hash>/a/b/file.jpg``), ``gallery_file`` the original it was rendered from."""

    sku: str
    role: str
    path: str
    cache_hash: str
    gallery_file: str


def graphql_url_for(rest_base_url: str) -> str:
    """The GraphQL endpoint next to a REST base URL (``https://shop.example/rest`` →
    ``https://shop.example/graphql``); ``""`` when there is none."""
    if not rest_base_url:
        return ""
    parts = urlsplit(rest_base_url)
    path = re.sub(r"/rest(/.*)?\Z", "", parts.path.rstrip("/"))
    return f"{parts.scheme}://{parts.netloc}{path}/graphql"


def _cache_path(url: object, media_base_url: str) -> tuple[str, str, str] | None:
    """``(path below catalog/product, cache hash, gallery file)`` of a served URL, or ``None`` when it
    is not a cached derivative on the media base."""
    if not isinstance(url, str) or not url.startswith(media_base_url):
        return None
    path = unquote(urlsplit(url).path)
    match = _CACHE.search(path)
    if match is None or "/../" in path or "\\" in path:
        return None
    relative = match.group(1)
    _, _, cache_hash, *rest = relative.split("/")
    return relative, cache_hash, "/" + "/".join(rest)


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def graphql_role_images(
    client: httpx.Client,
    *,
    graphql_url: str,
    store_code: str,
    skus: Iterable[str],
    media_base_url: str,
) -> Iterator[RoleImage]:
    """The role images of ``skus`` in store view ``store_code`` as its storefront serves them.
    Raises :class:`GraphqlImagesError` when the endpoint fails or answers something else."""
    wanted = sorted(set(skus))
    for chunk in _chunks(wanted, SKUS_PER_QUERY):
        body = {"query": _QUERY, "variables": {"skus": list(chunk), "size": len(chunk)}}
        try:
            response = client.post(graphql_url, json=body, headers={"Store": store_code})
        except httpx.HTTPError as exc:
            raise GraphqlImagesError(f"POST {graphql_url} failed: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise GraphqlImagesError(f"POST {graphql_url} answered HTTP {response.status_code}")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise GraphqlImagesError(f"POST {graphql_url}: answer larger than {MAX_ANSWER_BYTES} bytes")
        try:
            answer = json.loads(response.content)
            items = answer["data"]["products"]["items"]
        except (ValueError, KeyError, TypeError):
            errors = answer.get("errors") if isinstance(locals().get("answer"), dict) else None
            detail = f": {str(errors)[:200]}" if errors else ""
            raise GraphqlImagesError(f"POST {graphql_url}: not a products answer{detail}") from None
        if not isinstance(items, list):
            raise GraphqlImagesError(f"POST {graphql_url}: products.items is not a list")
        asked = set(chunk)
        for item in items:
            if not isinstance(item, dict) or item.get("sku") not in asked:
                continue
            for role in ROLES:
                entry = item.get(role)
                found = _cache_path(entry.get("url") if isinstance(entry, dict) else None, media_base_url)
                if found is not None:
                    path, cache_hash, gallery_file = found
                    yield RoleImage(item["sku"], role, path, cache_hash, gallery_file)
