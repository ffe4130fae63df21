"""The Record of Processing Activities (GDPR Art. 30) from the inventory and the processing locations."""

from __future__ import annotations

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command

from lineage.models import DataProtection, ProcessingLocation
from lineage.ropa import ROPA_HEADER, ropa_rows
from provenance.models import Generator
from tests.lineage.conftest import dataset, facet, run_event

pytestmark = pytest.mark.django_db

EU_HEALTH = {"personalData": True, "healthData": True, "subjectsRegion": "eea", "storageCountry": "de"}


@pytest.fixture
def inventory(post_event, registry_item):
    source = dataset(
        "ehr.patients", provenant_dataProtection=facet(**EU_HEALTH, anonymisation="pseudonymised")
    )
    post_event(run_event("patient-synth", inputs=[source]))
    post_event(run_event("unrelated", inputs=[dataset("crm.leads", provenant_dataProtection=facet())]))
    DataProtection.objects.filter(dataset__name="ehr.patients").update(
        art6_basis="f", art9_condition="j", retention="5 years", dpia_reference="DPIA-7", controller="Clinic"
    )
    generator = registry_item.generator
    ProcessingLocation.objects.create(generator=generator, purpose="training", country="US")
    ProcessingLocation.objects.create(
        generator=generator, purpose="hosting", country="IN", mechanism="scc", scc_module="2"
    )
    other = Generator.objects.create(name='=HYPERLINK("x")', version="1")
    ProcessingLocation.objects.create(generator=other, purpose="hosting", country="FR")
    return registry_item


def test_each_source_meets_each_processing_location_of_the_generators_it_reaches(inventory):
    rows = ropa_rows()
    trained = [r for r in rows if r["source_dataset"].endswith("ehr.patients")]
    assert [(r["processing_purpose"], r["processing_country"]) for r in trained] == [
        ("Hosting / inference", "IN"),
        ("Training / fine-tuning", "US"),
    ]
    us = trained[1]
    assert us["activity"] == "Training / fine-tuning of generator patient-synth"
    assert (us["health_data_art9"], us["storage_country"], us["anonymisation"]) == (
        "yes",
        "DE",
        "Pseudonymised",
    )
    assert us["legal_basis_art6"].startswith("Art. 6(1)(f)") and us["condition_art9"].startswith(
        "Art. 9(2)(j)"
    )
    assert (us["retention"], us["dpia_reference"], us["controller"]) == ("5 years", "DPIA-7", "Clinic")
    assert us["transfer_finding"] == "no transfer mechanism for processing in US"
    assert trained[0]["transfer_finding"] == "" and trained[0]["scc_module"] == "2"
    [leads] = [r for r in rows if r["source_dataset"].endswith("crm.leads")]
    assert leads["activity"] == "Storage of source data" and leads["generator"] == ""
    [unreached] = [r for r in rows if r["generator"].startswith("=HYPERLINK")]
    assert unreached["source_dataset"] == "" and unreached["processing_country"] == "FR"


def test_the_command_writes_csv_with_formulas_defused_and_json(inventory, tmp_path):
    out = StringIO()
    call_command("lineage_ropa", stdout=out)
    table = list(csv.reader(StringIO(out.getvalue())))
    assert table[0] == ROPA_HEADER and len(table) == 1 + len(ropa_rows())
    assert any(row[ROPA_HEADER.index("generator")] == '\'=HYPERLINK("x")' for row in table)
    out = StringIO()
    call_command("lineage_ropa", "--format", "json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["columns"] == ROPA_HEADER and body["rows"] == ropa_rows()
    target = tmp_path / "ropa.csv"
    call_command("lineage_ropa", "--output", str(target), stderr=StringIO())
    assert target.read_text(encoding="utf-8").splitlines()[0].startswith("activity,source_dataset")


def test_an_empty_inventory_is_a_header_only_record(db):
    out = StringIO()
    call_command("lineage_ropa", stdout=out)
    assert out.getvalue().strip() == ",".join(ROPA_HEADER)
