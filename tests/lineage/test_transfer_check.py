"""The transfer check: EU personal or health data not assessed anonymous, reaching processing outside
the EEA without a valid mechanism, is a finding on every downstream item."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lineage.models import DataProtection, LineageDataset, ProcessingLocation
from lineage.transfers import location_problem, transfer_check
from tests.lineage.conftest import dataset, facet, make_registry_item, run_event

pytestmark = pytest.mark.django_db

EU_HEALTH = {"personalData": True, "healthData": True, "subjectsRegion": "eea", "storageCountry": "de"}


@pytest.fixture
def trained_on_eu_patients(post_event, registry_item):
    source = dataset(
        "ehr.patients", provenant_dataProtection=facet(**EU_HEALTH, anonymisation="pseudonymised")
    )
    post_event(run_event("patient-synth", inputs=[source]))
    return registry_item


def locate(generator, country, mechanism="none", **fields):
    return ProcessingLocation.objects.create(
        generator=generator, purpose="training", country=country, mechanism=mechanism, **fields
    )


def test_the_data_protection_facet_fills_the_inventory(trained_on_eu_patients):
    entry = DataProtection.objects.get()
    assert (entry.health_data, entry.storage_country, entry.anonymisation, entry.source) == (
        True,
        "DE",
        "pseudonymised",
        "facet",
    )


def test_a_malformed_data_protection_facet_is_a_400(post_event):
    bad = dataset("x", provenant_dataProtection=facet(subjectsRegion="mars"))
    response = post_event(run_event("j", inputs=[bad]))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [
        "$.inputs[0].facets.provenant_dataProtection.subjectsRegion"
    ]


def test_an_admin_edited_entry_is_not_overwritten_by_a_facet(post_event, trained_on_eu_patients):
    DataProtection.objects.update(source="admin", anonymisation="assessed_anonymous")
    source = dataset("ehr.patients", provenant_dataProtection=facet(**EU_HEALTH, anonymisation="raw"))
    post_event(run_event("patient-synth", inputs=[source], time="2026-03-02T10:00:00Z"))
    assert DataProtection.objects.get().anonymisation == "assessed_anonymous"


def test_training_in_the_us_without_a_mechanism_is_a_finding_on_every_downstream_item(trained_on_eu_patients):
    second = make_registry_item(n=2)
    locate(trained_on_eu_patients.generator, "US")
    (finding,) = transfer_check()
    assert finding.problem == "no transfer mechanism for processing in US"
    assert finding.items == [f"item:{trained_on_eu_patients.item.pk}", f"item:{second.item.pk}"]
    assert finding.path[0] == LineageDataset.objects.get().node and finding.path[-1].startswith("generator:")


@pytest.mark.parametrize(
    ("country", "mechanism", "fields", "problem"),
    [
        ("FR", "none", {}, None),
        ("JP", "adequacy", {}, None),
        ("BR", "adequacy", {}, "BR has no adequacy decision"),
        ("US", "adequacy", {}, "not certified under the EU-U.S. Data Privacy Framework"),
        ("US", "adequacy", {"dpf_certified": True}, None),
        ("IN", "scc", {}, "standard contractual clauses without a module"),
        ("IN", "scc", {"scc_module": "2"}, None),
        ("IN", "bcr", {"reference": "BCR-2024-7"}, None),
        ("IN", "art49", {}, "Art. 49 derogation without naming which"),
    ],
)
def test_each_mechanism_is_judged(registry_item, country, mechanism, fields, problem):
    location = locate(registry_item.generator, country, mechanism, **fields)
    found = location_problem(location)
    assert found is None if problem is None else problem in found


def test_data_assessed_anonymous_or_from_outside_the_eu_is_no_finding(trained_on_eu_patients):
    locate(trained_on_eu_patients.generator, "US")
    DataProtection.objects.update(anonymisation="assessed_anonymous", assessed_by="DPO")
    assert transfer_check() == []
    DataProtection.objects.update(anonymisation="raw", subjects_region="non_eea")
    assert transfer_check() == []


def test_a_cycle_on_the_path_ends(post_event, trained_on_eu_patients):
    post_event(run_event("loop", inputs=[dataset("ehr.patients")], outputs=[dataset("ehr.derived")]))
    post_event(run_event("loop_back", inputs=[dataset("ehr.derived")], outputs=[dataset("ehr.patients")]))
    locate(trained_on_eu_patients.generator, "CN")
    assert len(transfer_check()) == 1


def test_the_command_exits_non_zero_on_findings_and_prints_json(trained_on_eu_patients):
    call_command("transfer_check", stdout=StringIO())
    locate(trained_on_eu_patients.generator, "US")
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("transfer_check", "--json", stdout=out)
    assert raised.value.returncode == 1
    body = json.loads(out.getvalue())
    assert body["adequacy_list"]["as_of"] and body["findings"][0]["items"] == [
        f"item:{trained_on_eu_patients.item.pk}"
    ]


def test_the_dashboard_names_the_findings_and_links_the_items(client, trained_on_eu_patients):
    from django.contrib.auth.models import User

    locate(trained_on_eu_patients.generator, "US")
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    page = client.get("/admin/workspace/dashboard/").content.decode()
    assert "1 cross-border transfer finding(s) on 1 item(s)" in page
    assert f"?id__in={trained_on_eu_patients.item.pk}" in page


def test_the_review_queue_warns_of_the_findings_and_filters_their_reviews(client, trained_on_eu_patients):
    from django.contrib.auth.models import User

    from audits.services import review_open

    other = make_registry_item("image-gen", n=7)
    review_open(content_item=trained_on_eu_patients.item)
    review_open(content_item=other.item)
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw"))
    assert "cross-border transfer finding" not in client.get("/admin/audits/review/").content.decode()
    locate(trained_on_eu_patients.generator, "US")
    page = client.get("/admin/audits/review/").content.decode()
    assert "1 cross-border transfer finding(s) (GDPR Chapter V) on generator(s) patient-synth" in page
    assert "?transfer=findings&amp;queue=all" in page
    filtered = client.get("/admin/audits/review/?transfer=findings&queue=all").content.decode()
    assert trained_on_eu_patients.item.identifier in filtered and other.item.identifier not in filtered
