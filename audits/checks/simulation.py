"""Disclosure-coverage simulation: does every shopper actually see the AI disclosure?

EU AI Act Article 50 asks that people are told, clearly and at the latest at first exposure, that
content is AI-generated. This module opens the storefront pages of synthetic items in headless
Chromium, the way a shopper's browser would, and checks each badge the registry says must be there:

- **present**: a ``[data-provenant-badge]`` right after the image whose ``/a/b/file.jpg`` path tail
  matches the item (as the storefront script places it), inside the CMS block's
  ``[data-provenant-block]`` container, inside the recommendation block, or on the CMS page;
- **visible**: after scrolling it into view it has a size, is not ``display: none``,
  ``visibility: hidden`` or transparent, lies inside the viewport and is not covered;
- **accessible name**: the badge control's name as Chromium's accessibility tree computes it
  (W3C Accessible Name and Description Computation 1.2) is not empty;
- **explanation**: the control's ``aria-describedby`` names an element with text.

Pages come from Magento's ``url_rewrite`` (product and CMS page rewrites of the store view, no
redirects) joined with the store view's base URL (``web/secure/base_url``, else
``web/unsecure/base_url``, store view over website over default), unless
``PROVENANT_STOREFRONT_BASE_URL_<STORE>`` or ``--base-url`` gives one (and
``PROVENANT_SIMULATION_PRODUCT_PATH``, e.g. ``{sku}``, replaces url_rewrite's product paths).
The browser reaches only the storefront's origin and ``PROVENANT_SIMULATION_ALLOWED_ORIGINS``
(the sidecar's public API, a CDN); every other request is aborted. A page that does not load is a
failure with its reason, and the run goes on.

Playwright's sync API runs an event loop, so the browser lives in its own thread and hands plain
results to the caller's thread, which alone touches the database.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings
from django.core.cache import cache

from audits import events
from audits.checks.runs import check_run_finish
from audits.models import SimulationCheck, SimulationRun
from disclosure.selectors import disclosures_for_store, store_state_load
from magento_bridge.reader import MagentoError, MagentoReader
from magento_bridge.services import magento_reader
from provenance.models import ContentItem, Origin, Surface

logger = logging.getLogger(__name__)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
_IN_BATCH = 500
_LOCK_KEY = "audits:simulation:running"


class SimulationError(Exception):
    """The simulation cannot run at all (no Magento database, no browser, bad base URL)."""


@dataclass
class Expectation:
    """A badge that must be on a page."""

    surface: str
    ref: str
    file_path: str = ""
    link_type: str = ""
    content_item_id: int | None = None
    # Recommendations and CMS blocks are checked where the theme renders them; absent, no check.
    only_if_present: bool = False

    def as_js(self) -> dict:
        return {"surface": self.surface, "ref": self.ref, "file": self.file_path, "linkType": self.link_type}


@dataclass
class PageTarget:
    """One storefront page and the badges expected on it."""

    store_code: str
    kind: str  # "product" or "cms_page"
    ref: str  # SKU or page identifier
    url: str
    expectations: list[Expectation]
    blocks: dict[str, Expectation] = field(default_factory=dict)  # identifier -> expectation
    problem: str = ""  # why no URL is known (then every expectation fails with it)


@dataclass
class CheckOutcome:
    target: PageTarget
    expectation: Expectation
    passed: bool
    reason: str = ""
    accessible_name: str = ""
    screenshot: str = ""


# -- targets: registry x Magento -------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _store_codes(store_code: str | None) -> list[str]:
    if store_code:
        return [store_code]
    return sorted(
        set(
            ContentItem.objects.filter(origin=Origin.SYNTHETIC, removed_at__isnull=True)
            .values_list("store_code", flat=True)
            .distinct()
        )
    )


def _expected_badges(store_code: str) -> tuple[dict[str, list[Expectation]], dict[str, Expectation], dict]:
    """(per SKU the image/recommendation badges, per block identifier, per page identifier) that the
    public badge API shows for the store view now; suppressed items (audit switch) are not expected."""
    state = store_state_load(store_code)
    products: dict[str, list[Expectation]] = {}
    blocks: dict[str, Expectation] = {}
    pages: dict[str, Expectation] = {}
    for group, ref, entry in disclosures_for_store(state=state):
        shown = [b for b in entry["badges"] if not b.get("hidden")]
        if not shown:
            continue
        if group == "products":
            for badge in shown:
                if badge["surface"] == Surface.PRODUCT_IMAGE and badge.get("file"):
                    products.setdefault(ref, []).append(
                        Expectation(Surface.PRODUCT_IMAGE, ref, file_path=badge["file"])
                    )
                elif badge["surface"] == Surface.RECOMMENDATION:
                    products.setdefault(ref, []).append(
                        Expectation(
                            Surface.RECOMMENDATION,
                            ref,
                            link_type=badge.get("link_type", ""),
                            only_if_present=True,
                        )
                    )
        elif group == "blocks" and not ref.isdigit():
            blocks[ref] = Expectation(Surface.CMS_BLOCK, ref, only_if_present=True)
        elif group == "pages" and not ref.isdigit():
            pages[ref] = Expectation(Surface.CMS_PAGE, ref)
    # The registry rows behind the expectations, for links in the admin and product entity ids.
    items = ContentItem.objects.filter(
        store_code=store_code, removed_at__isnull=True, origin__in=(Origin.SYNTHETIC, Origin.SUSPECTED)
    )
    by_key: dict[tuple, tuple[int, int]] = {}
    for pk, surface, sku, identifier, file_path, link_type, magento_id in items.values_list(
        "pk", "surface", "sku", "identifier", "file_path", "link_type", "magento_id"
    ).iterator(chunk_size=2000):
        ref = identifier if surface in (Surface.CMS_BLOCK, Surface.CMS_PAGE) else sku
        by_key.setdefault(
            (surface, ref, file_path if surface == Surface.PRODUCT_IMAGE else link_type), (pk, magento_id)
        )
    entity_ids: dict[tuple[str, str], int] = {}
    for expectation in [*(e for es in products.values() for e in es), *blocks.values(), *pages.values()]:
        extra = (
            expectation.file_path if expectation.surface == Surface.PRODUCT_IMAGE else expectation.link_type
        )
        if expectation.surface in (Surface.CMS_BLOCK, Surface.CMS_PAGE):
            extra = ""
        found = by_key.get((expectation.surface, expectation.ref, extra))
        if found:
            expectation.content_item_id = found[0]
            kind = "page" if expectation.surface == Surface.CMS_PAGE else "product"
            entity_ids.setdefault((kind, expectation.ref), found[1])
    return products, blocks, {"pages": pages, "entity_ids": entity_ids}


def _magento_urls(
    reader, store_code: str, product_ids: list[int], page_ids: list[int]
) -> tuple[str, dict[int, str], dict[int, str]]:
    """(base URL, product entity_id -> request path, page id -> request path) of the store view."""
    rows = reader.read(f"SELECT store_id, website_id FROM {reader.t('store')} WHERE code = %s", [store_code])
    if not rows:
        raise SimulationError(f"store view {store_code!r} is not in Magento's store table")
    store_id, website_id = int(rows[0][0]), int(rows[0][1])
    config = reader.read(
        f"SELECT scope, scope_id, path, value FROM {reader.t('core_config_data')} "
        "WHERE path IN ('web/secure/base_url', 'web/unsecure/base_url')"
    )
    values = {(str(s), int(i), str(p)): str(v or "") for s, i, p, v in config}

    def scoped(path: str) -> str:
        for scope, scope_id in (("stores", store_id), ("websites", website_id), ("default", 0)):
            if values.get((scope, scope_id, path)):
                return values[(scope, scope_id, path)]
        return ""

    unsecure = scoped("web/unsecure/base_url")
    base = scoped("web/secure/base_url") or unsecure
    base = base.replace("{{unsecure_base_url}}", unsecure).replace("{{secure_base_url}}", unsecure)
    paths: dict[str, dict[int, str]] = {"product": {}, "cms-page": {}}
    for entity_type, ids in (("product", product_ids), ("cms-page", page_ids)):
        for start in range(0, len(ids), _IN_BATCH):
            chunk = ids[start : start + _IN_BATCH]
            marks = ", ".join(["%s"] * len(chunk))
            rows = reader.read(
                f"SELECT entity_id, request_path, metadata FROM {reader.t('url_rewrite')} "
                f"WHERE entity_type = %s AND store_id = %s AND redirect_type = 0 AND entity_id IN ({marks}) "
                "ORDER BY url_rewrite_id",
                [entity_type, store_id, *chunk],
            )
            best: dict[int, tuple[int, str]] = {}
            for entity_id, request_path, metadata in rows:
                # The canonical URL has no category in its metadata; else the shortest path.
                rank = (0 if not metadata else 1, len(str(request_path or "")))
                held = best.get(int(entity_id))
                if request_path and (held is None or rank < held[0]):
                    best[int(entity_id)] = (rank, str(request_path))
            paths[entity_type].update({k: v[1] for k, v in best.items()})
    return base, paths["product"], paths["cms-page"]


def simulation_targets(
    *, store_code: str | None = None, limit: int | None = None, base_url: str = "", reader=None
) -> list[PageTarget]:
    """The storefront pages to open, each with its expected badges; at most ``limit`` pages."""
    if base_url and urlsplit(base_url).scheme not in ("http", "https"):
        raise SimulationError(f"--base-url {base_url!r} is not an http(s) URL")
    limit = limit or settings.SIMULATION_LIMIT
    own_reader = reader is None
    if reader is None:
        if not settings.MAGENTO_DATABASE_URL:
            raise SimulationError(
                "MAGENTO_DATABASE_URL is not set: storefront URLs come from Magento's url_rewrite table"
            )
        reader = magento_reader()
        if not isinstance(reader, MagentoReader):  # pragma: no cover - REST sources have no url_rewrite
            raise SimulationError("the simulation reads url_rewrite and needs the Magento database")
    targets: list[PageTarget] = []
    try:
        for code in _store_codes(store_code):
            if len(targets) >= limit:
                break
            products, blocks, extra = _expected_badges(code)
            pages, entity_ids = extra["pages"], extra["entity_ids"]
            # CMS pages first (they are few), then products, up to the limit: only those are looked up.
            room = limit - len(targets)
            page_refs = sorted(pages)[:room]
            skus = sorted(products)[: room - len(page_refs)]
            product_ids = sorted({entity_ids[("product", s)] for s in skus if ("product", s) in entity_ids})
            page_ids = sorted({entity_ids[("page", r)] for r in page_refs if ("page", r) in entity_ids})
            try:
                magento_base, product_paths, page_paths = _magento_urls(reader, code, product_ids, page_ids)
            except MagentoError as exc:
                raise SimulationError(f"reading storefront URLs from Magento failed: {exc}") from exc
            base = base_url or settings.STOREFRONT_BASE_URLS.get(code.lower(), "") or magento_base
            if not base:
                raise SimulationError(
                    f"no base URL for store view {code!r}: set web/secure/base_url in Magento, "
                    f"PROVENANT_STOREFRONT_BASE_URL_{code.upper()} or --base-url"
                )
            base = base if base.endswith("/") else base + "/"
            for ref in page_refs:
                page_id = entity_ids.get(("page", ref))
                path = page_paths.get(page_id) if page_id is not None else None
                targets.append(
                    PageTarget(code, "cms_page", ref, urljoin(base, path or ref), [pages[ref]], blocks)
                )
            template = settings.SIMULATION_PRODUCT_PATH
            for sku in skus:
                entity_id = entity_ids.get(("product", sku))
                path = product_paths.get(entity_id) if entity_id is not None else None
                if template:
                    path = template.replace("{sku}", quote(sku, safe="")).replace(
                        "{entity_id}", str(entity_id)
                    )
                target = PageTarget(
                    code, "product", sku, urljoin(base, path) if path else "", products[sku], blocks
                )
                if not path:
                    target.problem = "no storefront URL: the product has no url_rewrite in this store view"
                targets.append(target)
    finally:
        if own_reader:
            reader.close()
    return targets[:limit]


# -- the browser --------------------------------------------------------------------------------

# Marks the badge candidates of one expectation (data-provenant-sim) and their controls; returns
# {"skip": true}, {"error": reason} or {"ids": [...]}. Mirrors the storefront script's placement.
_LOCATE_JS = r"""
(exp) => {
  const INTERACTIVE = 'a[href], button, [role="button"], [role="link"], [tabindex]';
  const RECS = {related: '.block.related, [data-provenant-recommendation="related"]',
    up_sell: '.block.upsell, [data-provenant-recommendation="up_sell"]',
    cross_sell: '.block.crosssell, [data-provenant-recommendation="cross_sell"]'};
  function tail(src) {
    if (!src) return '';
    let path;
    try { path = new URL(src, document.baseURI).pathname; } catch (e) { return ''; }
    const parts = path.split('/');
    if (parts.length < 4) return '';
    try { return '/' + parts.slice(-3).map(decodeURIComponent).join('/'); }
    catch (e) { return '/' + parts.slice(-3).join('/'); }
  }
  window.__provenantSim = (window.__provenantSim || 0);
  const badges = [];
  if (exp.surface === 'product_image') {
    const images = Array.from(document.querySelectorAll('img')).filter(
      (img) => tail(img.getAttribute('src')) === exp.file || tail(img.getAttribute('data-src')) === exp.file);
    if (!images.length) return {error: 'the image is not on the page'};
    for (const img of images) {
      const holder = img.parentNode && img.parentNode.closest ? img.parentNode.closest(INTERACTIVE) : null;
      const after = holder || img;
      const next = after.nextElementSibling;
      if (next && next.matches('[data-provenant-badge]')) badges.push(next);
    }
    if (!badges.length) return {error: 'no badge on the image'};
  } else {
    let containers = [];
    if (exp.surface === 'recommendation') {
      containers = RECS[exp.linkType] ? Array.from(document.querySelectorAll(RECS[exp.linkType])) : [];
    } else if (exp.surface === 'cms_block') {
      containers = Array.from(document.querySelectorAll('[data-provenant-block]')).filter(
        (node) => node.getAttribute('data-provenant-block') === exp.ref);
    } else {
      containers = [document.body];
    }
    if (!containers.length) return {skip: true};
    const wanted = exp.surface;
    for (const container of containers) {
      for (const badge of container.querySelectorAll('[data-provenant-badge]')) {
        if (badge.getAttribute('data-provenant-badge') === wanted) badges.push(badge);
      }
    }
    if (!badges.length) {
      return {error: exp.surface === 'cms_page' ? 'no page badge' : 'no badge in the ' +
        (exp.surface === 'cms_block' ? 'CMS block' : 'recommendation block')};
    }
  }
  const ids = [];
  for (const badge of badges) {
    window.__provenantSim += 1;
    const id = String(window.__provenantSim);
    badge.setAttribute('data-provenant-sim', id);
    const control = badge.matches(INTERACTIVE) ? badge : (badge.querySelector(INTERACTIVE) || badge);
    control.setAttribute('data-provenant-sim-control', id);
    ids.push(id);
  }
  return {ids: ids};
}
"""

# Scrolls the badge into view, waits two frames, and says why it is not visible ('' when it is).
_VISIBLE_JS = r"""
(badge) => new Promise((resolve) => {
  badge.scrollIntoView({block: 'center', inline: 'center'});
  requestAnimationFrame(() => requestAnimationFrame(() => {
    for (let node = badge; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.display === 'none') return resolve('hidden (display: none)');
      if (parseFloat(style.opacity) === 0) return resolve('transparent (opacity: 0)');
    }
    const style = getComputedStyle(badge);
    if (style.visibility === 'hidden' || style.visibility === 'collapse') {
      return resolve('hidden (visibility)');
    }
    const box = badge.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) return resolve('the badge has no size');
    const width = window.innerWidth, height = window.innerHeight;
    if (box.right <= 0 || box.bottom <= 0 || box.left >= width || box.top >= height) {
      return resolve('outside the viewport after scrolling into view');
    }
    const x = Math.min(Math.max((box.left + box.right) / 2, 0), width - 1);
    const y = Math.min(Math.max((box.top + box.bottom) / 2, 0), height - 1);
    const top = document.elementFromPoint(x, y);
    if (top && !badge.contains(top) && !top.contains(badge)) {
      return resolve('covered by another element (' + top.tagName.toLowerCase() + ')');
    }
    resolve('');
  }));
})
"""

# The explanation: the text of the elements the control's aria-describedby names.
_EXPLANATION_JS = r"""
(control) => {
  const ids = (control.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  if (!ids.length) return {error: 'no explanation (the badge has no aria-describedby)'};
  let text = '';
  for (const id of ids) {
    const target = document.getElementById(id);
    if (!target) return {error: 'aria-describedby names a missing element'};
    text += ' ' + (target.textContent || '');
  }
  text = text.trim();
  return text ? {text: text} : {error: 'the explanation is empty'};
}
"""

# Fallback when the accessibility tree cannot be read: the common cases of accname 1.2.
_NAME_JS = r"""
(control) => {
  function text(node) {
    if (node.nodeType === 3) return node.textContent;
    if (node.nodeType !== 1 || node.getAttribute('aria-hidden') === 'true') return '';
    return Array.from(node.childNodes).map(text).join('');
  }
  const labelledby = (control.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
  if (labelledby.length) {
    return labelledby.map((id) => { const n = document.getElementById(id); return n ? text(n) : ''; })
      .join(' ').trim();
  }
  return (control.getAttribute('aria-label') || '').trim() || text(control).trim() ||
    (control.getAttribute('title') || '').trim();
}
"""


@dataclass
class _Options:
    executable: str
    page_timeout_ms: float
    badge_wait_ms: float
    allowed_origins: set[str]
    out_dir: Path
    pass_screenshots: int


class _Browser:
    """Runs in the browser thread: opens each page and yields an outcome per expectation."""

    def __init__(self, options: _Options) -> None:
        self.options = options
        self.pass_shots = 0
        self.shot_counter = 0

    def run(self, targets: list[PageTarget], emit: Callable[[object], None]) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=self.options.executable, args=CHROMIUM_FLAGS)
            try:
                context = browser.new_context(viewport=VIEWPORT, service_workers="block")
                context.route("**/*", self._route)
                for index, target in enumerate(targets):
                    for outcome in self._check_page(context, target):
                        emit(outcome)
                    emit(("page", index + 1, len(targets), not target.problem))
                context.close()
            finally:
                browser.close()

    def _route(self, route) -> None:
        if _origin(route.request.url) in self.options.allowed_origins:
            route.continue_()
        else:
            route.abort("blockedbyclient")

    def _screenshot(self, page, target: PageTarget, expectation: Expectation, passed: bool) -> str:
        if passed:
            if self.pass_shots >= self.options.pass_screenshots:
                return ""
            self.pass_shots += 1
        self.shot_counter += 1
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{target.store_code}-{expectation.ref}")[:60].strip("-")
        name = f"{self.shot_counter:05d}-{'pass' if passed else 'fail'}-{slug}.png"
        try:
            self.options.out_dir.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(self.options.out_dir / name), timeout=self.options.page_timeout_ms)
        except Exception as exc:  # noqa: BLE001 - a screenshot is evidence, never a reason to stop
            logger.warning("simulation screenshot failed: %s", exc)
            return ""
        return f"{self.options.out_dir.name}/{name}"

    def _check_page(self, context, target: PageTarget) -> Iterator[CheckOutcome]:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        if target.problem:
            for expectation in target.expectations:
                if not expectation.only_if_present:
                    yield CheckOutcome(target, expectation, False, target.problem)
            return
        page = context.new_page()
        try:
            failure = ""
            try:
                response = page.goto(target.url, wait_until="load", timeout=self.options.page_timeout_ms)
                if response is None:
                    failure = "the page did not load (no response)"
                elif response.status >= 400:
                    failure = f"the page did not load (HTTP {response.status})"
            except PlaywrightTimeout:
                failure = f"the page did not load within {self.options.page_timeout_ms / 1000:g} s"
            except PlaywrightError as exc:
                message = str(exc).splitlines()[0].removeprefix("Page.goto: ")
                failure = f"the page did not load: {message[:300]}"
            if failure:
                shot = (
                    self._screenshot(page, target, target.expectations[0], False)
                    if target.expectations
                    else ""
                )
                for expectation in target.expectations:
                    if not expectation.only_if_present:
                        yield CheckOutcome(target, expectation, False, failure, screenshot=shot)
                return
            ready = True
            try:
                page.wait_for_selector(
                    "html[data-provenant-ready]", state="attached", timeout=self.options.badge_wait_ms or 1
                )
            except PlaywrightTimeout:
                ready = False
            cdp = None
            try:
                cdp = context.new_cdp_session(page)
                cdp.send("Accessibility.enable")
            except PlaywrightError:
                cdp = None
            expectations = list(target.expectations)
            present = page.eval_on_selector_all(
                "[data-provenant-block]", "nodes => nodes.map(n => n.getAttribute('data-provenant-block'))"
            )
            seen: set[str] = set()
            for ref in present:
                if ref in target.blocks and ref not in seen:
                    seen.add(ref)
                    expectations.append(target.blocks[ref])
            for expectation in expectations:
                try:
                    outcome = self._check_badge(page, cdp, target, expectation, ready)
                except PlaywrightTimeout:
                    outcome = CheckOutcome(target, expectation, False, "the check timed out")
                except PlaywrightError as exc:
                    outcome = CheckOutcome(target, expectation, False, f"browser error: {str(exc)[:300]}")
                if outcome is None:
                    continue
                outcome.screenshot = self._screenshot(page, target, expectation, outcome.passed)
                yield outcome
        finally:
            page.close()

    def _check_badge(self, page, cdp, target, expectation: Expectation, ready: bool) -> CheckOutcome | None:
        located = page.evaluate(_LOCATE_JS, expectation.as_js())
        if located.get("skip"):
            return None
        if located.get("error"):
            reason = located["error"]
            if not ready:
                reason += " (the disclosure script did not finish)"
            if expectation.surface == Surface.PRODUCT_IMAGE and located["error"].startswith("the image"):
                reason = f"the image {expectation.file_path} is not on the page"
            return CheckOutcome(target, expectation, False, reason)
        first_failure = ""
        for sim_id in located["ids"]:
            badge = page.locator(f'[data-provenant-sim="{sim_id}"]')
            control = page.locator(f'[data-provenant-sim-control="{sim_id}"]')
            problem = badge.evaluate(_VISIBLE_JS, timeout=self.options.page_timeout_ms)
            name = ""
            if not problem:
                name, ignored = self._accessible_name(page, cdp, sim_id, control)
                if ignored:
                    problem = "hidden from assistive technology"
                elif not name:
                    problem = "no accessible name"
            if not problem:
                explanation = control.evaluate(_EXPLANATION_JS)
                problem = explanation.get("error", "")
            if not problem:
                return CheckOutcome(target, expectation, True, "", accessible_name=name[:255])
            first_failure = first_failure or problem
        return CheckOutcome(target, expectation, False, first_failure)

    def _accessible_name(self, page, cdp, sim_id: str, control) -> tuple[str, bool]:
        """The control's accessible name from Chromium's accessibility tree (and whether it is ignored)."""
        if cdp is not None:
            try:
                root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
                node = cdp.send(
                    "DOM.querySelector",
                    {"nodeId": root, "selector": f'[data-provenant-sim-control="{sim_id}"]'},
                )["nodeId"]
                nodes = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False})
                ax = nodes["nodes"][0]
                return str((ax.get("name") or {}).get("value") or "").strip(), bool(ax.get("ignored"))
            except Exception as exc:  # noqa: BLE001 - fall back to the DOM computation
                logger.debug("accessibility tree unavailable: %s", exc)
        return str(control.evaluate(_NAME_JS) or ""), False


def _browse(targets: list[PageTarget], options: _Options) -> Iterator[object]:
    """Outcomes (and ("page", done, total) ticks) from the browser thread, in order."""
    channel: queue.Queue = queue.Queue(maxsize=1000)
    done = object()

    def work() -> None:
        try:
            _Browser(options).run(targets, channel.put)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller's thread
            channel.put(exc)
        finally:
            channel.put(done)

    thread = threading.Thread(target=work, name="provenant-simulation", daemon=True)
    thread.start()
    while True:
        item = channel.get()
        if item is done:
            break
        yield item
    thread.join()


# -- the service ----------------------------------------------------------------------------------


def _options(run: SimulationRun, targets: list[PageTarget]) -> _Options:
    executable = settings.SIMULATION_CHROMIUM
    if not Path(executable).exists():
        raise SimulationError(f"Chromium not found at {executable} (PROVENANT_SIMULATION_CHROMIUM)")
    allowed = {_origin(t.url) for t in targets if t.url}
    allowed |= {_origin(o) for o in settings.SIMULATION_ALLOWED_ORIGINS}
    return _Options(
        executable=executable,
        page_timeout_ms=settings.SIMULATION_PAGE_TIMEOUT * 1000,
        badge_wait_ms=settings.SIMULATION_BADGE_WAIT * 1000,
        allowed_origins=allowed,
        out_dir=Path(settings.SIMULATION_DIR) / f"run-{run.pk}",
        pass_screenshots=settings.SIMULATION_PASS_SCREENSHOTS,
    )


def simulation_run(
    *,
    store_code: str | None = None,
    limit: int | None = None,
    base_url: str = "",
    actor=None,
    triggered_by: str = "command",
    progress: Callable[[int, int], None] | None = None,
) -> SimulationRun:
    """Run the simulation now and return the finished run (``failed`` when it could not run).

    Failing badges do not fail the run: they are its result.
    """
    actor_name = actor if isinstance(actor, str) else getattr(actor, "username", "") if actor else ""
    run = SimulationRun.objects.create(
        store_code=store_code or "",
        triggered_by=triggered_by,
        actor=actor_name or "",
        options={
            "limit": limit or settings.SIMULATION_LIMIT,
            "base_url": base_url,
            "page_timeout_s": settings.SIMULATION_PAGE_TIMEOUT,
            "badge_wait_s": settings.SIMULATION_BADGE_WAIT,
        },
    )
    started = time.monotonic()
    pending: list[SimulationCheck] = []

    def flush() -> None:
        SimulationCheck.objects.bulk_create(pending)
        pending.clear()

    # One simulation at a time (a scheduled and an admin-started run would only slow each other down);
    # the lock expires with Celery's task time limit should a worker die holding it.
    locked = cache.add(_LOCK_KEY, run.pk, timeout=settings.CELERY_TASK_TIME_LIMIT)
    try:
        if not locked:
            raise SimulationError(f"another simulation is running (#{cache.get(_LOCK_KEY)})")
        targets = simulation_targets(store_code=store_code, limit=limit, base_url=base_url)
        run.options["origins"] = sorted({_origin(t.url) for t in targets if t.url})
        options = _options(run, targets)
        for item in _browse(targets, options):
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, tuple):
                run.pages += int(item[3])
                if progress:
                    progress(item[1], item[2])
                continue
            outcome: CheckOutcome = item
            run.checks += 1
            run.passed += int(outcome.passed)
            run.failed += int(not outcome.passed)
            pending.append(
                SimulationCheck(
                    run=run,
                    store_code=outcome.target.store_code,
                    surface=outcome.expectation.surface,
                    ref=outcome.expectation.ref[:255],
                    file_path=outcome.expectation.file_path[:255],
                    content_item_id=outcome.expectation.content_item_id,
                    url=outcome.target.url[:2048],
                    passed=outcome.passed,
                    reason=outcome.reason[:500],
                    accessible_name=outcome.accessible_name[:255],
                    screenshot=outcome.screenshot,
                )
            )
            if len(pending) >= 200:
                flush()
        flush()
        run.status = SimulationRun.Status.SUCCEEDED
    except Exception as exc:  # noqa: BLE001 - a run that cannot go on is recorded, not lost
        logger.exception("disclosure-coverage simulation #%s failed", run.pk)
        flush()
        run.fail(exc)
    finally:
        if locked:
            cache.delete(_LOCK_KEY)
    check_run_finish(
        run,
        fields=("pages", "checks", "passed", "failed", "options"),
        event=lambda: events.simulation_ended(
            actor=actor, run=run, triggered_by=triggered_by, seconds=round(time.monotonic() - started, 3)
        ),
    )
    return run


def simulation_latest(*, store_code: str | None = None) -> SimulationRun | None:
    """The newest finished run (of the store view, when given)."""
    runs = SimulationRun.objects.exclude(status=SimulationRun.Status.RUNNING)
    if store_code is not None:
        runs = runs.filter(store_code=store_code)
    return runs.order_by("-started_at", "-id").first()
