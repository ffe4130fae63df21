"""Content whose hash equals a generation record's output is synthetic, whichever arrived first."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from provenance.auth import api_client_create
from provenance.item_log import ORIGIN_FIELDS, item_origin_payload
from provenance.models import ContentItem, GenerationRecord, Generator, LogEntry, Origin, OriginSource
from provenance.records import (
    TRAINED_ALGORITHMIC_MEDIA,
    generation_record_submit,
    origin_from_records,
    record_origin,
)
from provenance.services import ObservedItem, content_items_apply
from provenance.standards.hashing import cms_content_sha256, state_sha256

pytestmark = pytest.mark.django_db

IMAGE_SHA = hashlib.sha256(b"generated image").hexdigest()
HTML = "<div class='leaflet'>\n  <p>Keep unopened pens in the fridge.</p>\n</div>"


@pytest.fixture
def generator():
    return Generator.objects.create(name="image-model", version="2")


@pytest.fixture
def pipeline():
    return api_client_create(name="image-pipeline", scopes=["records:write"], actor="test").client


@pytest.fixture
def submit(generator, pipeline):
    def submit(output_sha256: str = IMAGE_SHA, external_id: str = "x-1", media_type: str = "image/png"):
        return generation_record_submit(
            generator=generator,
            generator_version="2.1",
            prompt_sha256=hashlib.sha256(b"prompt").hexdigest(),
            input_sha256s=[],
            parameters={"seed": 1},
            output_sha256=output_sha256,
            output_media_type=media_type,
            generated_at=timezone.now(),
            external_id=external_id,
            actor=pipeline,
        )

    return submit


def make_item(**values) -> ContentItem:
    defaults = {
        "store_code": "default",
        "surface": "product_image",
        "magento_id": 7,
        "part_key": "31",
        "sku": "PEN-7",
        "file_path": "/p/e/pen.png",
        "content_sha256": IMAGE_SHA,
    }
    return ContentItem.objects.create(**{**defaults, **values})


def entry_payload(index: int) -> dict:
    return json.loads(LogEntry.objects.get(index=index).data_bytes)


def test_a_record_marks_content_synced_before_it_as_synthetic(submit):
    item = make_item()

    record = submit().record

    item.refresh_from_db()
    assert item.origin == Origin.SYNTHETIC
    assert item.origin_source == OriginSource.DETECTOR
    assert item.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    evidence = item.origin_evidence[0]
    assert evidence["kind"] == "generation_record"
    assert evidence["strength"] == "conclusive"
    assert evidence["record_id"] == record.pk
    assert evidence["generator"] == "image-model"
    assert "image-pipeline" in evidence["detail"] and str(record.pk) in evidence["detail"]
    assert item.latest_log_index is not None and item.latest_log_index != record.log_index
    payload = entry_payload(item.latest_log_index)
    assert payload == {
        "kind": "item.origin",
        "time": payload["time"],
        "store_code": "default",
        "surface": "product_image",
        "magento_id": 7,
        "part_key": "31",
        "content_sha256": IMAGE_SHA,
        "state_sha256": item.state_sha256,
        "origin": "synthetic",
        "origin_source": "detector",
        "evidence_sha256": state_sha256([item.origin_evidence]),
        "digital_source_type": TRAINED_ALGORITHMIC_MEDIA,
        "evidence_kind": "generation_record",
        "record_id": record.pk,
    }


def test_every_store_views_copy_is_marked(submit):
    items = [make_item(store_code=code) for code in ("default", "de", "fr")]

    result = submit()

    assert result.items_matched == 3
    assert {i.origin for i in ContentItem.objects.all()} == {Origin.SYNTHETIC}
    indexes = sorted(ContentItem.objects.values_list("latest_log_index", flat=True))
    assert len(set(indexes)) == len(items)


def test_cms_text_matches_through_the_sync_normalisation(client, generator, pipeline):
    token = api_client_create(name="cms-pipeline", scopes=["records:write"], actor="test").token
    item = make_item(surface="cms_block", magento_id=3, part_key="", content_sha256=cms_content_sha256(HTML))
    as_generated = "<div class='leaflet'><p>Keep unopened pens  in the fridge.</p></div>\r\n"

    response = client.post(
        "/api/v1/provenance/records",
        data={
            "generator": "image-model",
            "generator_version": "2",
            "prompt_text": "leaflet",
            "output_text": as_generated,
            "generated_at": "2026-01-31T09:30:00Z",
            "external_id": "block-3",
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 201, response.content
    item.refresh_from_db()
    assert item.origin == Origin.SYNTHETIC
    assert item.origin_evidence[0]["record_id"] == response.json()["id"]


def test_a_staff_decision_is_never_overridden(submit):
    item = make_item(
        origin=Origin.HUMAN,
        origin_source=OriginSource.MANUAL,
        origin_evidence=[{"kind": "manual", "strength": "decided", "detail": "photographed in house"}],
    )

    result = submit()

    item.refresh_from_db()
    assert result.items_matched == 0
    assert (item.origin, item.origin_source) == (Origin.HUMAN, OriginSource.MANUAL)
    assert item.latest_log_index is None
    assert not LogEntry.objects.filter(kind="item.origin").exists()


def test_a_rule_declaration_gives_way_to_the_record(submit):
    item = make_item(
        surface="recommendation",
        part_key="related",
        origin=Origin.SYNTHETIC,
        origin_source=OriginSource.RULE,
        origin_evidence=[{"kind": "source_rule", "strength": "declared", "rule_id": 1}],
    )

    record = submit().record

    item.refresh_from_db()
    assert item.origin_source == OriginSource.DETECTOR
    assert [e["kind"] for e in item.origin_evidence] == ["generation_record"]
    assert item.origin_evidence[0]["record_id"] == record.pk


def test_a_detectors_earlier_evidence_is_kept_after_the_record(submit):
    c2pa = {"kind": "c2pa_manifest", "strength": "strong", "detail": "manifest names a generator"}
    item = make_item(origin=Origin.SUSPECTED, origin_source=OriginSource.DETECTOR, origin_evidence=[c2pa])

    submit()

    item.refresh_from_db()
    assert item.origin == Origin.SYNTHETIC
    assert [e["kind"] for e in item.origin_evidence] == ["generation_record", "c2pa_manifest"]


def test_a_second_record_of_the_same_output_changes_nothing(submit):
    item = make_item()
    first = submit(external_id="x-1").record
    item.refresh_from_db()
    logged_at = item.latest_log_index

    second = submit(external_id="x-2")

    item.refresh_from_db()
    assert second.items_matched == 0
    assert item.origin_evidence[0]["record_id"] == first.pk
    assert item.latest_log_index == logged_at
    assert LogEntry.objects.filter(kind="item.origin").count() == 1


def test_content_with_another_hash_is_left_alone(submit):
    item = make_item(content_sha256=hashlib.sha256(b"a photo").hexdigest())

    submit()

    item.refresh_from_db()
    assert item.origin == Origin.UNKNOWN and item.latest_log_index is None


def test_the_next_sync_sees_no_change_in_a_matched_item(submit):
    observed = ObservedItem(
        store_code="default",
        surface="product_image",
        magento_id=7,
        part_key="31",
        sku="PEN-7",
        gallery_value_id=31,
        file_path="/p/e/pen.png",
        media_type="image",
        label="Insulin pen",
        image_roles=["image", "thumbnail"],
        position=1,
        content_sha256=IMAGE_SHA,
    )

    def sync():
        with transaction.atomic():
            return content_items_apply(
                store_code="default",
                surface="product_image",
                observed=[observed],
                covered_ids=[7],
                seen_at=timezone.now(),
                rules=[],
            )

    assert sync().added == 1
    submit()

    counts = sync()

    assert (counts.changed, counts.unchanged) == (0, 1)
    item = ContentItem.objects.get()
    assert item.origin == Origin.SYNTHETIC and item.origin_source == OriginSource.DETECTOR
    call_command("provenance_verify", stdout=io.StringIO())  # every row agrees with its latest entry


def test_the_sync_marks_content_that_appears_after_its_record(submit):
    record = submit().record
    observed = ObservedItem(
        store_code="de", surface="product_image", magento_id=8, part_key="40", content_sha256=IMAGE_SHA
    )

    with transaction.atomic():
        content_items_apply(
            store_code="de",
            surface="product_image",
            observed=[observed],
            covered_ids=[8],
            seen_at=timezone.now(),
            rules=[],
        )

    item = ContentItem.objects.get()
    assert (item.origin, item.origin_source) == (Origin.SYNTHETIC, OriginSource.DETECTOR)
    assert item.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert item.origin_evidence[0]["record_id"] == record.pk
    assert item.origin_evidence[0]["strength"] == "conclusive"


def test_the_sync_finds_the_records_of_new_content_in_one_query(submit, django_assert_num_queries):
    first = submit(external_id="x-1").record
    submit(external_id="x-2")  # the same output again: the earliest record is the evidence
    text_sha = cms_content_sha256(HTML)
    text_record = submit(output_sha256=text_sha, external_id="x-3", media_type="text/html").record
    unknown = hashlib.sha256(b"never generated").hexdigest()

    with django_assert_num_queries(1):
        found = origin_from_records({IMAGE_SHA, text_sha, unknown, ""})
        names = {h: (r.pk, r.generator.name, r.client.name) for h, r in found.items()}

    assert names == {
        IMAGE_SHA: (first.pk, "image-model", "image-pipeline"),
        text_sha: (text_record.pk, "image-model", "image-pipeline"),
    }
    assert origin_from_records(set()) == {}


def test_a_new_item_takes_the_records_origin_and_log_payload(submit):
    record = submit().record
    found = origin_from_records({IMAGE_SHA})[IMAGE_SHA]

    origin = record_origin(found)

    assert set(origin) == set(ORIGIN_FIELDS)
    assert origin["origin"] == Origin.SYNTHETIC and origin["origin_source"] == OriginSource.DETECTOR
    assert origin["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA
    item = ContentItem(
        store_code="de", surface="product_image", magento_id=9, content_sha256=IMAGE_SHA, **origin
    )
    payload = item_origin_payload(item)
    assert payload["record_id"] == record.pk and payload["evidence_kind"] == "generation_record"
    assert GenerationRecord.objects.count() == 1


COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
COMPOSITE_MARK = {
    "kind": "iptc_digital_source_type",
    "strength": "conclusive",
    "detail": f"XMP Iptc4xmpExt:DigitalSourceType = {COMPOSITE}",
    "digital_source_type": COMPOSITE,
}


def test_an_ai_edit_keeps_the_modified_source_type_its_marks_declare_when_its_record_arrives(submit):
    item = make_item(
        origin=Origin.SYNTHETIC,
        origin_source=OriginSource.DETECTOR,
        origin_evidence=[COMPOSITE_MARK],
        digital_source_type=COMPOSITE,
    )

    submit()

    item.refresh_from_db()
    assert item.origin_evidence[0]["kind"] == "generation_record"
    assert item.digital_source_type == COMPOSITE


def test_the_sync_keeps_the_modified_source_type_of_an_ai_edit_with_a_record(submit):
    submit()
    observed = ObservedItem(
        store_code="de",
        surface="product_image",
        magento_id=8,
        part_key="40",
        content_sha256=IMAGE_SHA,
        media_evidence=[COMPOSITE_MARK],
    )

    with transaction.atomic():
        content_items_apply(
            store_code="de",
            surface="product_image",
            observed=[observed],
            covered_ids=[8],
            seen_at=timezone.now(),
            rules=[],
        )

    item = ContentItem.objects.get()
    assert item.origin_evidence[0]["kind"] == "generation_record"
    assert item.digital_source_type == COMPOSITE


def test_a_declared_source_type_that_is_not_generative_gives_way_to_the_record(submit):
    record = submit().record
    origin = record_origin(
        record, declared_source_type="http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    )
    assert origin["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA


def test_a_cms_record_declaring_an_ai_edit_makes_the_block_ai_modified(generator, pipeline, client):
    """A text pipeline that rewrote an existing leaflet says so on its record; the block it matches
    is then disclosed as AI-modified, and the declaration is in the record's log entry."""
    block = make_item(
        surface="cms_block",
        magento_id=12,
        part_key="",
        sku="",
        file_path="",
        content_sha256=cms_content_sha256(HTML),
    )
    token = api_client_create(name="cms-pipeline", scopes=["records:write"], actor="test").token
    response = client.post(
        "/api/v1/provenance/records",
        data=json.dumps(
            {
                "generator": generator.name,
                "generator_version": "2.1",
                "prompt_text": "shorten",
                "output_text": HTML,
                "generated_at": "2026-01-31T09:30:00Z",
                "external_id": "leaflet-12",
                "digital_source_type": "compositeWithTrainedAlgorithmicMedia",
            }
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["digital_source_type"] == COMPOSITE
    block.refresh_from_db()
    assert block.origin == Origin.SYNTHETIC
    assert block.digital_source_type == COMPOSITE
    record = GenerationRecord.objects.get()
    assert entry_payload(record.log_index)["digital_source_type"] == COMPOSITE


def test_an_undeclared_record_logs_no_source_type(submit):
    record = submit().record

    assert record.digital_source_type == ""
    # Entries and fingerprints of undeclared records are what they were before the field existed.
    assert "digital_source_type" not in entry_payload(record.log_index)


def test_a_non_generative_source_type_on_a_record_is_a_400_naming_the_field(generator, client):
    token = api_client_create(name="cms-pipeline", scopes=["records:write"], actor="test").token
    response = client.post(
        "/api/v1/provenance/records",
        data=json.dumps(
            {
                "generator": generator.name,
                "generator_version": "2.1",
                "prompt_text": "p",
                "output_text": HTML,
                "generated_at": "2026-01-31T09:30:00Z",
                "external_id": "leaflet-13",
                "digital_source_type": "digitalCapture",
            }
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["digital_source_type"]
