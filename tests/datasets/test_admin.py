"""The datasets admin: read-only pages with the latest report's scores, hostile names escaped."""

import pytest
from django.contrib.auth.models import User

from datasets.models import Reference
from datasets.services import dataset_register, reference_create, report_run
from tests.datasets.conftest import patients

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def admin_client(client):
    user = User.objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def reported(storage_dir, generator, write_csv):
    frame = patients(300, seed=2)
    frame["sex"] = frame["sex"].replace({"F": HOSTILE})
    reference = patients(300, seed=1)
    reference["sex"] = reference["sex"].replace({"F": HOSTILE})
    reference_create(name="ref", file_path=write_csv(reference, "ref.csv"))
    with open(write_csv(frame, "a.csv"), "rb") as stream:
        version = dataset_register(
            stream=stream,
            filename="a.csv",
            name=HOSTILE,
            kind="patients",
            generator="patient-synth",
            roles={"patient_id": "identifier", "sex": "sensitive", "age": "sensitive"},
            reference="ref",
        ).version
    return report_run(version=version)


def test_the_list_shows_the_latest_scores_escaped(admin_client, reported, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        page = admin_client.get("/admin/datasets/syntheticdataset/")
    text = page.content.decode()
    assert page.status_code == 200
    assert HOSTILE not in text and "&lt;script&gt;" in text
    assert f"{reported.scores['quality']['score']:.3f}" in text


def test_the_change_page_shows_versions_and_findings_and_cannot_save(admin_client, reported):
    dataset = reported.version.dataset
    page = admin_client.get(f"/admin/datasets/syntheticdataset/{dataset.pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200 and HOSTILE not in text
    assert reported.version.sha256 in text and "Exact copies of reference rows" in text
    assert admin_client.post(f"/admin/datasets/syntheticdataset/{dataset.pk}/change/", {}).status_code == 403
    assert admin_client.get("/admin/datasets/syntheticdataset/add/").status_code == 403


def test_a_reference_password_is_never_shown(admin_client):
    reference = reference_create(
        name="shop", database_url="mysql://reader:s3cret@127.0.0.1:3306/shop", query="SELECT 1 AS a"
    )
    assert Reference.objects.count() == 1
    page = admin_client.get(f"/admin/datasets/reference/{reference.pk}/change/").content.decode()
    listing = admin_client.get("/admin/datasets/reference/").content.decode()
    assert "s3cret" not in page and "s3cret" not in listing and "reader:***@127.0.0.1:3306" in page
