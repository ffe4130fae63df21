"""GET /api/v1/lineage/graph and ``manage.py lineage_graph``: the lineage around a node."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.lineage.conftest import dataset, facet, run_event

pytestmark = pytest.mark.django_db

URL = "/api/v1/lineage/graph"


@pytest.fixture
def trained(post_event, registry_item):
    post_event(
        run_event(
            "fit",
            inputs=[dataset("ehr.patients"), dataset("ehr.visits")],
            job_facets={"provenant_generator": facet(name="patient-synth")},
        )
    )
    return registry_item


def test_the_api_answers_an_items_lineage(client, read_token, trained):
    response = client.get(
        URL,
        {"node": f"item:{trained.item.pk}", "depth": 5},
        headers={"Authorization": f"Bearer {read_token}"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["root"] == f"item:{trained.item.pk}" and body["truncated"] is False
    assert [n["kind"] for n in body["nodes"]] == ["item", "record", "generator", "job", "dataset", "dataset"]
    assert {"source": f"record:{trained.record.pk}", "target": f"item:{trained.item.pk}"} in body["edges"]


def test_depth_zero_is_the_node_alone(client, read_token, trained):
    response = client.get(
        URL,
        {"node": "generator:patient-synth", "depth": 0},
        headers={"Authorization": f"Bearer {read_token}"},
    )
    assert [n["id"] for n in response.json()["nodes"]] == [f"generator:{trained.generator.pk}"]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({}, 400, "node"),
        ({"node": "item:1", "depth": "-1"}, 400, "depth"),
        ({"node": "item:1", "direction": "sideways"}, 400, "direction"),
        ({"node": "widget:1"}, 404, None),
        ({"node": "item:999999"}, 404, None),
    ],
)
def test_bad_queries_answer_4xx_in_the_error_shape(client, read_token, query, status, field):
    response = client.get(URL, query, headers={"Authorization": f"Bearer {read_token}"})
    assert response.status_code == status
    assert list(response.json()["error"]["fields"]) == ([field] if field else [])


def test_it_needs_the_read_scope(client, write_token, trained):
    response = client.get(
        URL, {"node": f"item:{trained.item.pk}"}, headers={"Authorization": f"Bearer {write_token}"}
    )
    assert response.status_code == 403 and "lineage:read" in response.json()["error"]["message"]


def test_the_command_prints_the_tree_and_json(trained):
    out = StringIO()
    call_command("lineage_graph", f"item:{trained.item.pk}", stdout=out)
    text = out.getvalue()
    assert "generator patient-synth 2.1" in text and "dataset postgres://warehouse/ehr.visits" in text
    assert text.rstrip().endswith("6 nodes, 5 edges")
    out = StringIO()
    call_command(
        "lineage_graph",
        "dataset:postgres://warehouse/ehr.patients",
        "--direction",
        "down",
        "--json",
        stdout=out,
    )
    assert f"item:{trained.item.pk}" in {n["id"] for n in json.loads(out.getvalue())["nodes"]}


def test_the_command_refuses_unknown_nodes():
    with pytest.raises(CommandError, match="no item"):
        call_command("lineage_graph", "item:424242")
