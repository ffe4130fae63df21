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


def test_a_breaching_report_drafts_an_incident_and_a_passing_one_does_not(judged):
    from audits.models import AuditEvent, Incident, IncidentStatus

    good, shifted = judged
    [incident] = Incident.objects.all()
    assert incident.status == IncidentStatus.DRAFT and incident.opened_by is None
    assert incident.report_due_at is None  # minor until staff judge it
    assert list(incident.dataset_versions.all()) == [shifted]
    assert list(incident.generators.all()) == [shifted.dataset.generator]
    assert incident.steps.count() == 4
    assert f"{HOSTILE} v1" in incident.title
    assert "1 finding(s)" in incident.description and "age: group" in incident.description
    assert "p00001" not in incident.description and "r00001" not in incident.description  # no rows
    event = AuditEvent.objects.get(action="incident.opened")
    assert event.actor == "system:dataset-reports"
    assert not good.incidents.exists()


def test_a_further_report_of_the_version_adds_to_its_incident_until_it_is_closed(judged, staff):
    from audits.models import Incident, IncidentStatus
    from audits.roles import Role
    from audits.services import incident_set_status

    _, shifted = judged
    report_run(version=shifted)
    [incident] = Incident.objects.all()
    assert incident.updates.filter(text__startswith="Report ").count() == 1
    staff(Role.APPROVER)
    from django.contrib.auth import get_user_model

    officer = get_user_model().objects.get(username=f"u-{Role.APPROVER}")
    with pytest.raises(Exception, match="note is required"):
        incident_set_status(incident=incident, status=IncidentStatus.CLOSED, actor=officer)
    incident_set_status(incident=incident, status=IncidentStatus.CLOSED, actor=officer, note="Fixed in v2.")
    report_run(version=shifted)
    assert Incident.objects.count() == 2  # a closed incident is not reopened by a new report


def test_confirming_a_draft_opens_it_in_the_confirmers_name(judged, staff):
    from django.contrib.auth import get_user_model

    from audits.models import Incident, IncidentStatus
    from audits.roles import Role

    client = staff(Role.APPROVER)
    officer = get_user_model().objects.get(username=f"u-{Role.APPROVER}")
    incident = Incident.objects.get()
    page = client.get(f"/admin/audits/incident/{incident.pk}/change/").content.decode()
    assert "Raised by a check, not yet confirmed" in page
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt; v1" in page
    assert f'href="/admin/datasets/syntheticdataset/{judged[1].dataset_id}/change/"' in page
    assert 'value="open"' in page and 'value="closed"' in page
    client.post(f"/admin/audits/incident/{incident.pk}/change/", {"status": "open", "note": ""})
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN and incident.opened_by == officer


def test_a_datasets_page_charts_the_scores_of_its_generators_reported_versions(judged, staff, write_csv):
    good, shifted = judged
    fixed = register(write_csv(patients(800, seed=4), "fixed.csv"), HOSTILE)  # not reported: not drawn
    client = staff(Role.AUDITOR)
    page = client.get(f"/admin/datasets/syntheticdataset/{shifted.dataset_id}/change/").content.decode()
    chart = page.split("data-score-trend", 1)[1].split("</div>", 1)[0]
    assert "Scores of 2 reported version(s) of patient-synth" in chart
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt; v1" in chart
    assert f"{fixed.dataset.name} v2" not in chart.replace("&lt;", "<").replace("&gt;", ">")
    circles = re.findall(r'<circle cx="[\d.]+" cy="[\d.]+" r="([\d.]+)"', chart)
    # quality, diagnostic and DCR of both versions at least; this dataset's points drawn larger
    assert len(circles) >= 6 and "4" in circles and "2.5" in circles
    assert chart.count("<polyline") >= 3
    rows = re.findall(r"<tr><td>(.*?)</td>", chart)
    assert rows == ["good v1", "<strong>&lt;img src=x onerror=alert(1)&gt; v1</strong>"]
    assert "<script" not in chart and "style=" not in chart  # nothing the admin's CSP would refuse


def test_a_dataset_without_reports_says_so_instead_of_a_chart(generator, storage_dir, write_csv, staff):
    reference_create(name="clinic", file_path=write_csv(patients(50, seed=1, prefix="r"), "ref.csv"))
    version = register(write_csv(patients(50, seed=5), "alone.csv"), "alone")
    client = staff(Role.AUDITOR)
    page = client.get(f"/admin/datasets/syntheticdataset/{version.dataset_id}/change/").content.decode()
    assert "No reported versions of this generator" in page


def test_the_packages_incident_register_names_what_an_incident_is_linked_to(judged):
    from audits.packages.documents import INCIDENT_HEADER, incident_csv, incident_html, incident_rows

    [row] = incident_rows()
    linked = dict(zip(INCIDENT_HEADER, row, strict=True))["linked_to"]
    assert linked == f"generator patient-synth | dataset {HOSTILE} v1"
    assert HOSTILE not in incident_html(incident_rows()) and "&lt;img src=x" in incident_html(incident_rows())
    assert "linked_to" in incident_csv(incident_rows()).splitlines()[0]


def test_the_dashboard_shows_a_drafted_incident_as_a_draft(judged, staff):
    client = staff(Role.APPROVER)
    page = client.get("/admin/workspace/dashboard/").content.decode()
    tile = page.split('id="t-incidents"', 1)[1].split("</section>", 1)[0]
    assert "Open incidents: 1" in tile and "<strong>Draft</strong>: raised by a check" in tile
    assert "no reporting deadline" not in tile and "&lt;img src=x" in tile and HOSTILE not in tile
