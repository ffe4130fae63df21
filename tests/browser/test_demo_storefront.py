"""`make demo`'s storefront: a Magento-like product page of the demo store shows the right badges
through the module's own script, served by this sidecar."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command

from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.models import ContentItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(make_store, sqlite_url, settings):
    settings.DEMO_STOREFRONT = True
    store = make_store(sqlite_url, products=40)
    run = sync_run(full=True, media=store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    call_command("disclosure_defaults", "--locale", "de=de_DE")
    cache.clear()
    yield store
    cache.clear()


def test_a_demo_product_page_badges_exactly_its_ai_generated_images(browser, live_server, demo):
    item = (
        ContentItem.objects.filter(
            store_code="de",
            surface="product_image",
            origin="synthetic",
            removed_at=None,
            is_hidden=False,
            is_enabled=True,
        )
        .exclude(sku="")
        .order_by("sku")
        .first()
    )
    assert item is not None
    synthetic = set(
        ContentItem.objects.filter(
            store_code="de",
            sku=item.sku,
            surface="product_image",
            origin="synthetic",
            is_hidden=False,
            removed_at=None,
        ).values_list("file_path", flat=True)
    )
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A Content Security Policy violation (an inline script, a foreign origin) is logged to the console.
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/demo/storefront/de/")
    page.click(f"a.name[href$='/{item.sku}']")
    page.wait_for_selector("html[data-provenant-ready]", timeout=10_000)
    page.wait_for_timeout(150)
    badged = page.eval_on_selector_all(
        ".gallery-thumbs [data-provenant-badge='product_image']",
        "bs => bs.map(b => b.previousElementSibling.querySelector('img').getAttribute('src'))",
    )
    assert {"/" + "/".join(src.split("/")[-3:]) for src in badged} == synthetic
    label = page.locator("[data-provenant-badge='product_image'] .provenant-badge__label").first.inner_text()
    assert label == "KI-generiert"
    assert errors == []
    context.close()


def test_the_demo_storefront_is_off_unless_configured(client, settings):
    settings.DEMO_STOREFRONT = False
    assert client.get("/demo/storefront/default/").status_code == 404
    assert client.get("/demo/storefront/module/js/disclosure.js").status_code == 404


@pytest.mark.parametrize("viewport", [(1366, 768), (390, 844)], ids=["desktop", "phone"])
def test_the_demo_shop_looks_like_a_shop_and_is_axe_clean(browser, live_server, demo, viewport, tmp_path):
    from tests.browser.storefront_server import NODE_MODULES

    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/demo/storefront/de/")
    page.wait_for_selector("html[data-provenant-ready]", timeout=10_000)
    assert page.locator(".product-card").count() > 10
    assert page.locator(".product-card .price").first.inner_text().endswith(" €")
    # Grid: more than one card per row on a desktop, cards inside the viewport on a phone.
    boxes = page.eval_on_selector_all(
        ".product-card", "cs => cs.slice(0, 4).map(c => c.getBoundingClientRect().toJSON())"
    )
    if viewport[0] > 1000:
        assert len({round(b["top"]) for b in boxes}) == 1
    assert all(b["right"] <= viewport[0] + 0.5 for b in boxes)
    labels = page.locator(".product-card [data-provenant-badge] .provenant-badge__label")
    assert labels.count() >= 1 and labels.first.is_visible()
    page.locator(".product-card .name").first.click()
    page.wait_for_selector("html[data-provenant-ready]", timeout=10_000)
    page.wait_for_timeout(150)
    assert page.locator(".cms-content p").count() >= 1  # the block's own text
    assert "(CMS block content)" not in page.content()
    if (NODE_MODULES / "axe-core" / "axe.min.js").exists():
        # Evaluated through the browser's protocol, not a <script>: the page's CSP forbids inline code.
        page.evaluate((NODE_MODULES / "axe-core" / "axe.min.js").read_text())
        results = page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
        )
        assert [(v["id"], [n["html"][:100] for n in v["nodes"]]) for v in results["violations"]] == []
    page.screenshot(path=str(tmp_path / f"demo-shop-{viewport[0]}.png"), full_page=True)
    assert missing == [] and errors == []
    context.close()
