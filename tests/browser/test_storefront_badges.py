"""The module's storefront script on Luma-like (RequireJS) and Hyva-like (plain script) pages."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest
from django.core.cache import cache

from disclosure.services import audit_switch_set, policy_version_create, storefront_settings_set
from provenance.models import ContentItem
from tests.browser.storefront_server import Storefront

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("storefront_assets"),
]

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
FLAVOURS = ["luma", "hyva"]
SCREENSHOTS = os.environ.get("PROVENANT_SCREENSHOT_DIR", "")


@pytest.fixture(scope="module")
def storefront():
    with Storefront() as server:
        yield server


@pytest.fixture
def registry(storefront):
    cache.clear()
    common = {"store_code": "default", "sku": "MED-1", "magento_id": 1}
    ContentItem.objects.create(
        **common,
        surface="product_image",
        part_key="11",
        file_path="/a/i/ai-pen.jpg",
        position=1,
        origin="synthetic",
        digital_source_type=TRAINED,
        label="Insulin pen needles, box",
    )
    ContentItem.objects.create(
        **common,
        surface="product_image",
        part_key="12",
        file_path="/p/h/photo.jpg",
        position=2,
        origin="human",
    )
    ContentItem.objects.create(
        **common,
        surface="product_image",
        part_key="13",
        file_path="/p/h/photo_1.jpg",
        position=3,
        origin="unknown",
    )
    ContentItem.objects.create(
        **common, surface="recommendation", part_key="up_sell", link_type="up_sell", origin="synthetic"
    )
    ContentItem.objects.create(
        store_code="default",
        surface="cms_block",
        magento_id=12,
        identifier="insulin-storage",
        origin="synthetic",
    )
    ContentItem.objects.create(
        store_code="default",
        surface="cms_page",
        magento_id=7,
        identifier="diabetes-guide",
        origin="synthetic",
    )
    storefront_settings_set(store_code="default", allowed_origins=[storefront.url])
    yield
    cache.clear()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def open_product(page, storefront, flavour, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    page.goto(f"{storefront.url}/{flavour}/product?{query}")


def wait_ready(page):
    page.wait_for_selector("html[data-provenant-ready]", timeout=10_000)
    page.wait_for_timeout(150)  # the gallery's mutation pass


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_ai_image_gets_a_badge_and_the_photos_do_not(page, storefront, live_server, registry, flavour):
    open_product(page, storefront, flavour, apiBase=live_server.url)
    wait_ready(page)
    # Each badge follows its image, or the thumbnail button holding it (no button inside a button).
    badged = page.eval_on_selector_all(
        "[data-provenant-badge='product_image']",
        "bs => bs.map(b => { const p = b.previousElementSibling;"
        " return (p.tagName === 'IMG' ? p : p.querySelector('img')).src; })",
    )
    assert len(badged) == 2  # the main image and its thumbnail, at different cache sizes
    assert all(src.endswith("/a/i/ai-pen.jpg") for src in badged)
    assert page.locator("button button").count() == 0
    assert page.locator("[data-provenant-badge='cms_block']").count() == 1
    assert page.locator(".upsell [data-provenant-badge='recommendation']").count() == 1
    jsonld = page.eval_on_selector_all(
        "script[type='application/ld+json'][data-provenant-jsonld]",
        "s => s.map(x => JSON.parse(x.textContent))",
    )
    assert jsonld[0]["digitalSourceType"] == TRAINED
    assert jsonld[0]["contentUrl"].endswith("/a/i/ai-pen.jpg")
    assert page.errors == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_explanation_opens_on_hover_and_on_keyboard_focus(
    page, storefront, live_server, registry, flavour
):
    open_product(page, storefront, flavour, apiBase=live_server.url)
    wait_ready(page)
    badge = page.locator(".gallery-main [data-provenant-badge]")
    button = badge.locator("button")
    tip = badge.locator("[role=tooltip]")
    assert tip.is_hidden()
    button.hover()
    assert tip.is_visible()
    assert "artificial intelligence" in tip.inner_text()
    page.mouse.move(1000, 780)
    assert tip.is_hidden()

    button.focus()
    assert tip.is_visible()
    assert button.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    assert tip.is_hidden()
    if SCREENSHOTS:
        button.blur()
        button.focus()
        assert tip.is_visible()
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(Path(SCREENSHOTS) / f"badge-{flavour}.png"),
            clip={"x": 0, "y": 0, "width": 1000, "height": 620},
        )


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_badge_has_an_accessible_name_and_description(page, storefront, live_server, registry, flavour):
    open_product(page, storefront, flavour, apiBase=live_server.url)
    wait_ready(page)
    button = page.locator(".gallery-main [data-provenant-badge] button")
    described = page.locator("#" + button.get_attribute("aria-describedby"))
    assert described.get_attribute("role") == "tooltip"
    from playwright.sync_api import expect

    expect(button).to_have_accessible_name("AI-generated")
    expect(button).to_have_accessible_description(re.compile("made with artificial intelligence"))
    assert page.get_by_role("button", name="AI-generated").count() >= 1


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_hostile_labels_and_explanations_are_shown_as_text(page, storefront, live_server, registry, flavour):
    policy_version_create(
        store_code="default",
        surface="product_image",
        kind="generated",
        locale="en_US",
        label='<img src=x onerror="alert(1)">',
        explanation="<script>alert(2)</script><b>bold</b>",
        learn_more_url="https://example.com/ai?x=<script>",
    )
    open_product(page, storefront, flavour, apiBase=live_server.url)
    wait_ready(page)
    badge = page.locator(".gallery-main [data-provenant-badge]")
    assert badge.locator(".provenant-badge__label").inner_text() == '<img src=x onerror="alert(1)">'
    assert badge.locator("img, script, b").count() == 0
    badge.locator("button").hover()
    assert "<script>alert(2)</script>" in badge.locator("[role=tooltip]").inner_text()
    assert page.dialogs == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_suppress_hides_synthetic_content_and_the_gallery_keeps_working(
    page, storefront, live_server, registry, flavour
):
    for surface in ("product_image", "cms_block", "recommendation"):
        audit_switch_set(store_code="default", surface=surface, mode="suppress")
    open_product(page, storefront, flavour, apiBase=live_server.url)
    wait_ready(page)
    main = page.locator("#main-image")
    assert main.get_attribute("src").endswith("/p/h/photo.jpg"), "the first real image is promoted"
    assert page.locator("[data-provenant-badge]").count() == 0
    visible_thumbs = page.eval_on_selector_all(
        ".gallery-thumbs img", "imgs => imgs.filter(i => i.offsetParent !== null).map(i => i.src)"
    )
    assert len(visible_thumbs) == 2 and not any("ai-pen" in src for src in visible_thumbs)
    assert page.locator("[data-provenant-block]").is_hidden()
    assert page.locator(".block.upsell").is_hidden()
    page.locator(".thumb:visible").nth(1).click()
    page.wait_for_timeout(100)
    assert main.get_attribute("src").endswith("/p/h/photo_1.jpg")
    assert page.eval_on_selector("#main-image", "i => i.complete && i.naturalWidth > 0")
    assert page.errors == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("sidecar", ["down", "slow"])
def test_a_sidecar_that_is_down_or_slow_leaves_the_page_unchanged(
    page, storefront, registry, flavour, sidecar
):
    api = f"http://127.0.0.1:{_closed_port()}" if sidecar == "down" else f"{storefront.url}/slow"
    open_product(page, storefront, flavour, apiBase=api, timeout=500)
    page.wait_for_load_state("load")
    before = page.inner_html("main")
    page.wait_for_timeout(1200)
    assert page.inner_html("main") == before
    assert page.locator("[data-provenant-badge]").count() == 0
    assert page.eval_on_selector("#main-image", "i => i.complete && i.naturalWidth > 0")
    assert page.errors == []


def test_another_origin_gets_no_badges_through_cors(page, storefront, live_server, registry):
    storefront_settings_set(store_code="default", allowed_origins=["https://shop.example.com"])
    open_product(page, storefront, "hyva", apiBase=live_server.url, timeout=2000)
    page.wait_for_timeout(1500)
    assert page.locator("[data-provenant-badge]").count() == 0


def test_nothing_runs_on_cart_and_checkout_pages(page, storefront, live_server, registry):
    page.goto(f"{storefront.url}/checkout/cart?apiBase={live_server.url}")
    page.wait_for_timeout(1000)
    assert page.locator("[data-provenant-badge]").count() == 0


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_page_with_badges_has_no_serious_accessibility_violations(
    page, storefront, live_server, registry, flavour
):
    open_product(page, storefront, flavour, apiBase=live_server.url)
    wait_ready(page)
    page.locator(".gallery-main [data-provenant-badge] button").focus()
    page.add_script_tag(url=f"{storefront.url}/lib/axe.min.js")
    results = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', "
        "values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    bad = [
        (v["id"], v["impact"], [n["html"][:120] for n in v["nodes"]])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == []
    assert results["passes"], "axe ran its checks"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_with_manifests_the_page_reads_the_pointer_and_one_shard(
    page, storefront, registry, tmp_path, flavour
):
    from disclosure.manifests import manifest_publish
    from tests.browser.storefront_server import StorefrontHandler

    manifest_publish(store_code="default", directory=tmp_path)
    StorefrontHandler.manifest_dir = tmp_path
    StorefrontHandler.requested = []
    try:
        open_product(page, storefront, flavour, manifestBase=f"{storefront.url}/manifests")
        wait_ready(page)
    finally:
        StorefrontHandler.manifest_dir = None
    assert page.locator(".gallery-main [data-provenant-badge='product_image']").count() == 1
    assert page.locator("[data-provenant-badge='cms_block']").count() == 1
    pointer = [p for p in StorefrontHandler.requested if p.endswith("/current.json")]
    shards = [p for p in StorefrontHandler.requested if not p.endswith("/current.json")]
    assert len(pointer) == 1
    assert 1 <= len(shards) <= 2  # the product's shard, and the CMS block's when it hashes elsewhere


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_tap_opens_the_explanation_and_a_second_tap_closes_it(
    browser, storefront, live_server, registry, flavour
):
    context = browser.new_context(has_touch=True, viewport={"width": 420, "height": 800})
    page = context.new_page()
    open_product(page, storefront, flavour, apiBase=live_server.url)
    wait_ready(page)
    badge = page.locator(".gallery-main [data-provenant-badge]")
    main_src = page.locator("#main-image").get_attribute("src")
    badge.locator("button").tap()
    assert badge.locator("[role=tooltip]").is_visible()
    badge.locator("button").tap()
    assert badge.locator("[role=tooltip]").is_hidden()
    assert page.locator("#main-image").get_attribute("src") == main_src
    context.close()


def test_a_cms_page_gets_its_badge_at_the_top_of_its_content_even_when_suppressed(
    page, storefront, live_server, registry
):
    audit_switch_set(store_code="default", surface="cms_page", mode="suppress")
    page.goto(f"{storefront.url}/luma/page?apiBase={live_server.url}")
    wait_ready(page)
    badge = page.locator(".column.main > [data-provenant-badge='cms_page']")
    assert badge.count() == 1
    assert page.eval_on_selector(
        ".column.main", "m => m.firstElementChild.hasAttribute('data-provenant-badge')"
    )
    assert badge.locator("button").inner_text().strip().endswith("AI-assisted page")
    assert page.locator(".column.main").is_visible()


VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_badge_shows_its_label_as_text_even_on_thumbnails(
    browser, storefront, live_server, registry, flavour, viewport, tmp_path
):
    context = browser.new_context(has_touch=viewport == "phone", viewport=VIEWPORTS[viewport])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_product(page, storefront, flavour, apiBase=live_server.url)
    wait_ready(page)
    # For every badge: its label's box, whether the text fits it, and the image it labels.
    boxes = page.eval_on_selector_all(
        "[data-provenant-badge='product_image']",
        """bs => bs.map(b => {
            const label = b.querySelector('.provenant-badge__label');
            const r = label.getBoundingClientRect();
            const p = b.previousElementSibling;
            const img = (p.tagName === 'IMG' ? p : p.querySelector('img')).getBoundingClientRect();
            const style = getComputedStyle(label);
            return {text: label.textContent, width: r.width, height: r.height,
                    left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                    imgLeft: img.left, imgRight: img.right, imgTop: img.top, imgBottom: img.bottom,
                    imgWidth: img.width, clipped: label.scrollWidth > label.clientWidth + 1,
                    hidden: style.visibility !== 'visible' || style.clip !== 'auto' && style.clip !== '',
                    fontSize: parseFloat(style.fontSize),
                    compact: b.classList.contains('provenant-badge--compact')};
        })""",
    )
    assert len(boxes) == 2
    assert [b["compact"] for b in boxes] == [False, True], "the main image and its 80 px thumbnail"
    for box in boxes:
        assert box["text"] == "AI-generated"
        assert box["width"] > 20 and box["height"] >= 8 and not box["hidden"] and not box["clipped"], box
        assert box["fontSize"] >= 10
        # The label sits on the image it labels, inside its edges.
        assert box["imgLeft"] - 1 <= box["left"] and box["right"] <= box["imgRight"] + 1, box
        assert box["imgTop"] - 1 <= box["top"] and box["bottom"] <= box["imgBottom"] + 1, box
    expect_text = page.locator(".gallery-thumbs [data-provenant-badge] .provenant-badge__label")
    assert expect_text.is_visible()

    # The explanation of the thumbnail's badge is one tap (or one key press) away.
    thumb_badge = page.locator(".gallery-thumbs [data-provenant-badge]")
    button = thumb_badge.locator("button")
    if viewport == "phone":
        button.tap()
    else:
        button.focus()
    assert thumb_badge.locator("[role=tooltip]").is_visible()
    assert "artificial intelligence" in thumb_badge.locator("[role=tooltip]").inner_text()

    page.add_script_tag(url=f"{storefront.url}/lib/axe.min.js")
    results = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', "
        "values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
    )
    bad = [(v["id"], [n["html"][:120] for n in v["nodes"]]) for v in results["violations"]]
    assert bad == []
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"badges-{flavour}-{viewport}.png"), full_page=True)
    assert errors == []
    context.close()
