"""POST /api/v1/consent/events: the ledger, the log anchor, replays, order and bad input."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from consent.models import ConsentEvent, CurrentConsent
from provenance.models import LogEntry
from tests.consent.conftest import SUBJECT_KEY, event

pytestmark = pytest.mark.django_db


def test_an_event_is_kept_with_the_subject_keyed_hashed_and_anchored_in_the_log(post):
    response = post(event(subject="cmp-secret-id-77"))

    assert response.status_code == 201, response.content
    body = response.json()
    stored = ConsentEvent.objects.get()
    expected = hmac.new(SUBJECT_KEY.encode(), b"cmp-secret-id-77", hashlib.sha256).hexdigest()
    assert stored.subject_hash == expected
    assert body == {"event": stored.sha256, "created": True, "log_index": stored.log_index}
    entry = LogEntry.objects.get(index=stored.log_index)
    assert entry.kind == "consent.event"
    assert set(json.loads(bytes(entry.data))) == {"kind", "time", "event"}
    assert json.loads(bytes(entry.data))["event"] == stored.sha256


def test_the_raw_subject_is_stored_nowhere(post):
    post(event(subject="cmp-secret-id-77"))

    rows = [json.dumps(list(r), default=str) for r in ConsentEvent.objects.values_list()]
    rows += [json.dumps(list(r), default=str) for r in CurrentConsent.objects.values_list()]
    rows += [bytes(e.data).decode() for e in LogEntry.objects.all()]
    assert rows and not any("cmp-secret-id-77" in row for row in rows)


def test_a_replay_answers_200_and_changes_nothing(post):
    first = post(event()).json()
    again = post(event(occurred_at="2026-03-01T11:00:00+01:00"))  # the same instant, written differently

    assert again.status_code == 200
    assert again.json() == {**first, "created": False}
    assert ConsentEvent.objects.count() == 1
    assert LogEntry.objects.filter(kind="consent.event").count() == 1


def test_two_subjects_choosing_alike_at_the_same_instant_are_two_events(post):
    post(event(subject="a-1"))
    post(event(subject="b-2"))

    assert ConsentEvent.objects.count() == 2
    assert CurrentConsent.objects.count() == 2


def test_the_later_event_wins_whatever_order_they_arrive_in(post):
    post(event(state="withdrawn", occurred_at="2026-03-02T09:00:00Z", policy_version="2026-02"))
    post(event(state="granted", occurred_at="2026-03-01T09:00:00Z"))

    current = CurrentConsent.objects.get()
    assert (current.state, current.policy_version) == ("withdrawn", "2026-02")
    assert ConsentEvent.objects.count() == 2  # the earlier one is still in the ledger

    post(event(state="granted", occurred_at="2026-03-03T09:00:00Z", policy_version="2026-03"))
    current.refresh_from_db()
    assert (current.state, current.policy_version) == ("granted", "2026-03")


def test_at_the_same_instant_a_withdrawal_wins_in_either_order(post):
    post(event(subject="x-1", state="granted"))
    post(event(subject="x-1", state="withdrawn"))
    post(event(subject="y-2", state="withdrawn"))
    post(event(subject="y-2", state="granted"))

    assert set(CurrentConsent.objects.values_list("state", flat=True)) == {"withdrawn"}


def test_purposes_are_kept_apart(post):
    post(event(purpose="personalisation", state="granted"))
    post(event(purpose="analytics", state="withdrawn"))

    assert dict(CurrentConsent.objects.values_list("purpose", "state")) == {
        "personalisation": "granted",
        "analytics": "withdrawn",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"state": "maybe"}, "state"),
        ({"purpose": "Personalisation!"}, "purpose"),
        ({"subject": "jane@example.org"}, "subject"),
        ({"subject": "cmp-1 "}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"occurred_at": "2026-03-01T10:00:00"}, "occurred_at"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"policy_version": ""}, "policy_version"),
        ({"source": "banner\x00"}, "source"),
        ({"extra": "x"}, "extra"),
    ],
)
def test_bad_events_are_refused_naming_the_field_and_nothing_is_kept(post, change, field):
    response = post(event(**change))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert not ConsentEvent.objects.exists() and not LogEntry.objects.exists()


def test_a_missing_field_is_refused(post):
    body = event()
    del body["policy_version"]

    response = post(body)

    assert response.status_code == 400 and "policy_version" in response.json()["error"]["fields"]


@pytest.mark.parametrize("body", ["[1]", "{", '"text"', "null"])
def test_malformed_bodies_are_refused(post, body):
    response = post(body)

    assert response.status_code == 400
    assert "error" in response.json()


def test_without_the_store_secret_nothing_is_kept(post, settings):
    settings.CONSENT_SUBJECT_KEY = ""

    response = post(event())

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "consent_not_configured"
    assert not ConsentEvent.objects.exists()


def test_a_token_without_the_write_scope_is_refused(post, read_token):
    response = post(event(), token=read_token)

    assert response.status_code == 403
    assert "consent:write" in response.json()["error"]["message"]
    assert not ConsentEvent.objects.exists()


def test_the_ledger_is_append_only():
    from django.core.exceptions import ValidationError
    from django.utils.dateparse import parse_datetime

    from consent.services import ConsentEventInput, consent_events_record

    consent_events_record(
        events=[
            ConsentEventInput(
                subject="s-1",
                purpose="personalisation",
                state="granted",
                policy_version="1",
                source="test",
                occurred_at=parse_datetime("2026-03-01T10:00:00Z"),
            )
        ],
        client="test",
    )
    stored = ConsentEvent.objects.get()
    stored.state = "withdrawn"
    with pytest.raises(ValidationError):
        stored.save()
    with pytest.raises(ValidationError):
        stored.delete()


def test_the_log_still_verifies_with_consent_entries(post):
    from django.core.management import call_command

    post(event())
    post(event(subject="other-1"))

    call_command("provenance_verify", stdout=__import__("io").StringIO())  # raises on a finding


def _ledger_findings() -> list[tuple[str, str]]:
    from provenance.integrity import integrity_check

    report = integrity_check()
    assert report.extra_checked["consent events"] == ConsentEvent.objects.count()
    return [(f.code, f.subject) for f in report.findings]


def test_provenance_verify_names_a_consent_event_rewritten_behind_the_api(post):
    post(event())
    post(event(subject="other-1"))
    assert _ledger_findings() == []
    first = ConsentEvent.objects.order_by("pk").first()

    ConsentEvent.objects.filter(pk=first.pk).update(state="withdrawn")  # a direct write, not the API

    assert _ledger_findings() == [("consent_event_changed", f"consent event {first.pk}")]


def test_provenance_verify_names_a_logged_consent_event_whose_row_is_gone(post):
    from django.db import connection

    post(event())
    gone = ConsentEvent.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM consent_currentconsent")
        cursor.execute("DELETE FROM consent_consentevent")

    assert _ledger_findings() == [("consent_event_missing", f"entry {gone.log_index}")]
