"""Jobs map to generators and output datasets to registered datasets and generation records, so an
item's lineage runs back to the source datasets its generator was trained on."""

from __future__ import annotations

import pytest

from lineage.models import LineageDataset, LineageJob
from lineage.selectors import lineage_graph, node_resolve
from tests.lineage.conftest import dataset, facet, run_event

pytestmark = pytest.mark.django_db


def test_a_job_named_by_the_generator_facet_trains_that_generator(post_event, registry_item):
    generator_facet = {"provenant_generator": facet(name="patient-synth")}
    post_event(run_event("fit_model", inputs=[dataset("ehr.patients")], job_facets=generator_facet))
    job = LineageJob.objects.get()
    assert job.generator == registry_item.generator
    graph = lineage_graph(node=f"item:{registry_item.item.pk}")
    labels = {node.kind: node.label for node in graph.nodes.values()}
    assert labels["dataset"] == "postgres://warehouse/ehr.patients"
    assert set(graph.nodes) == {
        f"item:{registry_item.item.pk}",
        f"record:{registry_item.record.pk}",
        f"generator:{registry_item.generator.pk}",
        job.node,
        LineageDataset.objects.get().node,
    }


def test_a_job_with_the_generators_name_is_its_training_job(post_event, registry_item):
    post_event(run_event("patient-synth", inputs=[dataset("ehr.visits")]))
    assert LineageJob.objects.get().generator == registry_item.generator


def test_an_output_dataset_maps_to_a_generation_record_by_its_sha256(post_event, registry_item):
    output = dataset(
        "exports.guide", provenant_sha256=facet(sha256=registry_item.record.output_sha256.upper())
    )
    post_event(run_event("publish", outputs=[output]))
    stored = LineageDataset.objects.get()
    assert stored.generation_record == registry_item.record
    upstream = lineage_graph(node=stored.node)
    assert f"generator:{registry_item.generator.pk}" in upstream.nodes


def test_a_malformed_sha256_facet_is_a_400_and_stores_nothing(post_event):
    response = post_event(run_event("publish", outputs=[dataset("x", provenant_sha256=facet(sha256="abc"))]))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["$.outputs[0].facets.provenant_sha256.sha256"]
    assert LineageJob.objects.count() == 0


def test_cycles_are_walked_once(post_event):
    post_event(run_event("forward", inputs=[dataset("a")], outputs=[dataset("b")]))
    post_event(run_event("back", inputs=[dataset("b")], outputs=[dataset("a")]))
    a = node_resolve("dataset:postgres://warehouse/a")
    for direction in ("up", "down", "both"):
        graph = lineage_graph(node=a, direction=direction)
        assert len(graph.nodes) == 4 and len(graph.edges) == 4


def test_depth_limits_the_walk(post_event):
    for n in range(5):
        post_event(run_event(f"step{n}", inputs=[dataset(f"d{n}")], outputs=[dataset(f"d{n + 1}")]))
    end = node_resolve("dataset:postgres://warehouse/d5")
    assert len(lineage_graph(node=end, depth=2).nodes) == 3
    assert len(lineage_graph(node=end).nodes) == 11


def test_each_level_costs_the_same_queries_however_wide(
    post_event, registry_item, django_assert_max_num_queries
):
    generator_facet = {"provenant_generator": facet(name="patient-synth")}
    post_event(run_event("fit", inputs=[dataset(f"src{i}") for i in range(3)], job_facets=generator_facet))
    with django_assert_max_num_queries(20) as narrow:
        lineage_graph(node=f"item:{registry_item.item.pk}")
    narrow_count = len(narrow.captured_queries)
    post_event(run_event("fit", inputs=[dataset(f"src{i}") for i in range(300)], job_facets=generator_facet))
    with django_assert_max_num_queries(narrow_count):
        graph = lineage_graph(node=f"item:{registry_item.item.pk}")
    assert len(graph.nodes) == 304


def test_downstream_of_a_source_dataset_reaches_the_items(post_event, registry_item):
    post_event(run_event("patient-synth", inputs=[dataset("ehr.patients")]))
    source = node_resolve("dataset:postgres://warehouse/ehr.patients")
    graph = lineage_graph(node=source, direction="down")
    assert f"item:{registry_item.item.pk}" in graph.nodes


def test_the_graph_is_cut_at_the_node_limit(post_event):
    post_event(run_event("fan", inputs=[dataset(f"s{i}") for i in range(30)], outputs=[dataset("out")]))
    graph = lineage_graph(node=node_resolve("dataset:postgres://warehouse/out"), max_nodes=10)
    assert graph.truncated and len(graph.nodes) == 10
    assert all(s in graph.nodes and t in graph.nodes for s, t in graph.edges)
