"""The demo datasets: fictional, deterministic, each showing what its report finds."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.models import DatasetVersion, Report
from datasets.selectors import versions_below_threshold

pytestmark = pytest.mark.django_db


def test_the_demo_registers_four_datasets_whose_reports_find_their_flaw(
    settings, storage_dir, tmp_path, django_capture_on_commit_callbacks
):
    settings.DEBUG = True
    with django_capture_on_commit_callbacks(execute=True):
        call_command("dataset_demo", "--dir", str(tmp_path / "demo"))
    checks = {
        report.version.dataset.name: {f.get("rule") or f["check"] for f in report.findings}
        for report in Report.objects.select_related("version__dataset")
    }
    assert "exact_copies" in checks["demo-patients-copying"]
    assert "group_difference" in checks["demo-patients-older"]
    assert "clinician_not_double_booked" in checks["demo-appointments"]
    assert "test_card_numbers_only" in checks["demo-transactions"]
    assert len(versions_below_threshold()) == 4
    with django_capture_on_commit_callbacks(execute=True):
        call_command("dataset_demo", "--dir", str(tmp_path / "demo"))
    assert DatasetVersion.objects.count() == 4 and Report.objects.count() == 4  # deterministic: replays


def test_the_demo_refuses_to_run_outside_debug(settings, tmp_path):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="outside PROVENANT_DEBUG=1"):
        call_command("dataset_demo", "--dir", str(tmp_path))
