"""The disclosure-coverage simulation against locally served storefront pages: badges present,
hidden, off-screen, nameless or unexplained, pages missing, and the Magento URLs behind them."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.core.management import call_command

from audits.checks.simulation import simulation_run, simulation_targets
from audits.models import AuditEvent, SimulationCheck, SimulationRun
from disclosure.selectors import disclosures_resolve, store_state_load
from magento_bridge.connection import DatabaseUrl, connect
from magento_bridge.schema import create_schema
from provenance.models import ContentItem
from tests.audits.simulated_storefront import SimulatedStorefront, cms_page, product_page
from tests.conftest import CHROMIUM, tool_required

pytestmark = [pytest.mark.django_db(transaction=True)]


def _chromium(settings) -> None:
    tool_required(CHROMIUM, "chromium")
    settings.SIMULATION_CHROMIUM = CHROMIUM


def _magento(
    tmp_path, settings, *, base_url: str, rewrites: list[tuple[str, int, str]], store_base: str = ""
):
    db = DatabaseUrl(engine="sqlite", name=str(tmp_path / "magento.sqlite3"))
    conn = connect(db, read_only=False)
    create_schema(conn, "sqlite")
    cur = conn.cursor()
    cur.executemany(
        "INSERT INTO store (store_id, code, website_id, group_id, name, sort_order, is_active) "
        "VALUES (?,?,?,?,?,?,?)",
        [
            (0, "admin", 0, 0, "Admin", 0, 1),
            (1, "default", 1, 1, "Default", 0, 1),
            (2, "de", 1, 1, "DE", 1, 1),
        ],
    )
    config = [
        ("default", 0, "web/secure/base_url", base_url),
        ("default", 0, "web/unsecure/base_url", base_url),
    ]
    if store_base:
        config.append(("stores", 2, "web/secure/base_url", store_base))
    cur.executemany("INSERT INTO core_config_data (scope, scope_id, path, value) VALUES (?,?,?,?)", config)
    cur.executemany(
        "INSERT INTO url_rewrite (entity_type, entity_id, request_path, target_path, redirect_type, "
        "store_id, metadata) VALUES (?,?,?,?,?,?,?)",
        [
            (kind, entity_id, path, f"target/{entity_id}", 0, store_id, None)
            for kind, entity_id, path, store_id in [(k, e, p, 1) for k, e, p in rewrites]
        ],
    )
    conn.commit()
    conn.close()
    settings.MAGENTO_DATABASE_URL = db.url()
    settings.MAGENTO_TABLE_PREFIX = ""
    return db


def _image(sku: str, entity_id: int, file_path: str, *, origin: str = "synthetic", store: str = "default"):
    return ContentItem.objects.create(
        store_code=store,
        surface="product_image",
        magento_id=entity_id,
        part_key=file_path,
        sku=sku,
        file_path=file_path,
        origin=origin,
        content_sha256=f"{entity_id:064x}",
    )


def _answer(store: str, *, products=(), pages=(), change=None) -> bytes:
    cache.clear()
    data = disclosures_resolve(
        state=store_state_load(store), products=list(products), blocks=[], pages=list(pages)
    )
    if change:
        for entry in [*data["products"].values(), *data["pages"].values()]:
            for badge in entry["badges"]:
                badge.update(change)
    return json.dumps(data).encode()


@pytest.fixture
def shop():
    with SimulatedStorefront() as storefront:
        yield storefront


@pytest.fixture
def storefront_catalog(tmp_path, settings, shop):
    """Eight synthetic products and one CMS page whose storefront pages fail (or pass) in distinct ways."""
    _chromium(settings)
    settings.SIMULATION_DIR = tmp_path / "simulation"
    settings.SIMULATION_BADGE_WAIT = 3.0
    settings.SIMULATION_PAGE_TIMEOUT = 10.0
    settings.SIMULATION_PASS_SCREENSHOTS = 1
    variants = {
        "MED-OK": ("ok.html", {}, "", True),
        "MED-NOSCRIPT": ("noscript.html", {}, "", False),
        "MED-OFFSCREEN": (
            "offscreen.html",
            {},
            ".provenant-badge{position:fixed !important;left:-5000px !important;top:0 !important}",
            True,
        ),
        "MED-HIDDEN": ("hidden.html", {}, ".provenant-badge{display:none !important}", True),
        "MED-NONAME": ("noname.html", {"label": ""}, "", True),
        "MED-NOTEXT": ("notext.html", {"explanation": "", "learn_more_url": ""}, "", True),
        "MED-GONE": ("gone.html", None, "", True),
    }
    rewrites = []
    for entity_id, (sku, (path, change, style, script)) in enumerate(variants.items(), start=1):
        stem = sku.lower()
        _image(sku, entity_id, f"/a/i/ai-{stem}.jpg")
        _image(sku, entity_id, f"/p/h/photo-{stem}.jpg", origin="human")
        rewrites.append(("product", entity_id, path))
        if change is None:
            continue  # the product page answers 404
        api = f"{shop.url}/api-{stem}"
        shop.json(
            f"/api-{stem}/api/v1/disclosures/default", _answer("default", products=[sku], change=change)
        )
        shop.page(
            f"/{path}",
            product_page(
                store="default",
                sku=sku,
                images=[f"/a/i/ai-{stem}.jpg", f"/p/h/photo-{stem}.jpg"],
                api_base=api,
                style=style,
                script=script,
            ),
        )
    _image("MED-NOURL", 99, "/a/i/ai-med-nourl.jpg")  # no url_rewrite row
    ContentItem.objects.create(
        store_code="default",
        surface="cms_page",
        magento_id=7,
        identifier="diabetes-guide",
        title="Living with diabetes",
        origin="synthetic",
        content_sha256="c" * 64,
    )
    rewrites.append(("cms-page", 7, "patient-education/diabetes-guide"))
    shop.json("/api-page/api/v1/disclosures/default", _answer("default", pages=["diabetes-guide"]))
    shop.page(
        "/patient-education/diabetes-guide",
        cms_page(store="default", identifier="diabetes-guide", api_base=f"{shop.url}/api-page"),
    )
    _magento(tmp_path, settings, base_url="https://shop.invalid/", rewrites=rewrites)
    settings.STOREFRONT_BASE_URLS = {"default": shop.url + "/"}
    return variants


def test_the_simulation_reports_the_right_result_for_each_badge(storefront_catalog, shop, settings):
    run = simulation_run(store_code="default")

    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    results = {c.ref: c for c in SimulationCheck.objects.filter(run=run)}
    assert set(results) == {*storefront_catalog, "MED-NOURL", "diabetes-guide"}
    assert results["MED-OK"].passed, results["MED-OK"].reason
    assert results["MED-OK"].file_path == "/a/i/ai-med-ok.jpg"
    assert results["MED-OK"].accessible_name.startswith("AI-generated")
    assert results["diabetes-guide"].passed, results["diabetes-guide"].reason
    assert results["diabetes-guide"].url == f"{shop.url}/patient-education/diabetes-guide"
    assert results["MED-NOSCRIPT"].reason.startswith("no badge on the image")
    assert "outside the viewport" in results["MED-OFFSCREEN"].reason
    assert results["MED-HIDDEN"].reason == "hidden (display: none)"
    assert results["MED-NONAME"].reason == "no accessible name"
    assert results["MED-NOTEXT"].reason == "the explanation is empty"
    assert results["MED-GONE"].reason == "the page did not load (HTTP 404)"
    assert results["MED-NOURL"].reason.startswith("no storefront URL")
    assert (run.checks, run.passed, run.failed, run.pages) == (9, 2, 7, 8)
    assert run.pass_rate == 22
    # Only the synthetic image is expected: the photos on the same pages are not checked.
    assert not SimulationCheck.objects.filter(file_path__contains="photo").exists()
    # Every failure has a screenshot on disk, except the page that has no URL at all.
    for check in SimulationCheck.objects.filter(run=run, passed=False).exclude(ref="MED-NOURL"):
        assert check.screenshot, check
        assert (settings.SIMULATION_DIR / check.screenshot).is_file()
    assert SimulationCheck.objects.filter(run=run, passed=True).exclude(screenshot="").count() == 1
    event = AuditEvent.objects.get(action="simulation.finished")
    assert event.detail["failed"] == 7 and event.object_id == str(run.pk)


def test_the_browser_reaches_only_the_storefront(storefront_catalog, shop, settings):
    # A page pulling a third-party script: the request is aborted, the page still checked.
    html = product_page(
        store="default", sku="MED-OK", images=["/a/i/ai-med-ok.jpg"], api_base=f"{shop.url}/api-med-ok"
    )
    shop.page(
        "/ok.html", html.replace("</head>", '<script src="http://192.0.2.1/tracker.js"></script></head>')
    )
    ContentItem.objects.exclude(sku="MED-OK").delete()
    run = simulation_run(store_code="default", limit=1)
    assert run.checks == 1 and run.pages == 1
    assert SimulationCheck.objects.get(run=run).passed
    assert run.options["origins"] == [shop.url]


def test_the_command_runs_a_simulation_and_prints_a_summary(storefront_catalog, shop, capsys):
    call_command("audit_simulate", "--store", "default", "--limit", "3", "--no-progress")
    out = capsys.readouterr().out
    run = SimulationRun.objects.get()
    # CMS pages come first, then products by SKU, up to the limit.
    assert run.pages == 3
    assert [c.ref for c in SimulationCheck.objects.filter(run=run).order_by("id")] == [
        "diabetes-guide",
        "MED-GONE",
        "MED-HIDDEN",
    ]
    assert f"Simulation #{run.pk}" in out and "FAIL default product_image /a/i/ai-med-gone.jpg" in out


def test_a_run_without_magento_fails_clearly(settings, db):
    settings.MAGENTO_DATABASE_URL = ""
    run = simulation_run()
    assert run.status == SimulationRun.Status.FAILED
    assert "MAGENTO_DATABASE_URL" in run.error
    assert AuditEvent.objects.filter(action="simulation.failed").exists()


def test_urls_come_from_url_rewrite_and_the_store_views_base_url(tmp_path, settings, db):
    _image("MED-1", 1, "/a/i/ai-1.jpg", store="de")
    _image("MED-2", 2, "/a/i/ai-2.jpg", store="default")
    _magento(
        tmp_path,
        settings,
        base_url="https://shop.invalid/",
        store_base="https://shop.invalid/de/",
        rewrites=[("product", 1, "med-one.html"), ("product", 2, "med-two.html")],
    )
    db_url = settings.MAGENTO_DATABASE_URL
    conn = connect(DatabaseUrl(engine="sqlite", name=db_url.removeprefix("sqlite:///")), read_only=False)
    conn.execute(
        "INSERT INTO url_rewrite (entity_type, entity_id, request_path, target_path, redirect_type, "
        "store_id) VALUES ('product', 1, 'de-med-one.html', 't', 0, 2), "
        "('product', 1, 'category/de-med-one.html', 't', 0, 2), ('product', 1, 'old.html', 't', 301, 2)"
    )
    conn.execute(
        "UPDATE url_rewrite SET metadata = '{\"category_id\":\"3\"}' WHERE request_path LIKE 'category/%'"
    )
    conn.commit()
    conn.close()
    settings.STOREFRONT_BASE_URLS = {}
    cache.clear()
    targets = {t.store_code: t for t in simulation_targets()}
    assert targets["de"].url == "https://shop.invalid/de/de-med-one.html"
    assert targets["default"].url == "https://shop.invalid/med-two.html"
    assert [e.file_path for e in targets["de"].expectations] == ["/a/i/ai-1.jpg"]
    overridden = simulation_targets(store_code="default", base_url="http://127.0.0.1:9/shop/")
    assert overridden[0].url == "http://127.0.0.1:9/shop/med-two.html"


def test_the_demo_storefront_passes_the_simulation(make_store, sqlite_url, settings, live_server, tmp_path):
    """End to end: demo store → sync → the demo storefront's product pages, checked by the simulation."""
    from magento_bridge.models import SyncRun
    from magento_bridge.services import sync_run

    _chromium(settings)
    settings.DEMO_STOREFRONT = True
    settings.SIMULATION_DIR = tmp_path / "simulation"
    settings.SIMULATION_PAGE_TIMEOUT = 15.0
    store = make_store(sqlite_url, products=40)
    assert sync_run(full=True, media=store.media).status == SyncRun.Status.SUCCEEDED
    call_command("disclosure_defaults", "--locale", "de=de_DE")
    cache.clear()
    settings.STOREFRONT_BASE_URLS = {"de": f"{live_server.url}/demo/storefront/de/"}
    settings.SIMULATION_PRODUCT_PATH = "{sku}"
    # The demo storefront serves product pages only.
    ContentItem.objects.filter(store_code="de", surface="cms_page").delete()
    cache.clear()
    run = simulation_run(store_code="de", limit=4)
    cache.clear()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    checks = list(SimulationCheck.objects.filter(run=run))
    assert run.pages == 4 and checks
    assert all(c.passed for c in checks), [(c.ref, c.file_path, c.reason) for c in checks if not c.passed]
    assert {c.surface for c in checks} >= {"product_image"}


def test_only_one_simulation_runs_at_a_time(settings, db):
    cache.set("audits:simulation:running", 41, 60)
    try:
        run = simulation_run()
    finally:
        cache.delete("audits:simulation:running")
    assert run.status == SimulationRun.Status.FAILED
    assert "another simulation is running (#41)" in run.error
    # A finished run leaves the lock free.
    settings.MAGENTO_DATABASE_URL = ""
    assert "MAGENTO_DATABASE_URL" in simulation_run().error
    assert cache.add("audits:simulation:running", 1, 1)
    cache.delete("audits:simulation:running")
