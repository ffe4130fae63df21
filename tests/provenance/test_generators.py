"""Generators and their model cards, and generation records as compliance staff see them in the admin."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.utils import timezone

from provenance.auth import api_client_create
from provenance.models import GenerationRecord, Generator
from provenance.records import generation_record_submit
from provenance.standards.model_cards import (
    hf_metadata_problems,
    hf_metadata_template,
    model_card_problems,
    model_card_template,
)

SHA = hashlib.sha256(b"output").hexdigest()

FULL_CARD = {
    "model_details": {
        "name": "Leaflet writer",
        "overview": "Drafts patient education leaflets from pharmacist notes.",
        "documentation": "Internal wiki page 42.",
        "owners": [{"name": "Content team", "contact": "content@example.org"}],
        "version": {"name": "3.1", "date": "2026-01-15", "diff": "Shorter sentences."},
        "licenses": [{"identifier": "apache-2.0"}],
        "references": [{"reference": "https://example.org/leaflet-writer"}],
        "citations": [{"style": "text", "citation": "Example Health, Leaflet writer, 2026."}],
    },
    "model_parameters": {
        "model_architecture": "Decoder-only transformer, 7B parameters, instruction-tuned.",
        "data": [
            {"name": "Published leaflets", "link": "https://example.org/data", "description": "Public."}
        ],
    },
    "quantitative_analysis": {
        "performance_metrics": [{"type": "reading ease", "value": "71", "slice": "all leaflets"}]
    },
    "considerations": {
        "users": [{"description": "Pharmacists reviewing drafts."}],
        "use_cases": [{"description": "First drafts of storage and dosage leaflets."}],
        "limitations": [{"description": "Not for diagnosis."}],
        "tradeoffs": [{"description": "Simpler language over completeness."}],
        "ethical_considerations": [
            {"name": "Medical misinformation", "mitigation_strategy": "A pharmacist approves every leaflet."}
        ],
    },
}


# --- model cards (pure) -------------------------------------------------------------------------


def test_the_templates_and_a_complete_card_are_valid():
    assert model_card_problems(model_card_template()) == []
    assert model_card_problems(FULL_CARD) == []
    assert hf_metadata_problems(hf_metadata_template()) == []
    assert (
        hf_metadata_problems(
            {
                "license": "apache-2.0",
                "language": ["en", "de"],
                "tags": ["healthcare", "text-generation"],
                "pipeline_tag": "text-generation",
                "base_model": "example/base-7b",
                "model-index": [{"name": "anything the Hub accepts"}],
            }
        )
        == []
    )


@pytest.mark.parametrize(
    ("card", "problem"),
    [
        ([], "must be a JSON object"),
        ({"model_detail": {}}, "unknown section 'model_detail'"),
        ({"model_details": "text"}, "model_details must be an object"),
        ({"model_details": {"overveiw": "x"}}, "model_details.overveiw is not a Model Card Toolkit field"),
        ({"model_details": {"overview": 3}}, "model_details.overview must be a string"),
        ({"model_details": {"owners": "Content team"}}, "model_details.owners must be a list"),
        ({"model_details": {"owners": ["Content team"]}}, "model_details.owners[0] must be an object"),
        ({"model_details": {"owners": [{"email": "a@b"}]}}, "model_details.owners[0].email"),
        ({"model_details": {"version": {"number": "1"}}}, "model_details.version.number"),
        ({"considerations": {"limitations": [{"text": "x"}]}}, "considerations.limitations[0].text"),
        ({"model_parameters": {"data": {"name": "x"}}}, "model_parameters.data must be a list"),
    ],
)
def test_a_misshapen_model_card_is_explained(card, problem):
    problems = model_card_problems(card)

    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ("license: mit", "must be a JSON object"),
        ({"license": ["mit"]}, "license must be a string"),
        ({"license": "Apache 2.0"}, "lower-case identifier"),
        ({"tags": "healthcare"}, "tags must be a list"),
        ({"language": [1]}, "language must list strings"),
        ({"pipeline_tag": "Text Generation"}, "lower-case identifier"),
        ({"base_model": 7}, "base_model must be a string or a list"),
    ],
)
def test_wrong_hugging_face_metadata_is_explained(metadata, problem):
    problems = hf_metadata_problems(metadata)

    assert any(problem in p for p in problems), problems


# --- the model ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_generator_starts_with_an_empty_card_to_fill_in():
    generator = Generator.objects.create(name="writer")

    assert generator.model_card == model_card_template()
    assert generator.hf_metadata == hf_metadata_template()
    generator.full_clean()


@pytest.mark.django_db
def test_a_generator_using_patient_data_must_say_how():
    generator = Generator(name="triage-summariser", uses_patient_data=True)

    with pytest.raises(ValidationError) as raised:
        generator.full_clean()
    assert "patient_data_note" in raised.value.message_dict

    generator.patient_data_note = (
        "De-identified under a data processing agreement; no free text leaves the EU."
    )
    generator.full_clean()


@pytest.mark.django_db
def test_a_generator_with_records_cannot_be_deleted():
    generator = Generator.objects.create(name="writer")
    generation_record_submit(
        generator=generator,
        generator_version="1",
        prompt_sha256=SHA,
        input_sha256s=[],
        parameters={},
        output_sha256=SHA,
        output_media_type="text/html",
        generated_at=timezone.now(),
        external_id="e-1",
        actor=api_client_create(name="p", scopes=["records:write"], actor="test").client,
    )

    with pytest.raises(ProtectedError):
        generator.delete()


# --- the admin ----------------------------------------------------------------------------------


def form_data(**changes) -> dict:
    data = {
        "name": "leaflet-writer",
        "provider": "Example Health AI",
        "version": "3.1",
        "model_card": json.dumps(FULL_CARD),
        "hf_metadata": json.dumps({"license": "apache-2.0", "pipeline_tag": "text-generation"}),
        "intended_use": "First drafts of patient leaflets, approved by a pharmacist.",
        "data_sources": "Published leaflets; no patient records.",
        "patient_data_note": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def staff(client):
    user = User.objects.create_user("compliance", password="x" * 16, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["add_generator", "change_generator", "view_generator", "view_generationrecord"]
        )
    )
    client.force_login(user)
    return user


@pytest.mark.django_db
def test_staff_register_a_generator_with_its_model_card(staff, client):
    response = client.post("/admin/provenance/generator/add/", form_data())

    assert response.status_code == 302, response.content.decode()[:2000]
    generator = Generator.objects.get()
    assert generator.model_card == FULL_CARD
    assert generator.hf_metadata["pipeline_tag"] == "text-generation"
    page = client.get(f"/admin/provenance/generator/{generator.pk}/change/").content.decode()
    assert "&quot;model_details&quot;: {\n" in page  # indented for reading


@pytest.mark.django_db
def test_the_admin_names_whats_wrong_with_a_card(staff, client):
    response = client.post(
        "/admin/provenance/generator/add/",
        form_data(model_card=json.dumps({"model_details": {"overveiw": "x"}}), uses_patient_data="on"),
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "model_details.overveiw is not a Model Card Toolkit field" in page
    assert "Explain the legal basis" in page
    assert not Generator.objects.exists()


@pytest.mark.django_db
def test_generation_records_are_read_only_in_the_admin(staff, client):
    generator = Generator.objects.create(name="writer")
    record = generation_record_submit(
        generator=generator,
        generator_version="1",
        prompt_sha256=SHA,
        input_sha256s=[],
        parameters={"seed": 3},
        output_sha256=SHA,
        output_media_type="image/png",
        generated_at=timezone.now(),
        external_id="<script>alert(1)</script>",
        actor=api_client_create(name="p", scopes=["records:write"], actor="test").client,
    ).record

    listing = client.get("/admin/provenance/generationrecord/", {"q": SHA})
    assert listing.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing.content.decode()
    assert "<script>alert(1)</script>" not in listing.content.decode()
    detail = client.get(f"/admin/provenance/generationrecord/{record.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert client.get("/admin/provenance/generationrecord/add/").status_code == 403
    assert client.post(f"/admin/provenance/generationrecord/{record.pk}/delete/").status_code == 403
    assert GenerationRecord.objects.filter(pk=record.pk, external_id="<script>alert(1)</script>").exists()


@pytest.mark.django_db
def test_the_record_list_takes_a_fixed_number_of_queries(staff, client, django_assert_max_num_queries):
    actor = api_client_create(name="p", scopes=["records:write"], actor="test").client
    generators = [Generator.objects.create(name=f"model-{i}") for i in range(3)]
    for i in range(30):
        generation_record_submit(
            generator=generators[i % 3],
            generator_version="1",
            prompt_sha256=SHA,
            input_sha256s=[],
            parameters={},
            output_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
            output_media_type="image/png",
            generated_at=timezone.now(),
            external_id=f"e-{i}",
            actor=actor,
        )

    with django_assert_max_num_queries(12):
        response = client.get("/admin/provenance/generationrecord/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_staff_without_generator_permissions_cannot_edit_model_cards(client):
    user = User.objects.create_user("reviewer", password="x" * 16, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_generator"))
    client.force_login(user)
    generator = Generator.objects.create(name="writer")

    assert client.get("/admin/provenance/generator/").status_code == 200
    assert client.get("/admin/provenance/generator/add/").status_code == 403
    response = client.post(f"/admin/provenance/generator/{generator.pk}/change/", form_data(name="renamed"))
    assert response.status_code == 403
    generator.refresh_from_db()
    assert generator.name == "writer"
    assert client.get("/admin/provenance/generationrecord/").status_code == 403
