"""POST /api/v1/lineage/batch: many events in one transaction, each answered on its own."""

from __future__ import annotations

import json
import uuid

import pytest

from lineage.models import LineageDataset, LineageEdge, LineageEvent, LineageRun
from tests.lineage.conftest import dataset, run_event

pytestmark = pytest.mark.django_db
URL = "/api/v1/lineage/batch"


@pytest.fixture
def post_batch(client, write_token):
    def post(body):
        return client.post(
            URL,
            data=json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {write_token}"},
        )

    return post


def test_a_batch_stores_every_valid_event_and_reports_the_invalid_ones(post_batch):
    run_id = str(uuid.uuid4())
    start = run_event("j", run_id=run_id, event_type="START", inputs=[dataset("a")])
    complete = run_event("j", run_id=run_id, time="2026-03-01T11:00:00Z", outputs=[dataset("b")])
    broken = run_event("j")
    broken["run"]["runId"] = "nope"
    response = post_batch({"events": [start, broken, complete, start]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["replayed"], body["invalid"]) == (2, 1, 1)
    assert [r["status"] for r in body["results"]] == ["created", "invalid", "created", "replayed"]
    assert body["results"][1]["error"]["error"]["fields"] == {
        "$.run.runId": ["'nope' is not a 'uuid' (OpenLineage RunEvent)"]
    }
    assert LineageEvent.objects.count() == 2 and LineageRun.objects.get().state == "COMPLETE"
    assert LineageDataset.objects.count() == 2 and LineageEdge.objects.count() == 2


def test_a_replayed_batch_changes_nothing(post_batch):
    events = [run_event(f"j{n}", inputs=[dataset(f"in{n}")], outputs=[dataset("shared")]) for n in range(20)]
    assert post_batch({"events": events}).json()["created"] == 20
    again = post_batch({"events": events}).json()
    assert (
        again["replayed"] == 20 and LineageEvent.objects.count() == 20 and LineageEdge.objects.count() == 40
    )


def test_a_batch_costs_the_same_queries_however_many_events(post_batch, django_assert_max_num_queries):
    def events(prefix, n):
        return [
            run_event(f"{prefix}{i}", inputs=[dataset(f"{prefix}in{i}")], outputs=[dataset(f"{prefix}o{i}")])
            for i in range(n)
        ]

    with django_assert_max_num_queries(40) as few:
        post_batch({"events": events("a", 5)})
    small = len(few.captured_queries)
    with django_assert_max_num_queries(small + 10):  # bulk writes go in chunks
        assert post_batch({"events": events("b", 200)}).json()["created"] == 200


@pytest.mark.parametrize("body", [[], {"events": "x"}, {"events": [], "more": 1}, {"records": []}])
def test_a_body_that_is_not_an_events_list_is_a_400(post_batch, body):
    assert post_batch(body).status_code == 400


def test_too_many_events_is_a_413_naming_the_limit(post_batch, settings):
    settings.LINEAGE_BATCH_MAX_EVENTS = 3
    response = post_batch({"events": [run_event("j") for _ in range(4)]})
    assert response.status_code == 413 and "at most 3 events" in response.json()["error"]["message"]
