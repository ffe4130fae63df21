"""The synthetic product images of a store view, which the Magento module marks in every derivative."""

from __future__ import annotations

import json

import pytest

from disclosure.manifests import IMAGES, POINTER, manifest_publish
from disclosure.services import audit_switch_set
from tests.disclosure.conftest import COMPOSITE, TRAINED

pytestmark = pytest.mark.django_db


def test_it_lists_every_synthetic_image_still_in_the_catalog_with_its_source_type(catalog, client):
    response = client.get("/api/v1/disclosures/default/images")
    assert response.status_code == 200
    assert response.json() == {
        "store": "default",
        # Hidden images are still marked; photos, suspected and removed images are not.
        "images": {"/a/i/ai-pen.jpg": TRAINED, "/e/d/edited.jpg": COMPOSITE, "/h/i/hidden.jpg": TRAINED},
    }


def test_suppressed_images_keep_their_marking(catalog, client):
    audit_switch_set(store_code="default", surface="product_image", mode="suppress")
    assert "/a/i/ai-pen.jpg" in client.get("/api/v1/disclosures/default/images").json()["images"]


def test_it_answers_304_for_a_matching_etag_and_404_for_an_unknown_store(catalog, client):
    first = client.get("/api/v1/disclosures/de/images")
    assert first.json()["images"] == {"/a/i/ai-pen.jpg": TRAINED}
    again = client.get("/api/v1/disclosures/de/images", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    missing = client.get("/api/v1/disclosures/nosuch/images")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"]


def test_published_manifests_carry_the_same_list(tmp_path, catalog, client):
    manifest_publish(store_code="default", directory=tmp_path)
    pointer = json.loads((tmp_path / "default" / POINTER).read_text())
    assert pointer["images"] == f"{pointer['version']}/{IMAGES}"
    published = (tmp_path / "default" / pointer["images"]).read_bytes()
    assert published == client.get("/api/v1/disclosures/default/images").content
