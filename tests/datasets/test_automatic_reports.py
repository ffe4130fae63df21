"""Reports run as a Celery task after registration (eagerly without a broker) and again when a kind's
thresholds change; each version's latest report shows on the dataset's admin page."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from audits.roles import Role
from datasets.models import Report, ThresholdSet
from datasets.selectors import thresholds_for
from datasets.services import DatasetError, dataset_register, reference_create, thresholds_set
from datasets.tasks import dataset_report_task
from provenance.auth import api_client_create
from tests.datasets.conftest import patients

pytestmark = pytest.mark.django_db
ROLES = {"patient_id": "identifier", "age": "sensitive", "sex": "sensitive"}


@pytest.fixture
def reference(write_csv, generator, storage_dir):
    return reference_create(name="clinic", file_path=write_csv(patients(600, seed=1, prefix="r"), "ref.csv"))


def register(path, name="auto", kind="patients", **kwargs):
    with open(path, "rb") as stream:
        return dataset_register(
            stream=stream, filename=path, name=name, kind=kind, generator="patient-synth", **kwargs
        )


def test_registering_with_a_reference_runs_a_report_after_commit(
    reference, write_csv, django_capture_on_commit_callbacks
):
    path = write_csv(patients(600, seed=2), "a.csv")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        version = register(path, roles=ROLES, reference="clinic").version
    assert len(callbacks) == 1
    [report] = Report.objects.filter(version=version)
    assert report.scores["thresholds"]["version"] is None  # the defaults: no threshold set stored
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert register(path, roles=ROLES, reference="clinic").created is False
    assert callbacks == [] and Report.objects.count() == 1  # a replay runs nothing


def test_a_later_version_is_reported_against_the_dataset_reference(
    reference, write_csv, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        register(write_csv(patients(600, seed=2), "a.csv"), roles=ROLES, reference="clinic")
        second = register(write_csv(patients(600, seed=3), "b.csv")).version
    assert second.number == 2 and Report.objects.filter(version=second).count() == 1


def test_without_a_reference_the_integrity_rules_alone_are_reported(
    generator, storage_dir, write_csv, django_capture_on_commit_callbacks, capsys
):
    from audits.models import Incident
    from datasets.demo import transactions

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        path = write_csv(transactions(60, seed=2, real_looking=2), "tx.csv")
        version = register(path, kind="transactions").version
    assert len(callbacks) == 1
    [report] = Report.objects.filter(version=version)
    assert report.reference is None and report.scores["integrity_only"] is True
    assert "quality" not in report.scores and report.scores["rows"] == {"synthetic": 60, "reference": 0}
    assert report.scores["integrity"]["test_card_numbers_only"]["count"] == 2
    assert [f["rule"] for f in report.findings] == ["test_card_numbers_only"]
    assert Incident.objects.filter(dataset_versions=version).count() == 1  # a breach drafts one

    with pytest.raises(SystemExit):  # findings: exit status 1
        call_command("dataset_report", str(version.pk))
    out = capsys.readouterr().out
    assert "integrity rules only (the dataset has no reference): 2 row(s) break them" in out
    assert "4539" not in out  # card numbers only masked


def test_the_api_registration_queues_the_report(client, reference, django_capture_on_commit_callbacks):
    token = api_client_create(name="pipeline", scopes=["datasets:write"], actor="test").token
    form = {
        "name": "via-api",
        "kind": "patients",
        "generator": "patient-synth",
        "reference": "clinic",
        "roles": json.dumps(ROLES),
        "file": SimpleUploadedFile("p.csv", patients(600, seed=4).to_csv(index=False).encode()),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/datasets", data=form, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.content
    assert Report.objects.filter(version_id=response.json()["id"]).count() == 1


@pytest.mark.django_db(transaction=True)  # the command commits; the eager task runs on that commit
def test_the_register_command_prints_the_report_made_by_the_task(reference, write_csv, capsys):
    path = write_csv(patients(600, seed=5, age_shift=20), "shift.csv")
    args = ["--name", "cli", "--kind", "patients", "--generator", "patient-synth", "--reference", "clinic"]
    roles = [f"--role={column}={role}" for column, role in ROLES.items()]
    call_command("dataset_register", path, *args, *roles, "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["report_id"] == Report.objects.get().pk
    assert any(f["check"] == "group_difference" for f in out["findings"])


def test_the_task_survives_a_version_that_is_gone_or_cannot_be_reported(reference, write_csv):
    assert dataset_report_task.delay(987654).get() is None
    version = register(write_csv(patients(600, seed=2), "a.csv"), roles=ROLES, reference="clinic").version
    reference.file_path = "/nonexistent/ref.csv"
    reference.save()
    assert dataset_report_task.delay(version.pk).get() is None and Report.objects.count() == 0


def test_new_thresholds_are_a_new_version_and_rerun_the_newest_reports(
    reference, write_csv, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        version = register(write_csv(patients(600, seed=2), "a.csv"), roles=ROLES, reference="clinic").version
    assert Report.objects.get().findings == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = thresholds_set(
            kind="patients",
            quality=0.99,
            exact_copies=0,
            dcr_protection=0.2,
            group_difference=0.05,
            actor="t",
        )
    assert first.version == 1 and len(callbacks) == 1
    newest = Report.objects.filter(version=version).first()
    assert newest.scores["thresholds"]["version"] == 1
    assert [f["check"] for f in newest.findings] == ["fidelity"]
    second = thresholds_set(
        kind="patients", quality=0.7, exact_copies=3, dcr_protection=0.0, group_difference=0.1
    )
    assert second.version == 2 and ThresholdSet.objects.count() == 2
    current = thresholds_for("patients")
    assert (current.fidelity, current.exact_copies, current.version) == (0.7, 3, 2)
    assert thresholds_for("appointments").version is None


def test_thresholds_out_of_range_are_refused():
    with pytest.raises(DatasetError, match="quality must be from 0 to 1"):
        thresholds_set(kind="patients", quality=1.5, exact_copies=0, dcr_protection=0, group_difference=0)
    with pytest.raises(DatasetError, match="unknown kind"):
        thresholds_set(kind="pets", quality=0.8, exact_copies=0, dcr_protection=0, group_difference=0)
    assert ThresholdSet.objects.count() == 0


def test_an_approver_adds_thresholds_in_the_admin_and_cannot_edit_them(
    staff, reference, write_csv, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        version = register(write_csv(patients(600, seed=2), "a.csv"), roles=ROLES, reference="clinic").version
    client = staff(Role.APPROVER)
    form = client.get("/admin/datasets/thresholdset/add/?kind=patients").content.decode()
    assert 'value="0.8"' in form and 'value="0.05"' in form  # the current thresholds as a start
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/datasets/thresholdset/add/",
            {
                "kind": "patients",
                "quality": "0.99",
                "exact_copies": "0",
                "dcr_protection": "0.2",
                "group_difference": "0.05",
                "note": "stricter <b>fidelity</b>",
            },
        )
    assert response.status_code == 302, response.content.decode()
    row = ThresholdSet.objects.get()
    assert (row.version, row.created_by) == (1, f"u-{Role.APPROVER}")
    assert Report.objects.filter(version=version).count() == 2
    assert (
        client.post(f"/admin/datasets/thresholdset/{row.pk}/change/", {"quality": "0.1"}).status_code == 403
    )
    assert client.post(f"/admin/datasets/thresholdset/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    bad = client.post(
        "/admin/datasets/thresholdset/add/",
        {
            "kind": "patients",
            "quality": "2",
            "exact_copies": "0",
            "dcr_protection": "0",
            "group_difference": "0",
        },
    )
    assert bad.status_code == 200 and ThresholdSet.objects.count() == 1
    listing = client.get("/admin/datasets/thresholdset/").content.decode()
    assert "<b>fidelity</b>" not in listing and "&lt;b&gt;fidelity&lt;/b&gt;" in listing
    page = client.get(f"/admin/datasets/syntheticdataset/{version.dataset_id}/change/").content.decode()
    assert "thresholds v1" in page and "Rows breaking integrity rules" in page


def test_a_reviewer_cannot_add_thresholds(staff):
    client = staff(Role.REVIEWER)
    assert client.get("/admin/datasets/thresholdset/add/").status_code == 403
    assert client.get("/admin/datasets/thresholdset/").status_code == 200
