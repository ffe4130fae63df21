"""The demo storefront: product pages built like a Hyva/Magento page from the registry, running the
Magento module's own script against this sidecar. Only with ``PROVENANT_DEMO_STOREFRONT`` (on by
default under ``PROVENANT_DEBUG``); every view answers 404 otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views.static import serve

from provenance.models import ContentItem, Surface

MODULE_WEB = Path(settings.BASE_DIR) / "magento-module" / "view" / "frontend" / "web"
_SEARCH_LIMIT = 60


def _enabled() -> None:
    if not settings.DEMO_STOREFRONT:
        raise Http404("The demo storefront is off.")


def _live(store_code: str):
    return ContentItem.objects.filter(store_code=store_code, removed_at__isnull=True, is_enabled=True)


def demo_index(request, store_code: str):
    """Products of the store view with AI-generated images first, linking to their pages."""
    _enabled()
    images = _live(store_code).filter(surface=Surface.PRODUCT_IMAGE, is_hidden=False).exclude(sku="")
    synthetic = list(
        images.filter(origin="synthetic")
        .values_list("sku", flat=True)
        .distinct()
        .order_by("sku")[:_SEARCH_LIMIT]
    )
    others = list(
        images.exclude(sku__in=synthetic).values_list("sku", flat=True).distinct().order_by("sku")[:12]
    )
    if not synthetic and not others:
        raise Http404("No products in this store view.")
    context = {"store_code": store_code, "synthetic": synthetic, "others": others}
    return render(request, "disclosure/demo_index.html", context)


def demo_product(request, store_code: str, sku: str):
    """A product page: gallery (resized-cache URLs), recommendation blocks and a CMS block."""
    _enabled()
    items = list(
        _live(store_code).filter(sku=sku, surface__in=(Surface.PRODUCT_IMAGE, Surface.RECOMMENDATION))
    )
    images = sorted(
        (i for i in items if i.surface == Surface.PRODUCT_IMAGE and not i.is_hidden and i.file_path),
        key=lambda i: (i.position is None, i.position or 0, i.pk),
    )
    if not images:
        raise Http404("No such product in this store view.")
    recommendations = [i for i in items if i.surface == Surface.RECOMMENDATION and i.linked_skus]
    block = (
        _live(store_code)
        .filter(surface=Surface.CMS_BLOCK)
        .exclude(identifier="")
        .order_by("-origin", "pk")
        .first()
    )
    config = {
        "apiBase": request.build_absolute_uri("/").rstrip("/"),
        "store": store_code,
        "products": [sku],
        "blocks": [],
        "pages": [],
        "timeout": 3000,
    }
    context = {
        "store_code": store_code,
        "sku": sku,
        "title": images[0].title or sku,
        "images": images,
        "main": images[0],
        "recommendations": recommendations,
        "block": block,
        "config_json": json.dumps(config),
    }
    return render(request, "disclosure/demo_product.html", context)


def demo_media(request, path: str):
    """Product media from ``MAGENTO_MEDIA_ROOT``; a ``cache/<hash>/`` segment is ignored, as resized
    copies would be served by Magento."""
    _enabled()
    if not settings.MAGENTO_MEDIA_ROOT:
        raise Http404("No media root.")
    parts = path.split("/")
    if len(parts) > 3 and parts[0] == "cache":
        parts = parts[2:]
    return serve(
        request, "/".join(parts), document_root=Path(settings.MAGENTO_MEDIA_ROOT) / "catalog" / "product"
    )


def demo_module_static(request, path: str):
    """The Magento module's web files, as Magento's static deploy would serve them."""
    _enabled()
    return serve(request, path, document_root=MODULE_WEB)
