"""GET /api/v1/disclosures/<store_code>: the public badge JSON the storefront script reads."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disclosure.services import audit_switch_set, policy_version_create, storefront_settings_set

pytestmark = pytest.mark.django_db

URL = "/api/v1/disclosures/{}"


def get(client, store="default", headers=None, **params):
    return client.get(URL.format(store), params, headers=headers or {})


def test_it_badges_the_synthetic_images_of_a_product_with_their_files_and_positions(client, catalog):
    response = get(client, products="MED-1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    badges = response.json()["products"]["MED-1"]["badges"]
    images = [b for b in badges if b["surface"] == "product_image"]
    assert [(b["file"], b["position"], b["kind"]) for b in images] == [
        ("/a/i/ai-pen.jpg", 2, "generated"),
        ("/e/d/edited.jpg", 3, "edited"),
    ]
    assert images[0]["label"] == "AI-generated"
    assert "artificial intelligence" in images[0]["explanation"]
    assert images[0]["digital_source_type"].endswith("/trainedAlgorithmicMedia")
    assert images[1]["label"] == "AI-modified"
    assert [b["link_type"] for b in badges if b["surface"] == "recommendation"] == ["up_sell"]


def test_it_adds_schema_org_json_ld_with_digital_source_type_for_each_synthetic_image(client, catalog):
    jsonld = get(client, products="MED-1").json()["products"]["MED-1"]["jsonld"]
    assert {d["identifier"] for d in jsonld} == {"/a/i/ai-pen.jpg", "/e/d/edited.jpg"}
    first = next(d for d in jsonld if d["identifier"] == "/a/i/ai-pen.jpg")
    assert first["@context"] == "https://schema.org"
    assert first["@type"] == "ImageObject"
    assert (
        first["digitalSourceType"] == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    )
    assert first["name"] == "Insulin pen"


def test_unknown_hidden_removed_and_human_refs_are_simply_absent(client, catalog):
    data = get(client, products="MED-3,MED-4,NOPE", blocks="nope", pages="nope").json()
    assert data["products"] == {} and data["blocks"] == {} and data["pages"] == {}


def test_cms_refs_match_identifier_or_numeric_id(client, catalog):
    data = get(client, blocks="insulin-storage,12", pages="7").json()
    assert set(data["blocks"]) == {"insulin-storage", "12"}
    assert data["blocks"]["12"]["badges"][0]["label"] == "AI-assisted text"
    assert data["pages"]["7"]["badges"][0]["surface"] == "cms_page"


def test_suspected_content_is_badged_only_when_the_store_view_says_so(client, catalog):
    assert get(client, products="MED-2").json()["products"] == {}
    storefront_settings_set(store_code="default", badge_suspected=True)
    badge = get(client, products="MED-2").json()["products"]["MED-2"]["badges"][0]
    assert (badge["kind"], badge["label"]) == ("suspected", "May be AI-generated")


def test_more_than_100_refs_is_a_400_in_the_error_shape(client, catalog):
    products = ",".join(f"SKU-{n}" for n in range(60))
    blocks = ",".join(f"b-{n}" for n in range(41))
    response = get(client, products=products, blocks=blocks)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "100" in error["message"]
    assert get(client, products=products, blocks=",".join(f"b-{n}" for n in range(40))).status_code == 200


def test_control_characters_in_a_ref_are_a_400_naming_the_field(client, catalog):
    response = get(client, products="MED\x01-1")
    assert response.status_code == 400
    assert "products" in response.json()["error"]["fields"]


def test_an_unknown_store_view_is_a_404(client, catalog):
    response = get(client, store="nowhere", products="MED-1")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_cors_is_allowed_only_for_the_store_views_configured_origins(client, catalog):
    storefront_settings_set(store_code="default", allowed_origins=["https://shop.example.com"])
    allowed = get(client, products="MED-1", headers={"Origin": "https://shop.example.com"})
    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "Origin" in allowed["Vary"]
    other = get(client, products="MED-1", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200
    assert "Access-Control-Allow-Origin" not in other
    # The German store view has no origins configured.
    de = get(client, store="de", products="MED-1", headers={"Origin": "https://shop.example.com"})
    assert "Access-Control-Allow-Origin" not in de


def test_answers_are_cacheable_with_a_strong_etag_and_304(client, catalog, settings):
    first = get(client, products="MED-1")
    assert first["Cache-Control"] == f"public, max-age={settings.DISCLOSURE_CACHE_SECONDS}"
    etag = first["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = get(client, products="MED-1", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    other = get(client, products="MED-1", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_the_german_store_view_speaks_german_once_its_policies_exist(client, catalog):
    from disclosure.services import policy_defaults_install

    policy_defaults_install(locales={"de": "de_DE"})
    badge = get(client, store="de", products="MED-1").json()["products"]["MED-1"]["badges"][0]
    assert badge["label"] == "KI-generiert"
    assert badge["locale"] == "de_DE"
    assert get(client, products="MED-1").json()["products"]["MED-1"]["badges"][0]["locale"] == "en_US"


def test_hostile_policy_text_comes_back_as_json_text(client, catalog):
    policy_version_create(
        store_code="default",
        surface="product_image",
        kind="generated",
        locale="en_US",
        label='<img src=x onerror="alert(1)">',
        explanation="<script>alert(2)</script>",
    )
    body = get(client, products="MED-1").content.decode()
    badge = json.loads(body)["products"]["MED-1"]["badges"][0]
    assert badge["label"] == '<img src=x onerror="alert(1)">'


def test_suppress_marks_the_surface_hidden_and_drops_its_json_ld(client, catalog):
    audit_switch_set(store_code="default", surface="product_image", mode="suppress")
    data = get(client, products="MED-1").json()
    assert data["modes"]["product_image"] == "suppress"
    images = [b for b in data["products"]["MED-1"]["badges"] if b["surface"] == "product_image"]
    assert images and all(b["hidden"] for b in images)
    assert data["products"]["MED-1"]["jsonld"] == []
    assert data["modes"]["recommendation"] == "show"


def test_a_page_of_48_products_costs_a_bounded_number_of_queries(client, item):
    for n in range(48):
        item(sku=f"SKU-{n}", magento_id=1000 + n, file_path=f"/x/y/{n}.jpg", origin="synthetic")
    skus = ",".join(f"SKU-{n}" for n in range(48))
    with CaptureQueriesContext(connection) as cold:
        assert len(get(client, products=skus).json()["products"]) == 48
    assert len(cold) <= 5
    with CaptureQueriesContext(connection) as warm:
        get(client, products=skus)
    assert len(warm) == 0, "a repeated page is answered from the cache"


def test_the_endpoint_is_in_the_openapi_schema(client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/disclosures/{store_code}"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"products", "blocks", "pages", "store_code"}
    assert {"200", "304", "400", "404"} <= set(operation["responses"])


def test_with_per_process_memos_a_page_costs_no_query_and_changes_still_show(client, catalog, settings):
    settings.DISCLOSURE_LOCAL_SECONDS = 1.0
    first = get(client, products="MED-1", blocks="insulin-storage").json()
    with CaptureQueriesContext(connection) as warm:
        other_page = get(client, products="MED-2,MED-1").json()
    assert len(warm) == 0
    assert other_page["products"]["MED-1"] == first["products"]["MED-1"]
    audit_switch_set(store_code="default", surface="cms_block", mode="suppress")
    after = get(client, products="MED-1", blocks="insulin-storage").json()
    assert after["blocks"]["insulin-storage"]["badges"][0]["hidden"] is True


def test_ai_modified_images_say_so_in_the_badge_and_in_json_ld(client, catalog):
    entry = get(client, products="MED-1").json()["products"]["MED-1"]
    edited = next(b for b in entry["badges"] if b.get("file") == "/e/d/edited.jpg")
    assert (edited["kind"], edited["label"]) == ("edited", "AI-modified")
    assert edited["digital_source_type"].endswith("/compositeWithTrainedAlgorithmicMedia")
    jsonld = next(d for d in entry["jsonld"] if d["identifier"] == "/e/d/edited.jpg")
    assert jsonld["digitalSourceType"].endswith("/compositeWithTrainedAlgorithmicMedia")


def test_every_locale_has_the_codes_generated_and_modified_labels():
    from disclosure.defaults import TEXTS, default_text

    assert set(TEXTS) == {"en", "de"}
    assert [default_text("en_US", "product_image", k)[0] for k in ("generated", "edited")] == [
        "AI-generated",
        "AI-modified",
    ]
    assert [default_text("de_DE", "product_image", k)[0] for k in ("generated", "edited")] == [
        "KI-generiert",
        "KI-verändert",
    ]
    for texts in TEXTS.values():
        assert set(texts) == set(TEXTS["en"])


def test_badges_are_answered_from_the_database_while_the_shared_cache_is_down(
    client, catalog, settings, caplog
):
    # Nothing listens on port 9: every cache call fails the way a stopped Redis does.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    settings.DISCLOSURE_LOCAL_SECONDS = 0
    settings.RATE_LIMIT_BADGES = 0
    for _ in range(3):
        response = get(client, products="MED-1")
        assert response.status_code == 200
        assert response.json()["products"]["MED-1"]["badges"][0]["label"] == "AI-generated"
    images = client.get("/api/v1/disclosures/default/images")
    assert images.status_code == 200 and "/a/i/ai-pen.jpg" in images.json()["images"]
    warnings = [r for r in caplog.records if "Shared cache unreachable" in r.getMessage()]
    assert len(warnings) <= 1  # once a minute, not once a request
