"""The admin as compliance staff use it, in headless Chromium."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server, mariadb_store):
    run = sync_run(full=True, media=mariadb_store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    User.objects.create_superuser("officer", password="a-long-test-password")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "officer")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    yield page
    context.close()


def test_image_items_show_loaded_thumbnails_and_hostile_labels_stay_text(page, live_server, tmp_path):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server.url}/admin/provenance/contentitem/?surface__exact=product_image&store=default")
    page.wait_for_load_state("networkidle")
    loaded = page.eval_on_selector_all(
        "#result_list img", "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length"
    )
    assert loaded >= 10
    page.screenshot(path=str(tmp_path / "content-items.png"))

    page.goto(f"{live_server.url}/admin/provenance/contentitem/?q=script")
    page.wait_for_load_state("networkidle")
    assert "<script>alert(1)</script>" in page.inner_text("#result_list")
    assert dialogs == [], "no script from Magento content ran"


def test_filters_by_problem_narrow_the_list(page, live_server):
    page.goto(f"{live_server.url}/admin/provenance/contentitem/")
    page.click("text=decompression bomb")
    page.wait_for_load_state("networkidle")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2  # one image, two store views
    assert "decompression_bomb" in page.inner_text("#result_list")


def test_sync_now_from_the_sync_runs_page(page, live_server):
    page.goto(f"{live_server.url}/admin/magento_bridge/syncrun/")
    page.click("button:has-text('Sync now')")
    page.wait_for_load_state("networkidle")
    assert "succeeded" in page.inner_text(".messagelist")
    assert page.locator("#result_list tbody tr").count() == 2
