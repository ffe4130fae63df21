"""The demo storefront: a small shop built from the demo Magento store and the registry, with product
pages laid out like a Hyvä/Magento page, running the Magento module's own script against this
sidecar. Only with ``PROVENANT_DEMO_STOREFRONT`` (on by default under ``PROVENANT_DEBUG``); every
view answers 404 otherwise.

Product names, images and recommendation lists come from the registry (as the sync read them, per
store view); prices and CMS block text from the Magento database (MySQL source), shown without
them when it cannot be read. CMS HTML is shown as plain text: this page is not Magento's renderer.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.html import strip_tags
from django.views.decorators.cache import cache_control
from django.views.static import serve

from magento_bridge.reader import MagentoError, MagentoReader
from provenance.models import ContentItem, Surface

logger = logging.getLogger(__name__)

MODULE_WEB = Path(settings.BASE_DIR) / "magento-module" / "view" / "frontend" / "web"
_SYNTHETIC_LIMIT = 60
_OTHERS_LIMIT = 12
# The demo store is a European health shop; Magento's base currency setting wins when present.
_DEFAULT_CURRENCY = "EUR"
_CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}

# The storefront's own words, per language of the store view (``general/locale/code``).
TEXT = {
    "en": {
        "shop": "Demo Health Store",
        "intro": "A demo shop: product pages as Magento renders them, with the Provenant_Disclosure "
        "module's badges on AI-generated content.",
        "with_ai": "Products with AI-generated or AI-modified images",
        "others": "More products",
        "none": "No products yet: run a sync.",
        "all": "All products",
        "images": "Product images",
        "image": "Image",
        "sku": "SKU",
        "no_price": "Price on request",
        "related": "Related Products",
        "up_sell": "We found other products you might like!",
        "cross_sell": "More Choices:",
    },
    "de": {
        "shop": "Demo-Gesundheitsshop",
        "intro": "Ein Demo-Shop: Produktseiten, wie Magento sie darstellt, mit den Hinweisen des Moduls "
        "Provenant_Disclosure auf KI-generierte Inhalte.",
        "with_ai": "Produkte mit KI-generierten oder KI-veränderten Bildern",
        "others": "Weitere Produkte",
        "none": "Noch keine Produkte: bitte zuerst synchronisieren.",
        "all": "Alle Produkte",
        "images": "Produktbilder",
        "image": "Bild",
        "sku": "Artikelnummer",
        "no_price": "Preis auf Anfrage",
        "related": "Ähnliche Produkte",
        "up_sell": "Das könnte Ihnen auch gefallen",
        "cross_sell": "Weitere Auswahl:",
    },
}

# A favicon, so no page asks for /favicon.ico in vain: a violet rounded square with a white cross.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" '
    'fill="#1f2a44"/><path d="M13 7h6v6h6v6h-6v6h-6v-6H7v-6h6z" fill="#fff"/></svg>'
)


@dataclass(frozen=True)
class StoreFacts:
    """What the registry does not hold: prices by SKU, CMS block text by identifier, the language."""

    language: str
    currency: str
    prices: dict[str, Decimal]
    blocks: dict[str, list[tuple[bool, str]]]


def _enabled() -> None:
    if not settings.DEMO_STOREFRONT:
        raise Http404("The demo storefront is off.")


def _live(store_code: str):
    return ContentItem.objects.filter(store_code=store_code, removed_at__isnull=True, is_enabled=True)


def _language(store_code: str) -> str:
    return "de" if store_code == "de" else "en"


def store_facts(store_code: str, *, skus: list[str], blocks: list[str]) -> StoreFacts:
    """Prices of ``skus`` and the text of CMS ``blocks`` of the store view, read from Magento's
    database; empty (and logged) when the source is not the database or cannot be read."""
    language = _language(store_code)
    empty = StoreFacts(language, _DEFAULT_CURRENCY, {}, {})
    if not settings.MAGENTO_DATABASE_URL or settings.MAGENTO_SOURCE != "mysql":
        return empty
    from magento_bridge.services import magento_reader  # the sync's module: import when needed

    try:
        with magento_reader() as reader:
            if not isinstance(reader, MagentoReader):
                return empty
            view = reader.store_views([store_code])[0]
            locale = _config_value(reader, "general/locale/code", view.store_id, view.website_id)
            if locale:
                language = "de" if locale.lower().startswith("de") else "en"
            currency = _config_value(reader, "currency/options/base", view.store_id, view.website_id)
            return StoreFacts(
                language,
                currency or _DEFAULT_CURRENCY,
                _prices(reader, skus),
                _block_texts(reader, blocks, view.store_id),
            )
    except (MagentoError, IndexError) as exc:
        logger.warning("demo storefront: Magento facts for %s unavailable: %s", store_code, exc)
        return empty


def _config_value(reader: MagentoReader, path: str, store_id: int, website_id: int) -> str:
    rows = reader.read(
        f"SELECT scope, scope_id, value FROM {reader.t('core_config_data')} WHERE path = %s", [path]
    )
    values = {(str(scope), int(scope_id)): str(value or "") for scope, scope_id, value in rows}
    for key in (("stores", store_id), ("websites", website_id), ("default", 0)):
        if key in values:
            return values[key]
    return ""


def _prices(reader: MagentoReader, skus: list[str]) -> dict[str, Decimal]:
    """Default-scope ``price`` of each SKU (Magento's price scope is global unless set per website)."""
    if not skus:
        return {}
    reader.prepare()
    key = "row_id" if reader.staging else "entity_id"
    marks = ", ".join(["%s"] * len(skus))
    rows = reader.read(
        f"SELECT e.sku, d.value FROM {reader.t('catalog_product_entity')} e "
        f"JOIN {reader.t('catalog_product_entity_decimal')} d ON d.{key} = e.{key} "
        f"JOIN {reader.t('eav_attribute')} a ON a.attribute_id = d.attribute_id "
        f"WHERE a.attribute_code = %s AND d.store_id = 0 AND e.sku IN ({marks})",
        ["price", *skus],
    )
    prices = {}
    for sku, value in rows:
        try:
            prices[str(sku)] = Decimal(str(value)).quantize(Decimal("0.01"))
        except (InvalidOperation, TypeError):
            continue
    return prices


def _block_texts(
    reader: MagentoReader, identifiers: list[str], store_id: int
) -> dict[str, list[tuple[bool, str]]]:
    """Plain text of active CMS blocks by identifier, the store view's own block over an all-stores one."""
    if not identifiers:
        return {}
    marks = ", ".join(["%s"] * len(identifiers))
    key = "row_id" if reader.staging else "block_id"
    rows = reader.read(
        f"SELECT b.identifier, b.content, s.store_id FROM {reader.t('cms_block')} b "
        f"JOIN {reader.t('cms_block_store')} s ON s.{key} = b.{key} "
        f"WHERE b.is_active = 1 AND b.identifier IN ({marks}) AND s.store_id IN (0, %s)",
        [*identifiers, store_id],
    )
    texts: dict[str, tuple[int, list[tuple[bool, str]]]] = {}
    for identifier, content, scope in rows:
        paragraphs = _paragraphs(str(content or ""))
        if paragraphs and (identifier not in texts or int(scope) != 0):
            texts[str(identifier)] = (int(scope), paragraphs)
    return {identifier: paragraphs for identifier, (_, paragraphs) in texts.items()}


_BLOCK = re.compile(r"<(h[1-6]|p|li)\b[^>]*>(.*?)</\1\s*>", re.I | re.S)


def _paragraphs(html: str) -> list[tuple[bool, str]]:
    """The text of CMS HTML as (is heading, text) per heading, paragraph or list item; no markup."""
    found = [
        (tag.lower().startswith("h"), " ".join(strip_tags(inner).split()))
        for tag, inner in _BLOCK.findall(html)
    ]
    if not found:
        found = [(False, " ".join(strip_tags(html).split()))]
    return [(heading, text) for heading, text in found if text]


def price_label(price: Decimal | None, currency: str, language: str, no_price: str) -> str:
    """``€12.90`` in English, ``12,90 €`` in German; ``no_price`` without a price."""
    if price is None:
        return no_price
    sign = _CURRENCY_SIGNS.get(currency, currency)
    if language == "de":
        return f"{price:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") + f" {sign}"
    return f"{sign}{price:,.2f}"


def _cards(store_code: str, skus: list[str], facts: StoreFacts, text: dict[str, str]) -> list[dict]:
    """One card per SKU: name, price and its first gallery image."""
    images = (
        _live(store_code)
        .filter(surface=Surface.PRODUCT_IMAGE, is_hidden=False, sku__in=skus)
        .exclude(file_path="")
        .order_by("sku", "position", "pk")
    )
    first: dict[str, ContentItem] = {}
    for image in images:
        # A gallery entry whose file is missing or unreadable (the sync names its problem) would
        # show a broken image on the card; any image of the product is better than none.
        if image.sku not in first or (first[image.sku].problem_code and not image.problem_code):
            first[image.sku] = image
    return [
        {
            "sku": sku,
            "name": first[sku].title or sku,
            "image": first[sku],
            "price": price_label(facts.prices.get(sku), facts.currency, facts.language, text["no_price"]),
        }
        for sku in skus
        if sku in first
    ]


def _config(request, store_code: str, products: list[str]) -> str:
    return json.dumps(
        {
            "apiBase": request.build_absolute_uri("/").rstrip("/"),
            "store": store_code,
            "products": products[:100],
            "blocks": [],
            "pages": [],
            "timeout": 3000,
        }
    )


def demo_index(request, store_code: str):
    """A product grid: products with AI-generated or AI-modified images first, then a few others."""
    _enabled()
    images = _live(store_code).filter(surface=Surface.PRODUCT_IMAGE, is_hidden=False).exclude(sku="")
    synthetic = list(
        images.filter(origin="synthetic")
        .values_list("sku", flat=True)
        .distinct()
        .order_by("sku")[:_SYNTHETIC_LIMIT]
    )
    others = list(
        images.exclude(sku__in=synthetic)
        .values_list("sku", flat=True)
        .distinct()
        .order_by("sku")[:_OTHERS_LIMIT]
    )
    if not synthetic and not others:
        raise Http404("No products in this store view.")
    facts = store_facts(store_code, skus=synthetic + others, blocks=[])
    text = TEXT[facts.language]
    context = {
        "store_code": store_code,
        "language": facts.language,
        "text": text,
        "synthetic": _cards(store_code, synthetic, facts, text),
        "others": _cards(store_code, others, facts, text),
        "config_json": _config(request, store_code, synthetic + others),
    }
    return render(request, "magento_bridge/demo_index.html", context)


def demo_product(request, store_code: str, sku: str):
    """A product page: gallery (resized-cache URLs), price, a CMS block and recommendation blocks."""
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
    block = (
        _live(store_code)
        .filter(surface=Surface.CMS_BLOCK)
        .exclude(identifier="")
        # The store view's own block (in its language) over one assigned to all store views.
        .order_by("all_stores", "-origin", "pk")
        .first()
    )
    # One block per link type, in Magento's order: related, up-sells, cross-sells.
    order = {"related": 0, "up_sell": 1, "cross_sell": 2}
    recommendations = sorted(
        {i.link_type: i for i in items if i.surface == Surface.RECOMMENDATION and i.linked_skus}.values(),
        key=lambda i: order.get(i.link_type, 3),
    )
    linked = sorted({s for r in recommendations for s in r.linked_skus})
    facts = store_facts(store_code, skus=[sku, *linked], blocks=[block.identifier] if block else [])
    text = TEXT[facts.language]
    names = dict(
        _live(store_code)
        .filter(surface=Surface.PRODUCT_IMAGE, sku__in=linked)
        .exclude(title="")
        .values_list("sku", "title")
    )
    lists = [
        {
            "link_type": r.link_type,
            "css": {"up_sell": "upsell", "cross_sell": "crosssell"}.get(r.link_type, "related"),
            "title": text.get(r.link_type, text["related"]),
            "products": [{"sku": s, "name": names.get(s, s), "has_page": s in names} for s in r.linked_skus],
        }
        for r in recommendations
    ]
    block_text = facts.blocks.get(block.identifier, []) if block else []
    context = {
        "store_code": store_code,
        "language": facts.language,
        "text": text,
        "sku": sku,
        "title": images[0].title or sku,
        "price": price_label(facts.prices.get(sku), facts.currency, facts.language, text["no_price"]),
        "images": images,
        "main": images[0],
        "recommendations": lists,
        # A block whose text cannot be read is left out rather than shown as a placeholder.
        "block": block if block_text else None,
        "block_text": block_text,
        "config_json": _config(request, store_code, [sku]),
    }
    return render(request, "magento_bridge/demo_product.html", context)


@cache_control(public=True, max_age=86_400)
def demo_favicon(request):
    """The demo storefront's icon (SVG)."""
    _enabled()
    return HttpResponse(FAVICON, content_type="image/svg+xml")


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
