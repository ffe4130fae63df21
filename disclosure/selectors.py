"""Reads: badge resolution for the public disclosure API and the published manifests, what a
shopper sees of one registry item (:func:`item_shown`), and badge coverage (:func:`badge_coverage`),
the one definition the dashboard and the audit package share.

Resolution turns registry items (:class:`provenance.models.ContentItem`) into what a storefront page
needs: per product SKU, CMS block and CMS page the badges to show (or, under the audit switch's
``suppress`` mode, the content to hide) and schema.org JSON-LD carrying ``digitalSourceType``
(IPTC NewsCodes) for each synthetic image.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q

from disclosure.defaults import default_text
from disclosure.models import AuditSwitch, DisclosureKind, DisclosurePolicy, StorefrontSettings, SwitchMode
from provenance.models import ContentItem, Origin, Surface
from provenance.standards.media_marks import TRAINED_ALGORITHMIC_MEDIA
from sidecar.shared_cache import cache_get, cache_set

# IPTC terms for real media changed with AI: disclosed as "edited", the rest as "generated".
_EDITED_TERMS = ("compositeWithTrainedAlgorithmicMedia", "compositeSynthetic", "algorithmicallyEnhanced")
SURFACES = tuple(Surface.values)
_STATE_KEY = "disclosure:state:{}"
PAUSE_CACHE_KEY = "disclosure:generation-pause"
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


# Each process keeps the state it read for a moment (PROVENANT_DISCLOSURE_LOCAL_SECONDS, default 1 s),
# so a busy storefront costs one shared-cache read per page, not two; a change reaches every
# process within that moment.
_local_states: dict[str, tuple[float, StoreState]] = {}


def store_state(store_code: str) -> StoreState:
    """The store view's switch modes, CORS origins and policies; cached, reset by every change."""
    local_seconds = settings.DISCLOSURE_LOCAL_SECONDS
    now = time.monotonic()
    if local_seconds:
        held = _local_states.get(store_code)
        if held is not None and held[0] > now:
            return held[1]
    key = state_cache_key(store_code)
    state = cache_get(key)
    if state is None:
        state = store_state_load(store_code)
        cache_set(key, state, settings.DISCLOSURE_CACHE_SECONDS or 1)
    if local_seconds:
        if len(_local_states) > 1000:
            _local_states.clear()
        _local_states[store_code] = (now + local_seconds, state)
    return state


def store_state_forget(store_code: str = "") -> None:
    """Drop this process's copy of a store view's state (all, for ``""``)."""
    if store_code:
        _local_states.pop(store_code, None)
    else:
        _local_states.clear()


def store_state_load(store_code: str) -> StoreState:
    """The store view's state read from the database now (no cache), with a new token."""
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
    or with nothing to disclose are absent. Looked up in the store view's disclosure index
    (:func:`store_index`), so a page costs no query once the index is loaded.
    """
    index = store_index(state)
    result: dict = {"store": state.store_code, "modes": state.modes}
    for group, refs in (("products", products), ("blocks", blocks), ("pages", pages)):
        entries = index[group]
        result[group] = {ref: entries[ref] for ref in refs if ref in entries}
    return result


# The index of everything a store view discloses, per process and state token: the registry has no
# index on SKUs, and one pass over the disclosed items is far cheaper than a scan per page.
_local_indexes: dict[str, tuple[float, str, dict]] = {}


def store_index(state: StoreState) -> dict[str, dict[str, dict]]:
    """``{"products": {sku: entry}, "blocks": {ref: entry}, "pages": {ref: entry}}`` for the state."""
    now = time.monotonic()
    held = _local_indexes.get(state.store_code)
    if held is not None and held[1] == state.token and held[0] > now:
        return held[2]
    index: dict[str, dict[str, dict]] = {"products": {}, "blocks": {}, "pages": {}}
    for group, ref, entry in disclosures_for_store(state=state):
        index[group][ref] = entry
    if settings.DISCLOSURE_LOCAL_SECONDS:
        _local_indexes[state.store_code] = (
            now + (settings.DISCLOSURE_CACHE_SECONDS or 1),
            state.token,
            index,
        )
    return index


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


def synthetic_images(store_code: str) -> dict[str, str]:
    """``{"/a/b/file.jpg": digital source type URI}`` for every synthetic product image of the store
    view that is still in the catalog, whatever the audit switch shows: the Magento module keeps the
    IPTC ``DigitalSourceType`` XMP in the resized copies of these files (Art. 50(2) marking applies to
    every copy served, hidden or not). Sorted by path, so equal content gives equal bytes."""
    rows = (
        ContentItem.objects.filter(
            store_code=store_code,
            surface=Surface.PRODUCT_IMAGE,
            origin=Origin.SYNTHETIC,
            removed_at__isnull=True,
        )
        .exclude(file_path="")
        .values_list("file_path", "digital_source_type")
        .order_by("file_path", "id")
    )
    images: dict[str, str] = {}
    for path, source_type in rows:
        images.setdefault(path, source_type or TRAINED_ALGORITHMIC_MEDIA)
    return images


def synthetic_images_body(store_code: str) -> bytes:
    """The answer of ``GET /api/v1/disclosures/<store>/images`` as bytes (also published as
    ``images.json``): ``{"store": …, "images": {path: digital source type}}``, keys sorted."""
    document = {"store": store_code, "images": synthetic_images(store_code)}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def generation_pause() -> AuditSwitch | None:
    """The first switch that pauses generation, or ``None``."""
    return AuditSwitch.objects.filter(pause_generation=True).order_by("changed_at").first()


# --- What a shopper sees of one item, and badge coverage -----------------------------------------

SHOWN_BADGE = "badge"
SHOWN_HIDDEN = "content hidden (audit switch: suppress)"
_NOT_PUBLISHED = "not published"
# The registry columns item_shown reads (a values() row or an object with these attributes).
SHOWN_FIELDS = (
    "surface",
    "sku",
    "identifier",
    "magento_id",
    "origin",
    "digital_source_type",
    "is_enabled",
    "is_hidden",
    "removed_at",
)


@dataclass(frozen=True)
class ItemShown:
    """What a shopper sees of one registry item, as the public badge API resolves it."""

    shown: str
    kind: str
    policy: dict

    @property
    def published(self) -> bool:
        """Shoppers can be shown the item at all (present, enabled, not a hidden image)."""
        return not self.shown.startswith(_NOT_PUBLISHED)

    @property
    def disclosed(self) -> bool:
        """A shopper shown the item is told it is AI-generated: a badge, or the content is hidden."""
        return self.shown in (SHOWN_BADGE, SHOWN_HIDDEN)


def item_shown(item, state: StoreState) -> ItemShown:
    """What a shopper sees of ``item`` (a registry row as a dict, or a :class:`ContentItem`) in the
    store view of ``state``: the same rules as :func:`disclosures_for_store`, item by item."""
    get = item.get if isinstance(item, dict) else (lambda name: getattr(item, name))
    surface, origin = get("surface"), get("origin")
    kind = disclosure_kind(origin, get("digital_source_type") or "")
    policy = state.policies[(surface, kind)]
    if get("removed_at") is not None or not get("is_enabled"):
        return ItemShown(_NOT_PUBLISHED, kind, policy)
    if surface == Surface.PRODUCT_IMAGE and get("is_hidden"):
        return ItemShown(_NOT_PUBLISHED + " (hidden image)", kind, policy)
    if origin not in _origins(state):
        return ItemShown("no badge (suspected; store shows badges for synthetic only)", kind, {})
    if surface in (Surface.PRODUCT_IMAGE, Surface.RECOMMENDATION):
        if not get("sku"):
            return ItemShown("no badge (no SKU for the storefront to match)", kind, policy)
    elif not (get("identifier") or get("magento_id")):
        return ItemShown("no badge (no identifier for the storefront to match)", kind, policy)
    if state.modes.get(surface) == SwitchMode.SUPPRESS:
        return ItemShown(SHOWN_HIDDEN, kind, policy)
    return ItemShown(SHOWN_BADGE, kind, policy)


def item_badge(item: ContentItem) -> tuple[ItemShown, dict | None]:
    """What a shopper receives for ``item`` now: its :class:`ItemShown` and the badge the public API
    serves for it (``None`` when it serves none), from the store state as it is in the database now."""
    state = store_state_load(item.store_code)
    shown = item_shown(item, state)
    return shown, (_badge(item, state) if shown.disclosed else None)


@dataclass
class BadgeCoverage:
    """Badge coverage: of the synthetic items published to shoppers, how many the public API
    discloses. The one definition the dashboard and the audit package's disclosure register use."""

    published: int = 0
    disclosed: int = 0
    undisclosed_ids: list[int] = field(default_factory=list)

    def count(self, item_id: int, shown: ItemShown) -> None:
        if not shown.published:
            return
        self.published += 1
        if shown.disclosed:
            self.disclosed += 1
        else:
            self.undisclosed_ids.append(item_id)

    @property
    def percent(self) -> int:
        return round(100 * self.disclosed / self.published) if self.published else 100


# item_shown reads a product-side item's SKU, and a CMS item's identifier and Magento id, only for
# whether the storefront has a ref to put the badge on, and the source type only to pick the
# policy's wording (never whether a badge is shown): badge coverage counts the items per value of
# the other fields it reads, with and without a ref, in SQL.
_PRODUCT_SURFACES = (Surface.PRODUCT_IMAGE, Surface.RECOMMENDATION)
_CMS_SURFACES = tuple(surface for surface in Surface.values if surface not in _PRODUCT_SURFACES)
_NO_REF = {"product": Q(sku=""), "cms": Q(identifier="", magento_id=0)}
_GROUP_FIELDS = ("store_code", "surface", "origin", "is_enabled", "is_hidden")


def _coverage_groups(items):
    """``(fields, has_ref, no_ref condition, item count)`` per group, product-side items and CMS
    items apart (their refs differ), each counted from the ``content_item_coverage`` index alone."""
    for side, no_ref in _NO_REF.items():
        # Named surfaces, not an exclusion: an IN list is read from the index's surface ranges.
        surfaces = _PRODUCT_SURFACES if side == "product" else _CMS_SURFACES
        rows = items.filter(surface__in=surfaces)
        groups = rows.values(*_GROUP_FIELDS).annotate(n=Count("id"), without=Count("id", filter=no_ref))
        for group in groups.order_by():
            fields = {name: group[name] for name in _GROUP_FIELDS}
            if group["n"] > group["without"]:
                yield fields, True, no_ref, group["n"] - group["without"]
            if group["without"]:
                yield fields, False, no_ref, group["without"]


def badge_coverage(*, store_code: str = "", ids_limit: int | None = None) -> BadgeCoverage:
    """Badge coverage of every store view (or one) as the public badge API resolves it now.

    Decided by :func:`item_shown` once per group of items it cannot tell apart (same store view,
    surface, origin and flags, with or without a ref for the storefront to match), the groups
    counted by the database, not a row per item, so the dashboard stays fast on a registry of
    millions. ``undisclosed_ids`` lists the items shown without a badge in id order, the first
    ``ids_limit`` of them (all with ``None``).
    """
    items = ContentItem.objects.filter(origin=Origin.SYNTHETIC, removed_at__isnull=True, is_enabled=True)
    if store_code:
        items = items.filter(store_code=store_code)
    coverage = BadgeCoverage()
    states: dict[str, StoreState] = {}
    missing = Q(pk__in=[])
    for fields, has_ref, no_ref, n in _coverage_groups(items):
        code = fields["store_code"]
        if code not in states:
            states[code] = store_state_load(code)
        ref = {"sku": "x", "identifier": "x", "magento_id": 1} if has_ref else {}
        row = {"sku": "", "identifier": "", "magento_id": 0, **ref, **fields}
        shown = item_shown({**row, "removed_at": None, "digital_source_type": ""}, states[code])
        if not shown.published:
            continue
        coverage.published += n
        if shown.disclosed:
            coverage.disclosed += n
            continue
        missing |= Q(**fields) & (~no_ref if has_ref else no_ref)
    if coverage.published > coverage.disclosed:
        ids = items.filter(missing).order_by("id").values_list("id", flat=True)
        coverage.undisclosed_ids = list(ids if ids_limit is None else ids[:ids_limit])
    return coverage
