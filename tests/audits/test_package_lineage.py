"""The audit package's lineage documents: the Art. 30 record of processing and the data-flow diagram
drawn from the recorded lineage, with the separation points and the transfer findings marked."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.db import transaction

from lineage.models import DataProtection, ProcessingLocation
from lineage.ropa import ROPA_HEADER
from lineage.services import lineage_event_ingest
from provenance.checkpoints import checkpoint_sign
from provenance.log import log_append_many
from provenance.models import ContentItem, Generator
from provenance.records import item_origin_payload
from provenance.standards.notes import generate_signer
from tests.lineage.conftest import dataset, facet, make_registry_item, run_event

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'
EU_HEALTH = {"personalData": True, "healthData": True, "subjectsRegion": "eea", "storageCountry": "de"}


@pytest.fixture
def lineage(settings):
    """A generator trained on EU patient data (and in the US without a mechanism), one item it made,
    logged, and a signed checkpoint."""
    _, private_key = generate_signer("provenant.test/log")
    settings.LOG_SIGNING_KEY = private_key
    settings.LOG_ORIGIN = "provenant.test/log"
    settings.TSA_URL = ""
    made = make_registry_item()
    source = dataset(
        "ehr.patients", provenant_dataProtection=facet(**EU_HEALTH, anonymisation="pseudonymised")
    )
    lineage_event_ingest(event=run_event("patient-synth", inputs=[source, dataset(HOSTILE)]))
    ProcessingLocation.objects.create(generator=made.generator, purpose="training", country="US")
    with transaction.atomic():
        [entry] = log_append_many(entries=[("item.origin", item_origin_payload(made.item))])
        ContentItem.objects.filter(pk=made.item.pk).update(latest_log_index=entry.index)
    checkpoint_sign()
    return made


def build(tmp_path) -> zipfile.ZipFile:
    out = tmp_path / "p.zip"
    call_command("audit_package", "--out", str(out), "--quiet")
    return zipfile.ZipFile(out)


def test_the_package_carries_the_record_of_processing_hashed_in_its_manifest(lineage, tmp_path):
    archive = build(tmp_path)
    name = "registers/record-of-processing.csv"
    rows = list(csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))
    assert list(rows[0]) == ROPA_HEADER
    [us] = [r for r in rows if r["source_dataset"].endswith("ehr.patients")]
    assert us["processing_country"] == "US" and us["health_data_art9"] == "yes"
    assert us["transfer_finding"] == "no transfer mechanism for processing in US"
    manifest = json.loads(archive.read("manifest.json"))["files"]
    assert name in manifest
    assert name in archive.read("index.html").decode()


def test_the_verifier_notices_a_changed_record_of_processing(lineage, tmp_path):
    archive = build(tmp_path)
    unpacked = tmp_path / "unpacked"
    archive.extractall(unpacked)
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "verify.py"], cwd=unpacked, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    target = unpacked / "registers/record-of-processing.csv"
    target.write_text(target.read_text(encoding="utf-8").replace("US", "FR"), encoding="utf-8")
    bad = subprocess.run([sys.executable, "verify.py"], cwd=unpacked, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "record-of-processing.csv" in bad.stdout


def test_the_data_flow_is_drawn_from_the_lineage_with_findings_and_separation_points(lineage, tmp_path):
    Generator.objects.create(name="image-gen", version="3", uses_patient_data=True)
    svg = build(tmp_path).read("data-flow.svg").decode()
    assert "warehouse/ehr.patients" in svg  # a source dataset as received over OpenLineage
    assert "airflow/patient-synth" in svg  # its training job
    assert "patient-synth 2.1" in svg and "image-gen 3" in svg
    assert "separation point 1" in svg and "separation point 2" in svg
    assert 'data-finding="true"' in svg and "✕ patient-synth" in svg
    assert "Transfer finding:" in svg and "no transfer mechanism for processing in US" in svg
    assert 'marker-end="url(#arrow-red)"' in svg  # the path to the finding
    assert "EU personal data, not assessed anonymous" in svg
    assert "USES PATIENT DATA" in svg
    assert "<script" not in svg and "&lt;script&gt;" in svg


def test_without_lineage_the_diagram_says_so(lineage, tmp_path):
    from lineage.models import LineageDataset, LineageEdge, LineageJob

    LineageEdge.objects.all().delete()
    DataProtection.objects.all().delete()
    LineageDataset.objects.all().delete()
    LineageJob.objects.all().delete()
    svg = build(tmp_path).read("data-flow.svg").decode()
    assert "(no lineage received)" in svg and 'data-finding="true"' not in svg
