"""Audit-package files of the coverage simulation and the separation checks."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from audits.checks.evidence import coverage_simulation_package_files, separation_package_files
from audits.models import SeparationFinding, SeparationScan, SimulationCheck, SimulationRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(settings, tmp_path):
    settings.SIMULATION_DIR = tmp_path
    (tmp_path / "run-1").mkdir()
    (tmp_path / "run-1" / "00001-fail-x.png").write_bytes(b"\x89PNG fail")
    (tmp_path / "run-1" / "00002-pass-y.png").write_bytes(b"\x89PNG pass")
    run = SimulationRun.objects.create(
        status="succeeded", pages=2, checks=3, passed=1, failed=2, finished_at=timezone.now()
    )
    SimulationCheck.objects.create(
        run=run,
        store_code="default",
        surface="product_image",
        ref="<script>x</script>",
        file_path="/a/b/c.jpg",
        url="https://shop.example/x.html",
        passed=False,
        reason="no badge on the image",
        screenshot="run-1/00001-fail-x.png",
    )
    SimulationCheck.objects.create(
        run=run,
        store_code="default",
        surface="cms_page",
        ref="=HYPERLINK(1)",
        passed=True,
        accessible_name="AI-generated",
        screenshot="run-1/00002-pass-y.png",
    )
    SimulationCheck.objects.create(
        run=run,
        store_code="de",
        surface="product_image",
        ref="MED-2",
        passed=False,
        reason="hidden",
        screenshot="../../etc/passwd",
    )
    return run


def test_the_latest_run_is_packaged_as_json_csv_and_html(run):
    files = coverage_simulation_package_files()
    data = json.loads(files["simulation/results.json"])
    assert data["run"]["id"] == run.pk and data["run"]["checks"] == 3 and data["run"]["passed"] == 1
    assert [c["result"] for c in data["checks"]] == ["FAIL", "FAIL", "PASS"]
    rows = list(csv.DictReader(io.StringIO(files["simulation/results.csv"].decode())))
    assert {r["ref"] for r in rows} == {"<script>x</script>", "'=HYPERLINK(1)", "MED-2"}
    html = files["simulation/results.html"].decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    # Screenshots of failures only, and nothing outside the simulation directory.
    shots = sorted(k for k in files if k.startswith("simulation/screenshots/"))
    assert shots == ["simulation/screenshots/00001-fail-x.png"]
    assert files[shots[0]] == b"\x89PNG fail"


def test_a_store_views_package_holds_only_its_checks(run):
    data = json.loads(coverage_simulation_package_files(store_code="de")["simulation/results.json"])
    assert [c["ref"] for c in data["checks"]] == ["MED-2"]
    assert data["run"]["failed"] == 1


def test_no_run_in_the_period_says_so(run):
    files = coverage_simulation_package_files(since=date.today() + timedelta(days=1))
    assert list(files) == ["simulation/results.json"]
    assert json.loads(files["simulation/results.json"])["run"] is None


def test_separation_findings_are_packaged_masked(db):
    scan = SeparationScan.objects.create(status="succeeded", rows_scanned=10, findings_count=1)
    SeparationFinding.objects.create(
        scan=scan,
        table="customer_entity",
        row_id="4",
        store_id=1,
        marker_kind="email_domain",
        marker_value="example.com",
        masked_value="c***@example.com",
        detail={"markers": ["email_domain example.com"]},
    )
    files = separation_package_files()
    assert set(files) == {"separation/findings.json", "separation/findings.csv", "separation/findings.html"}
    data = json.loads(files["separation/findings.json"])
    assert data["scan"]["findings"] == 1
    assert data["findings"][0]["masked_value"] == "c***@example.com"
    assert "c***@example.com" in files["separation/findings.csv"].decode()
    assert (
        json.loads(
            separation_package_files(since=date.today() + timedelta(days=1))["separation/findings.json"]
        )["scan"]
        is None
    )
