"""EU AI Act classification: the questionnaire in the admin, versions, sign-off and reclassification dates."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django.utils import timezone

from audits.ai_act import RiskClass
from audits.models import AuditEvent, Classification, ClassificationStatus
from audits.selectors import classifications_overdue, current_classifications, risk_class_mix
from audits.services import classification_approve, classification_propose
from provenance.models import LogEntry


def test_the_questionnaire_in_the_admin_proposes_a_version(client, reviewer, generator):
    client.force_login(reviewer)
    page = client.get("/admin/audits/classification/add/").content.decode()
    assert "Annex III 5(d)" in page and "Art. 6(3)" in page and "Art. 50" in page
    response = client.post(
        "/admin/audits/classification/add/",
        {
            "generator": generator.pk,
            "use_case": "Patient education pages",
            "notes": "Checked with legal",
            "q_deployer": "on",
            "q_generates_synthetic": "on",
            "q_public_interest_text": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    c = Classification.objects.get()
    assert (c.version, c.status, c.risk_class) == (1, ClassificationStatus.PROPOSED, RiskClass.TRANSPARENCY)
    assert {"Art. 50(4)", "Art. 50(5)"} <= {o["article"] for o in c.obligations}
    assert c.proposed_by == reviewer and "Art. 50" in c.rationale
    assert "Another approver must sign it off" in response.content.decode()


def test_new_answers_make_a_new_version_and_old_ones_stay_readable(client, reviewer, approver, generator):
    first = classification_propose(
        generator=generator,
        use_case="Product images",
        actor=reviewer,
        answers={"deployer": True, "generates_synthetic": True},
    )
    classification_approve(classification=first, actor=approver)
    second = classification_propose(
        generator=generator,
        use_case="Product images",
        actor=reviewer,
        answers={"deployer": True, "annex3_5d": True},
    )
    assert second.version == 2
    classification_approve(classification=second, actor=approver)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ClassificationStatus.SUPERSEDED and first.risk_class == RiskClass.MINIMAL
    assert second.status == ClassificationStatus.APPROVED and second.risk_class == RiskClass.HIGH_ANNEX_III
    assert current_classifications() == [second]
    client.force_login(approver)
    page = client.get(f"/admin/audits/classification/{first.pk}/change/").content.decode()
    assert "v1" in page and "v2" in page and "Superseded" in page
    prefilled = client.get(f"/admin/audits/classification/add/?from={second.pk}").content.decode()
    assert re.search(r'<input[^>]*name="q_annex3_5d"[^>]*checked>', prefilled)


def test_approval_sets_the_due_date_and_is_logged(settings, reviewer, approver, generator):
    settings.AUDITS_RECLASSIFY_DAYS = 90
    proposal = classification_propose(generator=generator, use_case="Images", answers={}, actor=reviewer)
    approved = classification_approve(classification=proposal, actor=approver, comment="fine")
    assert abs(approved.due_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    entry = json.loads(bytes(LogEntry.objects.get(kind="classification.approved").data))
    assert entry["classification"] == approved.pk and entry["risk_class"] == RiskClass.MINIMAL
    assert AuditEvent.objects.filter(action="classification.approved", actor="anton").exists()


def test_overdue_classifications_and_unclassified_generators_are_counted(reviewer, approver, generator):
    from provenance.models import Generator

    Generator.objects.create(name="text-model")
    proposal = classification_propose(generator=generator, use_case="Images", answers={}, actor=reviewer)
    approved = classification_approve(classification=proposal, actor=approver)
    assert classifications_overdue() == []
    Classification.objects.filter(pk=approved.pk).update(due_at=timezone.now() - timedelta(days=1))
    assert [c.pk for c in classifications_overdue()] == [approved.pk]
    mix = {row["key"]: row["count"] for row in risk_class_mix()}
    assert mix[RiskClass.MINIMAL] == 1 and mix["unclassified"] == 1


def test_the_admin_approves_with_a_button_but_not_for_the_proposer(client, reviewer, approver, generator):
    proposal = classification_propose(generator=generator, use_case="Images", answers={}, actor=reviewer)
    client.force_login(approver)
    page = client.get(f"/admin/audits/classification/{proposal.pk}/change/").content.decode()
    assert "Approve this classification" in page
    client.post(f"/admin/audits/classification/{proposal.pk}/change/", {"_approve": "1"})
    assert Classification.objects.get(pk=proposal.pk).status == ClassificationStatus.APPROVED
