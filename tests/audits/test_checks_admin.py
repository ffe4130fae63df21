"""Admin of the coverage simulation and separation checks: who sees and who starts them, the
screenshot view, markers, and the dashboard tile."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audits.models import SeparationMarker, SeparationScan, SimulationCheck, SimulationRun
from audits.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_user):
    return make_user(Role.AUDITOR, "audrey")


@pytest.fixture
def finished_run(settings, tmp_path):
    settings.SIMULATION_DIR = tmp_path
    (tmp_path / "run-1").mkdir()
    (tmp_path / "run-1" / "00001-fail-x.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "secret.txt").write_text("no")
    run = SimulationRun.objects.create(
        status="succeeded", pages=1, checks=2, passed=1, failed=1, finished_at=timezone.now()
    )
    failed = SimulationCheck.objects.create(
        run=run,
        store_code="default",
        surface="product_image",
        ref="MED-1",
        file_path="/a/b/<b>x</b>.jpg",
        passed=False,
        reason="no badge on the image",
        screenshot="run-1/00001-fail-x.png",
    )
    sneaky = SimulationCheck.objects.create(
        run=run,
        store_code="default",
        surface="cms_page",
        ref="guide",
        passed=True,
        screenshot="../secret.txt",
    )
    return run, failed, sneaky


def test_an_auditor_reads_results_but_cannot_start_runs(client, auditor, finished_run):
    run, failed, _ = finished_run
    client.force_login(auditor)
    page = client.get("/admin/audits/simulationrun/").content.decode()
    assert "Run simulation now" not in page
    detail = client.get(f"/admin/audits/simulationrun/{run.pk}/change/").content.decode()
    assert "no badge on the image" in detail and "<b>x</b>" not in detail
    assert client.post("/admin/audits/simulationrun/run/").status_code == 403
    assert client.post("/admin/audits/separationscan/run/").status_code == 403
    assert (
        client.post(
            "/admin/audits/separationmarker/add/", {"kind": "email_domain", "value": "x.org"}
        ).status_code
        == 403
    )
    assert SimulationRun.objects.count() == 1


def test_a_reviewer_cannot_start_a_simulation(client, reviewer):
    client.force_login(reviewer)
    assert client.post("/admin/audits/simulationrun/run/").status_code == 403


def test_an_approver_starts_a_simulation_from_the_admin(
    client, approver, settings, django_capture_on_commit_callbacks
):
    settings.MAGENTO_DATABASE_URL = ""  # the run fails fast: it is recorded all the same
    client.force_login(approver)
    assert "Run simulation now" in client.get("/admin/audits/simulationrun/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/audits/simulationrun/run/", {"store": ""})
    assert response.status_code == 302
    run = SimulationRun.objects.get()
    assert (run.triggered_by, run.actor, run.status) == ("admin", "anton", "failed")


def test_an_unknown_store_view_is_refused(client, approver, django_capture_on_commit_callbacks):
    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/audits/simulationrun/run/", {"store": "<nope>"})
    assert not SimulationRun.objects.exists()


def test_an_approver_starts_a_separation_scan(client, approver, django_capture_on_commit_callbacks):
    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/admin/audits/separationscan/run/").status_code == 302
    scan = SeparationScan.objects.get()
    assert (scan.triggered_by, scan.actor, scan.status) == ("admin", "anton", "succeeded")


def test_screenshots_are_served_from_the_simulation_directory_only(client, auditor, finished_run):
    _, failed, sneaky = finished_run
    client.force_login(auditor)
    response = client.get(f"/admin/audits/simulationcheck/{failed.pk}/screenshot/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert client.get(f"/admin/audits/simulationcheck/{sneaky.pk}/screenshot/").status_code == 404


def test_screenshots_need_a_staff_permission(client, make_user, finished_run):
    _, failed, _ = finished_run
    client.force_login(make_user(None, "nobody"))
    assert client.get(f"/admin/audits/simulationcheck/{failed.pk}/screenshot/").status_code == 403


def test_default_markers_exist_and_approvers_edit_them(client, approver):
    assert SeparationMarker.objects.filter(kind="email_domain", value="example.com").exists()
    assert SeparationMarker.objects.filter(kind="payment_method", value="checkmo").exists()
    client.force_login(approver)
    response = client.post(
        "/admin/audits/separationmarker/add/",
        {"kind": "email_domain", "value": "@QA.Example.org", "is_active": "on", "note": ""},
    )
    assert response.status_code == 302
    assert SeparationMarker.objects.filter(value="qa.example.org", is_active=True).exists()


def test_the_dashboard_shows_the_latest_simulation(client, approver, finished_run):
    client.force_login(approver)
    page = client.get("/admin/workspace/dashboard/").content.decode()
    assert "Coverage simulation: 50% pass" in page
    assert "no badge on the image" in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "1 badge check(s) failed in the latest coverage simulation" in page


def test_the_quarterly_schedules_exist(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="audits.tasks.simulation_run_task")
    assert task.crontab.month_of_year == "1,4,7,10" and task.crontab.day_of_month == "1"
    assert PeriodicTask.objects.filter(task="audits.tasks.separation_scan_task").exists()
