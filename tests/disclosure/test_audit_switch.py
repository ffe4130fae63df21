"""The audit switch: suppress synthetic content on the storefront, pause generation at ingest."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from disclosure.models import AuditSwitch
from disclosure.services import DisclosureError, audit_switch_set
from provenance.auth import api_client_create
from provenance.models import Generator, LogEntry

pytestmark = pytest.mark.django_db

RECORD = {
    "generator": "leaflet-writer",
    "generator_version": "1",
    "prompt_text": "p",
    "output_text": "<p>x</p>",
    "generated_at": "2026-01-01T00:00:00Z",
    "external_id": "x-1",
}


@pytest.fixture
def post_record(client):
    Generator.objects.create(name="leaflet-writer", provider="Example", version="1")
    token = api_client_create(name="pipeline", scopes=["records:write"], actor="test").token

    def post():
        return client.post(
            "/api/v1/provenance/records",
            data=json.dumps(RECORD),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

    return post


def test_every_change_is_logged_without_personal_data():
    officer = User.objects.create_user("officer.jane", email="jane@example.com")
    switch = audit_switch_set(store_code="default", surface="cms_block", mode="suppress", actor=officer)
    entry = LogEntry.objects.get(index=switch.log_index)
    assert entry.kind == "disclosure.switch"
    payload = json.loads(bytes(entry.data))
    assert payload["store_code"] == "default" and payload["mode"] == "suppress"
    assert b"jane" not in bytes(entry.data)
    assert switch.changed_by == officer


def test_setting_the_same_mode_again_logs_nothing_new():
    audit_switch_set(store_code="default", surface="cms_block", mode="suppress")
    count = LogEntry.objects.count()
    audit_switch_set(store_code="default", surface="cms_block", mode="suppress")
    assert LogEntry.objects.count() == count
    audit_switch_set(store_code="default", surface="cms_block", mode="show")
    assert LogEntry.objects.count() == count + 1


def test_it_rejects_an_unknown_mode_or_surface():
    with pytest.raises(DisclosureError):
        audit_switch_set(store_code="default", surface="cms_block", mode="off")
    with pytest.raises(DisclosureError):
        audit_switch_set(store_code="default", surface="banner")
    assert not AuditSwitch.objects.exists()


def test_pausing_generation_makes_ingest_answer_503_with_retry_after(post_record, settings):
    audit_switch_set(store_code="de", surface="cms_block", pause_generation=True)
    response = post_record()
    assert response.status_code == 503
    assert response["Retry-After"] == str(settings.DISCLOSURE_RETRY_AFTER_SECONDS)
    error = response.json()["error"]
    assert error["code"] == "ingest_paused"
    assert "'de'" in error["message"] and error["fields"] == {}

    audit_switch_set(store_code="de", surface="cms_block", pause_generation=False)
    assert post_record().status_code == 201


def test_a_paused_gate_still_refuses_unauthenticated_callers_first(client):
    audit_switch_set(store_code="de", surface="cms_block", pause_generation=True)
    response = client.post("/api/v1/provenance/records", data="{}", content_type="application/json")
    assert response.status_code == 401


def test_a_switch_change_reaches_the_api_at_once_on_this_server(client, catalog):
    url = "/api/v1/disclosures/default?blocks=insulin-storage"
    assert client.get(url).json()["blocks"]["insulin-storage"]["badges"][0]["hidden"] is False
    audit_switch_set(store_code="default", surface="cms_block", mode="suppress")
    assert client.get(url).json()["blocks"]["insulin-storage"]["badges"][0]["hidden"] is True
