"""The lineage admin: read-only jobs, runs and datasets; the inventory edited inline; a node's lineage
drawn as server-rendered SVG with a depth form that works without JavaScript, names escaped."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from lineage.models import DataProtection, LineageDataset, ProcessingLocation
from tests.lineage.conftest import dataset, facet, run_event

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'
GRAPH = "/admin/lineage/lineagedataset/graph/"


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    return client


@pytest.fixture
def lineage(post_event, registry_item):
    generator_facet = {"provenant_generator": facet(name="patient-synth")}
    post_event(run_event("fit", inputs=[dataset(HOSTILE), dataset("ehr.visits")], job_facets=generator_facet))
    return registry_item


def test_the_graph_page_draws_an_items_lineage_as_accessible_svg(admin_client, lineage):
    response = admin_client.get(GRAPH, {"node": f"item:{lineage.item.pk}", "depth": "5", "direction": "up"})
    assert response.status_code == 200
    body = response.content.decode()
    start = body.index('<svg xmlns="http://www.w3.org/2000/svg" role="img"')
    svg = body[start : body.index("</svg>", start)]
    assert 'role="img"' in svg and 'aria-labelledby="lineage-title lineage-desc"' in svg
    assert re.search(r"<title id=\"lineage-title\">Lineage of item ", svg) and "<desc" in svg
    assert svg.count("<rect") == 6 and svg.count("<line") == 5
    assert "generator: patient-synth 2.1" in svg
    assert HOSTILE not in body and "&lt;script&gt;" in body
    assert "<script" not in svg


def test_the_depth_form_limits_the_drawing(admin_client, lineage):
    body = admin_client.get(GRAPH, {"node": f"item:{lineage.item.pk}", "depth": "2"}).content.decode()
    assert body.count("<rect") == 3 and "2 levels" in body
    assert '<form method="get"' in body and 'name="depth"' in body


def test_an_unknown_node_is_a_form_error(admin_client):
    body = admin_client.get(GRAPH, {"node": "item:999"}).content.decode()
    assert "no item" in body and "lineage-title" not in body


def test_the_data_protection_entry_is_edited_inline_and_marked_as_from_the_admin(admin_client, post_event):
    post_event(run_event("j", inputs=[dataset("ehr.patients")]))
    stored = LineageDataset.objects.get()
    prefix = "protection"
    form = {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1",
        f"{prefix}-0-personal_data": "on",
        f"{prefix}-0-health_data": "on",
        f"{prefix}-0-subjects_region": "eea",
        f"{prefix}-0-storage_country": "DE",
        f"{prefix}-0-role": "controller",
        f"{prefix}-0-art6_basis": "e",
        f"{prefix}-0-art9_condition": "h",
        f"{prefix}-0-anonymisation": "pseudonymised",
        f"{prefix}-0-dataset": str(stored.pk),
    }
    response = admin_client.post(f"/admin/lineage/lineagedataset/{stored.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = DataProtection.objects.get()
    assert (entry.source, entry.art9_condition, entry.health_data) == ("admin", "h", True)
    from audits.models import AuditEvent

    recorded = list(AuditEvent.objects.values_list("action", "object_type", "object_id"))
    assert any(kind == "lineage.lineagedataset" and oid == str(stored.pk) for _, kind, oid in recorded), (
        recorded
    )


def test_processing_locations_show_whether_the_transfer_is_valid(admin_client, registry_item):
    ProcessingLocation.objects.create(generator=registry_item.generator, purpose="hosting", country="US")
    body = admin_client.get("/admin/lineage/processinglocation/").content.decode()
    assert "no transfer mechanism for processing in US" in body
