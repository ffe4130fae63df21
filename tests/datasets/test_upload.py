"""Uploading a dataset file in the admin: engineers and administrators, through the registration
service, with the size limit, bad files refused with nothing stored."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.roles import Role
from datasets.models import DatasetVersion, Report
from datasets.services import reference_create
from provenance.models import LogEntry
from tests.datasets.conftest import patients

pytestmark = pytest.mark.django_db
URL = "/admin/datasets/syntheticdataset/upload/"


def form(data: bytes, name="uploaded", filename="p.csv", **fields):
    return {
        "file": SimpleUploadedFile(filename, data, content_type="text/csv"),
        "name": name,
        "kind": "patients",
        "generator": "patient-synth",
        **fields,
    }


def test_an_engineer_uploads_a_file_and_its_report_runs(
    staff, generator, storage_dir, write_csv, django_capture_on_commit_callbacks
):
    reference_create(name="clinic", file_path=write_csv(patients(600, seed=1, prefix="r"), "ref.csv"))
    client = staff(Role.ENGINEER)
    listing = client.get("/admin/datasets/syntheticdataset/").content.decode()
    assert f'href="{URL}"' in listing
    data = patients(600, seed=2).to_csv(index=False).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, form(data, reference="clinic", roles="patient_id=identifier\nage=sensitive\n")
        )
    version = DatasetVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/datasets/syntheticdataset/{version.dataset_id}/change/"
    assert version.dataset.created_by == f"admin:u-{Role.ENGINEER}" and version.log_index is not None
    assert version.dataset.columns_with_role("sensitive") == ["age"]
    assert Report.objects.filter(version=version).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert version.sha256 in page and "Registered uploaded v1" in page
    again = client.post(URL, form(data))
    assert again.status_code == 302 and DatasetVersion.objects.count() == 1 and LogEntry.objects.count() == 1


def test_bad_files_and_roles_are_refused_with_nothing_stored(staff, generator, storage_dir, settings):
    client = staff(Role.ENGINEER)
    ragged = client.post(URL, form(b"a,b\n1,2\n3\n"))
    assert ragged.status_code == 200 and "line 3 has 1 fields, the header has 2" in ragged.content.decode()
    nul = client.post(URL, form(b"a,b\n1,\x002\n"))
    assert nul.status_code == 200 and "NUL byte at offset 6" in nul.content.decode()
    roles = client.post(URL, form(b"a,b\n1,2\n", roles="a=boss"))
    assert roles.status_code == 200 and "Line 1: write COLUMN=ROLE" in roles.content.decode()
    hostile = client.post(URL, form(b"a,b\n1,2\n", name="<script>x</script>", generator="nope"))
    assert hostile.status_code == 200 and "<script>x</script>" not in hostile.content.decode()
    settings.DATASET_MAX_BYTES = 1024
    big = client.post(URL, form(b"a,b\n" + b"1,2\n" * 400))
    assert big.status_code == 200 and "larger than 1,024 bytes" in big.content.decode()
    huge = client.post(URL, form(b"a,b\n" + b"1,2\n" * 30_000))
    assert huge.status_code == 413
    assert DatasetVersion.objects.count() == 0 and not any(storage_dir.rglob("*.csv"))


def test_other_roles_cannot_upload(staff, generator):
    client = staff(Role.APPROVER)
    assert client.get(URL).status_code == 403
    assert client.post(URL, form(b"a,b\n1,2\n")).status_code == 403
    assert f'href="{URL}"' not in client.get("/admin/datasets/syntheticdataset/").content.decode()
    assert DatasetVersion.objects.count() == 0
