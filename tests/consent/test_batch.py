"""POST /api/v1/consent/events/batch: every event answered on its own, in one transaction."""

from __future__ import annotations

import pytest

from consent.models import ConsentEvent, CurrentConsent
from provenance.models import LogEntry
from tests.consent.conftest import event

pytestmark = pytest.mark.django_db
BATCH = "/api/v1/consent/events/batch"


def test_a_batch_records_each_event_and_reports_the_invalid_and_the_replayed(post):
    events = [
        event(subject="a-1"),
        event(subject="b-2", state="maybe"),
        event(subject="a-1"),
        event(subject="c-3"),
    ]

    response = post({"events": events}, path=BATCH)

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["replayed"], body["invalid"]) == (2, 1, 1)
    assert [r["status"] for r in body["results"]] == ["created", "invalid", "replayed", "created"]
    assert "state" in body["results"][1]["error"]["error"]["fields"]
    assert body["results"][2]["event"] == body["results"][0]["event"]
    assert ConsentEvent.objects.count() == 2
    assert LogEntry.objects.filter(kind="consent.event").count() == 2


def test_within_a_batch_the_later_event_wins_whatever_its_position(post):
    events = [
        event(state="withdrawn", occurred_at="2026-03-05T00:00:00Z"),
        event(state="granted", occurred_at="2026-03-04T00:00:00Z"),
    ]

    post({"events": events}, path=BATCH)

    assert CurrentConsent.objects.get().state == "withdrawn"


def test_a_replayed_batch_changes_nothing(post):
    events = [event(subject=f"s-{n}") for n in range(20)]
    post({"events": events}, path=BATCH)

    again = post({"events": events}, path=BATCH).json()

    assert (again["created"], again["replayed"]) == (0, 20)
    assert ConsentEvent.objects.count() == 20


def test_a_batch_over_the_limit_is_refused_whole(post, settings):
    settings.CONSENT_BATCH_MAX_EVENTS = 3

    response = post({"events": [event(subject=f"s-{n}") for n in range(4)]}, path=BATCH)

    assert response.status_code == 413
    assert not ConsentEvent.objects.exists()


@pytest.mark.parametrize("body", [{"events": []}, {"events": {}}, {"records": []}, []])
def test_a_body_that_is_not_a_list_of_events_is_refused(post, body):
    response = post(body, path=BATCH)

    assert response.status_code == 400
    assert "error" in response.json()
