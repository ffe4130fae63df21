"""A dataset whose newest version breaches a threshold or an integrity rule is a line on the
compliance dashboard and on the review queue, both linking to the filtered dataset list."""

import re

import pytest

from audits.roles import Role
from datasets.selectors import versions_below_threshold
from datasets.services import dataset_register, reference_create, report_run
from tests.datasets.conftest import patients

pytestmark = pytest.mark.django_db
ROLES = {"patient_id": "identifier", "age": "sensitive", "sex": "sensitive"}
HOSTILE = "<img src=x onerror=alert(1)>"


def register(path, name):
    with open(path, "rb") as stream:
        return dataset_register(
            stream=stream,
            filename=path,
            name=name,
            kind="patients",
            generator="patient-synth",
            roles=ROLES,
            reference="clinic",
        ).version


@pytest.fixture
def judged(generator, storage_dir, write_csv):
    reference_create(name="clinic", file_path=write_csv(patients(800, seed=1, prefix="r"), "ref.csv"))
    good = register(write_csv(patients(800, seed=2), "good.csv"), "good")
    shifted = register(write_csv(patients(800, seed=3, age_shift=20), "older.csv"), HOSTILE)
    report_run(version=good)
    report_run(version=shifted)
    return good, shifted


def test_only_the_newest_version_of_a_breaching_dataset_is_listed(judged, write_csv):
    good, shifted = judged
    assert [v.pk for v in versions_below_threshold()] == [shifted.pk]
    fixed = register(write_csv(patients(800, seed=4), "fixed.csv"), HOSTILE)
    assert versions_below_threshold() == []  # the newest version has no report yet
    report_run(version=fixed)
    assert versions_below_threshold() == []


def test_the_dashboard_has_a_line_linking_to_the_breaching_datasets(judged, staff):
    client = staff(Role.APPROVER)
    page = client.get("/admin/workspace/dashboard/").content.decode()
    attention = page.split("Needs attention:", 1)[1].split("</p>", 1)[0]
    [link] = [
        href for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', attention) if "dataset" in text
    ]
    assert link == "/admin/datasets/syntheticdataset/?judged=below"
    listing = client.get(link).content.decode()
    assert "&lt;img src=x" in listing and HOSTILE not in listing
    assert f'href="/admin/datasets/syntheticdataset/{judged[0].dataset_id}/change/"' not in listing


def test_the_review_queue_names_the_breaching_versions(judged, staff):
    client = staff(Role.REVIEWER)
    page = client.get("/admin/audits/review/").content.decode()
    assert "1 synthetic dataset version(s) below a threshold" in page
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt; v1" in page
    assert "?judged=below" in page
