"""POST /api/v1/lineage: OpenLineage events stored as jobs, runs, datasets and edges; idempotent."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest

from lineage.models import LineageDataset, LineageEdge, LineageEvent, LineageJob, LineageRun
from provenance.auth import api_client_create
from tests.lineage.conftest import PRODUCER, SCHEMA, dataset, facet, run_event

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (LineageEvent, LineageJob, LineageRun, LineageDataset, LineageEdge)
    )


def test_it_stores_a_run_event_as_jobs_runs_datasets_and_edges(post_event):
    event = run_event("train_model", inputs=[dataset("public.patients")], outputs=[dataset("models.weights")])
    response = post_event(event)
    assert response.status_code == 201, response.content
    assert response.json()["event_type"] == "RunEvent" and response.json()["created"] is True
    job = LineageJob.objects.get()
    source, output = (LineageDataset.objects.get(name=n) for n in ("public.patients", "models.weights"))
    assert (job.namespace, job.name) == ("airflow", "train_model")
    assert LineageRun.objects.get().run_id == event["run"]["runId"]
    assert set(LineageEdge.objects.values_list("source", "target")) == {
        (source.node, job.node),
        (job.node, output.node),
    }


def test_a_resent_event_changes_nothing(post_event):
    event = run_event("daily", inputs=[dataset("a")], outputs=[dataset("b")])
    assert post_event(event).status_code == 201
    before = counts()
    again = post_event(event)
    assert again.status_code == 200 and again.json()["created"] is False
    assert counts() == before


def test_the_same_event_with_members_reordered_is_a_replay(post_event):
    event = run_event("daily", inputs=[dataset("a")])
    post_event(event)
    reordered = json.dumps(dict(reversed(list(event.items()))))
    assert post_event(reordered.encode()).status_code == 200


def test_later_events_of_a_run_update_its_state_and_earlier_ones_do_not(post_event):
    run_id = str(uuid.uuid4())
    post_event(run_event("j", run_id=run_id, event_type="START", time="2026-03-01T10:00:00Z"))
    post_event(run_event("j", run_id=run_id, event_type="COMPLETE", time="2026-03-01T11:00:00Z"))
    post_event(run_event("j", run_id=run_id, event_type="RUNNING", time="2026-03-01T10:30:00Z"))
    run = LineageRun.objects.get()
    assert run.state == "COMPLETE" and LineageEvent.objects.count() == 3


def test_it_accepts_dataset_and_job_events(post_event):
    dataset_event = {
        "eventTime": "2026-03-01T10:00:00+01:00",
        "producer": PRODUCER,
        "schemaURL": SCHEMA + "DatasetEvent",
        "dataset": dataset("crm.customers", owner=facet(owners=[{"name": "team:crm"}])),
    }
    job_event = {
        "eventTime": "2026-03-01T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": SCHEMA + "JobEvent",
        "job": {"namespace": "dbt", "name": "model.customers"},
        "inputs": [dataset("crm.customers")],
        "outputs": [dataset("mart.customers")],
    }
    assert post_event(dataset_event).json()["event_type"] == "DatasetEvent"
    assert post_event(job_event).json()["event_type"] == "JobEvent"
    assert LineageDataset.objects.get(name="crm.customers").facets["owner"]["owners"] == [
        {"name": "team:crm"}
    ]
    assert LineageRun.objects.count() == 0 and LineageEdge.objects.count() == 2


def test_unknown_facets_are_kept_and_column_lineage_is_stored(post_event):
    columns = {"age": {"inputFields": [{"namespace": "postgres://warehouse", "name": "raw", "field": "dob"}]}}
    output = dataset("clean", columnLineage=facet(fields=columns), acme_quality=facet(score=0.93))
    post_event(run_event("clean", inputs=[dataset("raw")], outputs=[output]))
    stored = LineageDataset.objects.get(name="clean")
    assert stored.column_lineage == columns and stored.facets["acme_quality"]["score"] == 0.93


def test_a_facet_marked_deleted_is_removed(post_event):
    post_event(run_event("j", outputs=[dataset("d", acme=facet(x=1))]))
    post_event(run_event("j", outputs=[dataset("d", acme={**facet(), "_deleted": True})]))
    assert "acme" not in LineageDataset.objects.get(name="d").facets


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda e: e["run"].update(runId="not-a-uuid"), "$.run.runId"),
        (lambda e: e.update(eventType="FINISHED"), "$.eventType"),
        (lambda e: e.update(eventTime="yesterday"), "$.eventTime"),
        (lambda e: e.pop("producer"), "$"),
        (lambda e: e["job"].pop("name"), "$.job"),
        (lambda e: e["inputs"].append({"namespace": "x"}), "$.inputs[0]"),
        (
            lambda e: e["inputs"].append({"namespace": "x", "name": "y", "facets": {"f": {"a": 1}}}),
            "$.inputs[0].facets.f",
        ),
    ],
)
def test_schema_failures_answer_400_naming_the_path(post_event, change, path):
    event = run_event("j")
    change(event)
    response = post_event(event)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == [path]
    assert counts() == (0, 0, 0, 0, 0)


def test_malformed_json_and_non_objects_answer_400(post_event):
    assert post_event(b"{not json").json()["error"]["code"] == "parse_error"
    assert post_event([1, 2]).json()["error"]["fields"] == {"$": ["an OpenLineage event is a JSON object"]}


def test_a_million_edge_event_answers_413_with_the_limit(post_event, settings):
    settings.LINEAGE_MAX_BODY_BYTES = 64 * 1024
    huge = run_event("fanout", inputs=[dataset(f"t{i}") for i in range(1_000_000)])
    response = post_event(json.dumps(huge).encode())
    assert response.status_code == 413
    assert "65536 bytes" in response.json()["error"]["message"] and counts() == (0, 0, 0, 0, 0)


def test_gzip_bodies_are_read_and_bounded_after_inflating(post_event, settings):
    event = run_event("zipped", inputs=[dataset("a")])
    assert (
        post_event(gzip.compress(json.dumps(event).encode()), **{"Content-Encoding": "gzip"}).status_code
        == 201
    )
    settings.LINEAGE_MAX_BODY_BYTES = 2048
    bomb = gzip.compress(b'{"a": "' + b" " * 10_000_000 + b'"}')
    response = post_event(bomb, **{"Content-Encoding": "gzip"})
    assert response.status_code == 413


def test_it_refuses_requests_without_the_scope(post_event, client):
    reader = api_client_create(name="reader", scopes=["records:read"], actor="test").token
    assert post_event(run_event("j"), token=reader).status_code == 403
    anonymous = client.post("/api/v1/lineage", data="{}", content_type="application/json")
    assert anonymous.status_code in (401, 403)
    assert anonymous.json()["error"]["code"] in ("not_authenticated", "authentication_failed")
