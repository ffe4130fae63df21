"""Incidents: Art. 73 clocks (15 / 10 / 2 days), the response plan, status changes and the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import AuditEvent, Incident, IncidentStatus
from audits.roles import Role
from audits.selectors import incidents_open
from audits.services import (
    InvalidTransition,
    RoleRequired,
    WorkspaceError,
    incident_note,
    incident_open,
    incident_set_status,
    incident_step_complete,
)


@pytest.mark.parametrize(
    ("severity", "days"), [("serious", 15), ("death", 10), ("widespread", 2), ("minor", None)]
)
def test_the_reporting_clock_follows_article_73(reviewer, severity, days):
    aware = timezone.now() - timedelta(hours=1)
    incident = incident_open(
        title="Wrong dosage in a generated page", severity=severity, aware_at=aware, actor=reviewer
    )
    if days is None:
        assert incident.report_due_at is None
    else:
        assert incident.report_due_at == aware + timedelta(days=days)
    assert [s.kind for s in incident.steps.all()] == ["takedown", "notify", "correct", "review"]
    assert "Opened as" in incident.updates.get().text


def test_an_incident_is_opened_worked_and_closed(reviewer, approver, item, generator):
    incident = incident_open(
        title="Misleading image",
        severity="serious",
        actor=reviewer,
        content_items=[item],
        generators=[generator],
    )
    assert list(incident.content_items.all()) == [item] and list(incident.generators.all()) == [generator]
    for step in incident.steps.all():
        incident_step_complete(step=step, actor=approver)
    with pytest.raises(InvalidTransition):
        incident_step_complete(step=incident.steps.first(), actor=approver)
    incident = incident_set_status(incident=incident, status="investigating", actor=approver)
    incident = incident_set_status(incident=incident, status="reported", actor=approver, note="Ref 2026-17")
    assert incident.reported_at is not None and not incident.is_overdue
    with pytest.raises(WorkspaceError, match="note"):
        incident_set_status(incident=incident, status="closed", actor=approver)
    incident_note(incident=incident, actor=reviewer, text="Replaced the image.")
    incident = incident_set_status(incident=incident, status="closed", actor=approver, note="Resolved.")
    assert incident.status == IncidentStatus.CLOSED and incident.closed_at is not None
    timeline = [u.text for u in incident.updates.all()]
    assert timeline[-1] == "Status: Closed. Resolved." and len(timeline) == 1 + 4 + 2 + 1 + 1
    actions = set(AuditEvent.objects.filter(object_type="audits.incident").values_list("action", flat=True))
    assert actions == {"incident.opened", "incident.step_done", "incident.status", "incident.note"}


def test_overdue_incidents_come_first_and_are_flagged(reviewer):
    later = incident_open(title="later", severity="serious", actor=reviewer)
    overdue = incident_open(
        title="overdue", severity="widespread", actor=reviewer, aware_at=timezone.now() - timedelta(days=3)
    )
    minor = incident_open(title="minor", severity="minor", actor=reviewer)
    assert overdue.is_overdue and not later.is_overdue and not minor.is_overdue
    assert incidents_open() == [overdue, later, minor]


def test_auditors_and_engineers_cannot_open_or_work_incidents(make_user, reviewer):
    incident = incident_open(title="x", severity="minor", actor=reviewer)
    for role in (Role.AUDITOR, Role.ENGINEER):
        user = make_user(role)
        with pytest.raises(RoleRequired):
            incident_open(title="y", severity="minor", actor=user)
        with pytest.raises(RoleRequired):
            incident_set_status(incident=incident, status="closed", actor=user, note="n")


def test_the_admin_opens_and_closes_an_incident(client, reviewer, approver, item):
    client.force_login(reviewer)
    response = client.post(
        "/admin/audits/incident/add/",
        {
            "title": "<b>Wrong</b> claim",
            "severity": "death",
            "aware_at_0": "2026-11-01",
            "aware_at_1": "10:00:00",
            "description": "Generated text claims a cure.",
            "content_items": str(item.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    incident = Incident.objects.get()
    assert incident.report_days == 10 and list(incident.content_items.all()) == [item]
    page = client.get(f"/admin/audits/incident/{incident.pk}/change/").content.decode()
    assert "&lt;b&gt;Wrong&lt;/b&gt; claim" in page and "OVERDUE" in page
    client.force_login(approver)
    client.post(f"/admin/audits/incident/{incident.pk}/change/", {"step": incident.steps.first().pk})
    client.post(
        f"/admin/audits/incident/{incident.pk}/change/", {"status": "closed", "note": "Page removed."}
    )
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.steps.filter(done_at__isnull=False).count() == 1
