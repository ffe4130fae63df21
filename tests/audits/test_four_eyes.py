"""Four eyes: whoever proposed a review (or a classification) can never be the one who signs it off,
whichever way they try: the change form, a bulk action, the API or a direct service call."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from audits.models import AuditEvent, Classification, ClassificationStatus, Review, ReviewStatus
from audits.roles import Role
from audits.services import (
    FourEyesViolation,
    classification_approve,
    classification_propose,
    review_approve,
    review_open,
    review_submit,
)


@pytest.fixture
def both_roles(make_user, roles):
    """Someone who holds both the Reviewer and the Approver role."""
    user = make_user(Role.REVIEWER, "dual")
    user.groups.add(roles[Role.APPROVER])
    return User.objects.get(pk=user.pk)


@pytest.fixture
def own_proposals(make_item, both_roles):
    reviews = []
    for _ in range(3):
        review = review_open(content_item=make_item())
        reviews.append(
            review_submit(
                review=review,
                actor=both_roles,
                expected_version=review.version,
                comment="Checked the evidence and the badge",
            )
        )
    return reviews


def assert_untouched(reviews):
    for review in reviews:
        current = Review.objects.get(pk=review.pk)
        assert current.status == ReviewStatus.IN_REVIEW and current.version == review.version


def test_a_direct_service_call_is_refused(both_roles, own_proposals):
    for review in own_proposals:
        with pytest.raises(FourEyesViolation):
            review_approve(
                review=review,
                actor=both_roles,
                expected_version=review.version,
                comment="Checked the proposal against the evidence",
            )
    assert_untouched(own_proposals)
    assert AuditEvent.objects.filter(action="review.refused", actor="dual").count() == 3


def test_the_change_form_is_refused(client, both_roles, own_proposals):
    client.force_login(both_roles)
    review = own_proposals[0]
    page = client.get(f"/admin/audits/review/{review.pk}/change/").content.decode()
    assert "another approver must sign it off" in page and 'value="approve"' not in page
    response = client.post(
        f"/admin/audits/review/{review.pk}/change/",
        {"decision": "approve", "version": review.version, "comment": "Checked the proposal"},
        follow=True,
    )
    assert "Four eyes" in response.content.decode()
    assert_untouched(own_proposals)


def test_a_bulk_action_is_refused_for_every_own_proposal(
    client, both_roles, own_proposals, make_item, make_user
):
    other = review_open(content_item=make_item())
    other = review_submit(
        review=other,
        actor=make_user(Role.REVIEWER),
        expected_version=other.version,
        comment="Checked the evidence and the badge",
    )
    client.force_login(both_roles)
    response = client.post(
        "/admin/audits/review/",
        {
            "action": "approve_selected",
            "_selected_action": [r.pk for r in [*own_proposals, other]],
            "comment": "Checked the evidence of each",
            "apply": "1",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Signed off: 1 review(s)." in text and text.count("Four eyes") == 3
    assert_untouched(own_proposals)
    assert Review.objects.get(pk=other.pk).status == ReviewStatus.APPROVED


def test_the_api_is_refused(client, both_roles, own_proposals):
    client.force_login(both_roles)
    review = own_proposals[0]
    response = client.post(
        f"/api/v1/audits/reviews/{review.pk}/approve",
        {"version": review.version, "comment": "Checked the proposal"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "four_eyes"
    assert_untouched(own_proposals)


def test_a_stale_object_cannot_sneak_past_by_naming_another_proposer(both_roles, own_proposals):
    review = own_proposals[0]
    review.proposed_by = None  # the in-memory object lies; the check runs in the database
    with pytest.raises(FourEyesViolation):
        review_approve(
            review=review,
            actor=both_roles,
            expected_version=review.version,
            comment="Checked the proposal against the evidence",
        )
    assert_untouched(own_proposals)


def test_classifications_need_a_second_person_too(generator, both_roles, approver):
    proposal = classification_propose(
        generator=generator,
        use_case="Product images",
        answers={"deployer": True, "generates_synthetic": True},
        actor=both_roles,
    )
    with pytest.raises(FourEyesViolation):
        classification_approve(classification=proposal, actor=both_roles)
    proposal.proposed_by_id = approver.pk  # a stale object does not help either
    with pytest.raises(FourEyesViolation):
        classification_approve(classification=proposal, actor=both_roles)
    assert Classification.objects.get(pk=proposal.pk).status == ClassificationStatus.PROPOSED
