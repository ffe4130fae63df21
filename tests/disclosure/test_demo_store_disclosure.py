"""The demo store end to end: a sync publishes manifests and the API badges its AI-marked images."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from disclosure.manifests import POINTER
from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.models import ContentItem

pytestmark = pytest.mark.django_db


def test_a_finished_sync_republishes_and_the_api_badges_ai_marked_images(
    make_store, sqlite_url, settings, tmp_path, client, django_capture_on_commit_callbacks
):
    store = make_store(sqlite_url, products=40)
    settings.DISCLOSURE_PUBLISH_DIR = str(tmp_path / "published")
    call_command("disclosure_defaults", "--locale", "de=de_DE")
    with django_capture_on_commit_callbacks(execute=True):
        run = sync_run(full=True, media=store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error

    synthetic = ContentItem.objects.filter(
        store_code="de",
        surface="product_image",
        origin="synthetic",
        removed_at=None,
        is_hidden=False,
        is_enabled=True,
    ).first()
    assert synthetic is not None, "the demo store has AI-marked images"
    data = client.get(f"/api/v1/disclosures/de?products={synthetic.sku}").json()
    files = [b["file"] for b in data["products"][synthetic.sku]["badges"] if b["surface"] == "product_image"]
    assert synthetic.file_path in files
    assert data["products"][synthetic.sku]["badges"][0]["locale"] == "de_DE"

    for code in ("default", "de"):
        pointer = json.loads((tmp_path / "published" / code / POINTER).read_text())
        assert (tmp_path / "published" / code / pointer["path"]).is_dir()
