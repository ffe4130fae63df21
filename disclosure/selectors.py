"""Reads: badge resolution for the public disclosure API and the published manifests.

Resolution turns registry items (:class:`provenance.models.ContentItem`) into what a storefront page
needs: per product SKU, CMS block and CMS page the badges to show (or, under the audit switch's
``suppress`` mode, the content to hide) and schema.org JSON-LD carrying ``digitalSourceType``
(IPTC NewsCodes) for each synthetic image.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q

from disclosure.defaults import default_text
from disclosure.models import AuditSwitch, DisclosureKind, DisclosurePolicy, StorefrontSettings, SwitchMode
from provenance.models import ContentItem, Origin, Surface

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# IPTC terms for real media changed with AI: disclosed as "edited", the rest as "generated".
_EDITED_TERMS = ("compositeWithTrainedAlgorithmicMedia", "compositeSynthetic", "algorithmicallyEnhanced")
SURFACES = tuple(Surface.values)
_STATE_KEY = "disclosure:state:{}"
_ITEM_FIELDS = (
    "id",
    "surface",
    "magento_id",
    "sku",
    "identifier",
    "file_path",
    "position",
    "label",
    "link_type",
    "origin",
    "digital_source_type",
)


@dataclass(frozen=True)
class StoreState:
    """What every request for a store view needs, cached for the disclosure TTL."""

    store_code: str
    known: bool
    token: str
    origins: tuple[str, ...]
    modes: dict[str, str]
    badge_suspected: bool
    policies: dict[tuple[str, str], dict] = field(default_factory=dict)


def state_cache_key(store_code: str) -> str:
    return _STATE_KEY.format(store_code)


def store_state(store_code: str) -> StoreState:
    """The store view's switch modes, CORS origins and policies; cached, reset by every change."""
    key = state_cache_key(store_code)
    state = cache.get(key)
    if state is None:
        state = _load_state(store_code)
        cache.set(key, state, settings.DISCLOSURE_CACHE_SECONDS or 1)
    return state


def _load_state(store_code: str) -> StoreState:
    config = StorefrontSettings.objects.filter(store_code=store_code).first()
    known = config is not None or ContentItem.objects.filter(store_code=store_code).exists()
    modes = dict.fromkeys(SURFACES, SwitchMode.SHOW.value)
    for switch in AuditSwitch.objects.filter(store_code=store_code).only("surface", "mode"):
        modes[switch.surface] = switch.mode
    return StoreState(
        store_code=store_code,
        known=known,
        # Response caches are keyed by this token, so a new state makes every cached answer stale.
        token=secrets.token_hex(8),
        origins=tuple(config.origins()) if config else (),
        modes=modes,
        badge_suspected=bool(config and config.badge_suspected),
        policies=policies_in_force(store_code),
    )


def policies_in_force(store_code: str) -> dict[tuple[str, str], dict]:
    """(surface, kind) → the policy's public fields: the store's newest version, else the all-stores
    one, else the built-in English default (synthetic content always gets a badge)."""
    newest: dict[tuple[str, str, str], DisclosurePolicy] = {}
    for policy in DisclosurePolicy.objects.filter(store_code__in=("", store_code)).order_by("version"):
        newest[(policy.store_code, policy.surface, policy.kind)] = policy
    result: dict[tuple[str, str], dict] = {}
    for surface in SURFACES:
        for kind in DisclosureKind.values:
            policy = newest.get((store_code, surface, kind)) or newest.get(("", surface, kind))
            if policy is not None:
                result[(surface, kind)] = policy.public_fields()
            else:
                label, explanation = default_text("en_US", surface, kind)
                result[(surface, kind)] = {
                    "store_code": "",
                    "surface": surface,
                    "kind": kind,
                    "version": 0,
                    "locale": "en_US",
                    "label": label,
                    "explanation": explanation,
                    "learn_more_url": "",
                    "icon": "sparkle",
                }
    return result


def disclosure_kind(origin: str, digital_source_type: str) -> str:
    if origin == Origin.SUSPECTED:
        return DisclosureKind.SUSPECTED
    if digital_source_type.rsplit("/", 1)[-1] in _EDITED_TERMS:
        return DisclosureKind.EDITED
    return DisclosureKind.GENERATED


def _badge(item: ContentItem, state: StoreState) -> dict:
    kind = disclosure_kind(item.origin, item.digital_source_type)
    policy = state.policies[(item.surface, kind)]
    dst = item.digital_source_type or (TRAINED_ALGORITHMIC_MEDIA if item.origin == Origin.SYNTHETIC else "")
    badge = {
        "surface": item.surface,
        "kind": kind,
        "origin": item.origin,
        "label": policy["label"],
        "explanation": policy["explanation"],
        "learn_more_url": policy["learn_more_url"],
        "icon": policy["icon"],
        "locale": policy["locale"],
        "policy_version": policy["version"],
        "digital_source_type": dst,
        "hidden": state.modes.get(item.surface) == SwitchMode.SUPPRESS,
    }
    if item.surface == Surface.PRODUCT_IMAGE:
        badge["file"] = item.file_path
        badge["position"] = item.position
    elif item.surface == Surface.RECOMMENDATION:
        badge["link_type"] = item.link_type
    return badge


def _image_jsonld(item: ContentItem, badge: dict) -> dict:
    data = {
        "@context": "https://schema.org",
        "@type": "ImageObject",
        "digitalSourceType": badge["digital_source_type"],
        "identifier": item.file_path,
    }
    if settings.MAGENTO_MEDIA_BASE_URL:
        data["contentUrl"] = settings.MAGENTO_MEDIA_BASE_URL.rstrip("/") + "/catalog/product" + item.file_path
    if item.label:
        data["name"] = item.label
    return data


def _origins(state: StoreState) -> list[str]:
    origins = [Origin.SYNTHETIC.value]
    if state.badge_suspected:
        origins.append(Origin.SUSPECTED.value)
    return origins


def _visible_items(store_code: str):
    return (
        ContentItem.objects.filter(store_code=store_code, removed_at__isnull=True, is_enabled=True)
        .exclude(surface=Surface.PRODUCT_IMAGE, is_hidden=True)
        .only(*_ITEM_FIELDS)
    )


def disclosures_resolve(
    *, state: StoreState, products: Sequence[str], blocks: Sequence[str], pages: Sequence[str]
) -> dict:
    """The public answer for one page: refs with something to disclose, each with its badges.

    CMS refs match a block's or page's identifier, or its numeric id. Refs unknown to the registry
    or with nothing to disclose are absent. One query.
    """
    result: dict = {
        "store": state.store_code,
        "modes": state.modes,
        "products": {},
        "blocks": {},
        "pages": {},
    }
    if not (products or blocks or pages):
        return result
    condition = Q()
    if products:
        condition |= Q(surface__in=(Surface.PRODUCT_IMAGE, Surface.RECOMMENDATION), sku__in=products)
    for surface, refs in ((Surface.CMS_BLOCK, blocks), (Surface.CMS_PAGE, pages)):
        if refs:
            ids = [int(ref) for ref in refs if ref.isdigit() and len(ref) < 19]
            condition |= Q(surface=surface) & (Q(identifier__in=refs) | Q(magento_id__in=ids))
    items = _visible_items(state.store_code).filter(condition, origin__in=_origins(state))
    items = items.order_by("surface", "magento_id", "position", "id")
    wanted_products, wanted_blocks, wanted_pages = set(products), set(blocks), set(pages)
    for item in items:
        badge = _badge(item, state)
        if item.surface in (Surface.PRODUCT_IMAGE, Surface.RECOMMENDATION):
            if item.sku not in wanted_products:
                continue
            entry = result["products"].setdefault(item.sku, {"badges": [], "jsonld": []})
            entry["badges"].append(badge)
            if (
                item.surface == Surface.PRODUCT_IMAGE
                and not badge["hidden"]
                and item.origin == Origin.SYNTHETIC
            ):
                entry["jsonld"].append(_image_jsonld(item, badge))
            continue
        group, wanted = (
            ("blocks", wanted_blocks) if item.surface == Surface.CMS_BLOCK else ("pages", wanted_pages)
        )
        for ref in {item.identifier, str(item.magento_id)} & wanted:
            result[group].setdefault(ref, {"badges": [], "jsonld": []})["badges"].append(badge)
    return result


def disclosures_for_store(*, state: StoreState) -> Iterable[tuple[str, str, dict]]:
    """Every ref of the store view with something to disclose, as (group, ref, entry); for manifests."""
    items = _visible_items(state.store_code).filter(origin__in=_origins(state))
    products: dict[str, dict] = {}
    cms: dict[tuple[str, str], dict] = {}
    for item in items.order_by("surface", "magento_id", "position", "id").iterator(chunk_size=2000):
        badge = _badge(item, state)
        if item.surface in (Surface.PRODUCT_IMAGE, Surface.RECOMMENDATION):
            if not item.sku:
                continue
            entry = products.setdefault(item.sku, {"badges": [], "jsonld": []})
            entry["badges"].append(badge)
            if (
                item.surface == Surface.PRODUCT_IMAGE
                and not badge["hidden"]
                and item.origin == Origin.SYNTHETIC
            ):
                entry["jsonld"].append(_image_jsonld(item, badge))
        else:
            group = "blocks" if item.surface == Surface.CMS_BLOCK else "pages"
            for ref in (item.identifier, str(item.magento_id)):
                if ref:
                    cms.setdefault((group, ref), {"badges": [], "jsonld": []})["badges"].append(badge)
    for sku, entry in products.items():
        yield "products", sku, entry
    for (group, ref), entry in cms.items():
        yield group, ref, entry


def generation_pause() -> AuditSwitch | None:
    """The first switch that pauses generation, or ``None``."""
    return AuditSwitch.objects.filter(pause_generation=True).order_by("changed_at").first()
