"""Review of synthetic content and generators: transitions, four eyes, comments, reopening, logging."""

from __future__ import annotations

import json

import pytest

from audits.models import AuditEvent, Review, ReviewStatus
from audits.roles import Role
from audits.services import (
    FourEyesViolation,
    InvalidTransition,
    ReviewConflict,
    RoleRequired,
    WorkspaceError,
    review_approve,
    review_comment,
    review_open,
    review_reject,
    review_request_changes,
    review_submit,
    reviews_open_missing,
    reviews_reopen_changed,
)
from provenance.models import ContentItem, LogEntry


def log_entries(kind: str) -> list[dict]:
    return [
        json.loads(bytes(d))
        for d in LogEntry.objects.filter(kind=kind).order_by("index").values_list("data", flat=True)
    ]


def proposed(review, reviewer) -> Review:
    return review_submit(
        review=review, actor=reviewer, expected_version=review.version, comment="Checked the label"
    )


def test_a_reviewer_proposes_and_another_approver_signs_off(item, reviewer, approver):
    review = review_open(content_item=item)
    assert review.status == ReviewStatus.PENDING and review.version == 1
    review = proposed(review, reviewer)
    assert review.status == ReviewStatus.IN_REVIEW and review.proposed_by == reviewer
    review = review_approve(review=review, actor=approver, expected_version=review.version, comment="OK")
    assert review.status == ReviewStatus.APPROVED and review.version == 3
    assert review.approved_content_sha256 == item.content_sha256
    assert [c.body for c in review.comments.all()] == ["Checked the label", "OK"]
    decisions = log_entries("review.decision")
    assert [d["status"] for d in decisions] == ["in_review", "approved"]
    assert decisions[-1]["subject"] == "content_item" and decisions[-1]["subject_id"] == item.pk
    event = AuditEvent.objects.get(seq=decisions[-1]["audit_seq"])
    assert event.hash == decisions[-1]["audit_hash"] and event.actor == "anton"
    assert "anton" not in json.dumps(decisions), "the public log carries no names"


def test_the_proposer_cannot_approve_even_with_both_roles(item, make_user):
    both = make_user(Role.REVIEWER, "solo")
    both.groups.add(make_user(Role.APPROVER).groups.get())
    from django.contrib.auth.models import User

    both = User.objects.get(pk=both.pk)
    review = proposed(review_open(content_item=item), both)
    with pytest.raises(FourEyesViolation, match="another approver"):
        review_approve(
            review=review,
            actor=both,
            expected_version=review.version,
            comment="Checked the proposal against the evidence",
        )
    review.refresh_from_db()
    assert review.status == ReviewStatus.IN_REVIEW
    refused = AuditEvent.objects.get(action="review.refused")
    assert refused.detail["code"] == "four_eyes" and refused.actor == "solo"


def test_a_superuser_is_held_to_four_eyes_too(item, make_user):
    boss = make_user(None, "boss", superuser=True)
    review = proposed(review_open(content_item=item), boss)
    with pytest.raises(FourEyesViolation):
        review_approve(
            review=review,
            actor=boss,
            expected_version=review.version,
            comment="Checked the proposal against the evidence",
        )


def test_nothing_unproposed_can_be_approved(item, approver):
    review = review_open(content_item=item)
    with pytest.raises(InvalidTransition):
        review_approve(
            review=review,
            actor=approver,
            expected_version=review.version,
            comment="Checked the proposal against the evidence",
        )


def test_roles_are_checked_in_the_services(item, reviewer, make_user):
    review = review_open(content_item=item)
    auditor, engineer = make_user(Role.AUDITOR), make_user(Role.ENGINEER)
    for actor in (auditor, engineer):
        with pytest.raises(RoleRequired):
            review_submit(
                review=review,
                actor=actor,
                expected_version=review.version,
                comment="Checked the evidence and the badge",
            )
    review = proposed(review, reviewer)
    with pytest.raises(RoleRequired, match="Approver"):
        review_approve(
            review=review,
            actor=reviewer,
            expected_version=review.version,
            comment="Checked the proposal against the evidence",
        )
    with pytest.raises(RoleRequired):
        review_reject(review=review, actor=reviewer, expected_version=review.version, comment="no")


def test_a_stale_version_is_refused_with_a_clear_message(item, reviewer, approver, approver2):
    review = proposed(review_open(content_item=item), reviewer)
    seen = review.version
    review_approve(
        review=review,
        actor=approver,
        expected_version=seen,
        comment="Checked the proposal against the evidence",
    )
    with pytest.raises(ReviewConflict, match="Someone else acted on this review first"):
        review_reject(review=review, actor=approver2, expected_version=seen, comment="too late")


def test_changes_requested_go_back_to_the_reviewer_and_need_a_comment(item, reviewer, approver):
    review = proposed(review_open(content_item=item), reviewer)
    with pytest.raises(WorkspaceError, match="comment"):
        review_request_changes(review=review, actor=approver, expected_version=review.version, comment=" ")
    review = review_request_changes(
        review=review, actor=approver, expected_version=review.version, comment="Alt text says 'photo'"
    )
    assert review.status == ReviewStatus.CHANGES_REQUESTED
    review = proposed(review, reviewer)
    assert review.status == ReviewStatus.IN_REVIEW


def test_rejection_requests_a_takedown_and_can_follow_an_approval(item, reviewer, approver, approver2):
    review = proposed(review_open(content_item=item), reviewer)
    review = review_approve(
        review=review,
        actor=approver,
        expected_version=review.version,
        comment="Checked the proposal against the evidence",
    )
    review = review_reject(
        review=review,
        actor=approver2,
        expected_version=review.version,
        comment="Misleading before/after image",
    )
    assert review.status == ReviewStatus.REJECTED
    assert log_entries("review.decision")[-1]["status"] == "rejected"


def test_comments_are_kept_and_audited(item, reviewer):
    review = review_open(content_item=item)
    review_comment(review=review, actor=reviewer, body="<script>alert(1)</script>")
    assert review.comments.get().body == "<script>alert(1)</script>"
    assert AuditEvent.objects.filter(action="review.commented").count() == 1


def test_content_that_changes_after_approval_goes_back_to_review(item, reviewer, approver, make_item):
    untouched = make_item()
    reviews = []
    for subject in (item, untouched):
        review = proposed(review_open(content_item=subject), reviewer)
        reviews.append(
            review_approve(
                review=review,
                actor=approver,
                expected_version=review.version,
                comment="Checked the proposal against the evidence",
            )
        )
    ContentItem.objects.filter(pk=item.pk).update(content_sha256="f" * 64)
    assert reviews_reopen_changed() == 1
    assert reviews_reopen_changed() == 0, "idempotent"
    reopened, kept = (Review.objects.get(pk=r.pk) for r in reviews)
    assert reopened.status == ReviewStatus.PENDING and "content changed" in reopened.reopened_reason
    assert reopened.proposed_by is None
    assert kept.status == ReviewStatus.APPROVED
    assert log_entries("review.decision")[-1]["status"] == "pending"


def test_a_generator_whose_model_card_changes_goes_back_to_review(generator, reviewer, approver):
    review = proposed(review_open(generator=generator), reviewer)
    review_approve(
        review=review,
        actor=approver,
        expected_version=review.version,
        comment="Checked the proposal against the evidence",
    )
    generator.version = "1.1"
    generator.save(update_fields=["version"])
    assert reviews_reopen_changed() == 1
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.PENDING


def test_reviews_open_for_synthetic_and_suspected_items_only(make_item, generator):
    synthetic, suspected = make_item(), make_item(origin="suspected")
    make_item(origin="human")
    make_item(origin="unknown")
    removed = make_item()
    ContentItem.objects.filter(pk=removed.pk).update(removed_at="2026-01-01T00:00:00Z")
    assert reviews_open_missing() == 3
    assert reviews_open_missing() == 0
    assert set(Review.objects.values_list("content_item", flat=True)) == {synthetic.pk, suspected.pk, None}
    assert Review.objects.get(content_item=suspected).risk > Review.objects.get(content_item=synthetic).risk


def test_the_queue_is_ordered_by_risk_then_age(make_item):
    from audits.selectors import review_queue

    old_image = review_open(content_item=make_item())
    page = review_open(content_item=make_item(surface="cms_page", file_path="", identifier="about-diabetes"))
    reco = review_open(content_item=make_item(surface="recommendation", file_path=""))
    new_image = review_open(content_item=make_item())
    assert list(review_queue()) == [page, old_image, new_image, reco]


def test_a_successful_sync_reopens_changed_approvals(
    mariadb_store, reviewer, approver, django_capture_on_commit_callbacks
):
    from magento_bridge.services import sync_run

    with django_capture_on_commit_callbacks(execute=True):
        run = sync_run(full=True, media=mariadb_store.media)
    assert run.status == "succeeded"
    assert Review.objects.filter(content_item__origin="synthetic").exists(), "opened after the sync"
    review = Review.objects.filter(content_item__surface="cms_block").first() or Review.objects.first()
    review = proposed(review, reviewer)
    review = review_approve(
        review=review,
        actor=approver,
        expected_version=review.version,
        comment="Checked the proposal against the evidence",
    )
    Review.objects.filter(pk=review.pk).update(approved_content_sha256="0" * 64)
    with django_capture_on_commit_callbacks(execute=True):
        sync_run(full=False, media=mariadb_store.media)
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.PENDING
    assert AuditEvent.objects.filter(action__in=["sync.started", "sync.succeeded"]).count() == 4


def test_checking_for_changed_approvals_reads_only_what_changed(
    make_item, reviewer, approver, django_assert_max_num_queries
):
    for _ in range(20):
        review = proposed(review_open(content_item=make_item()), reviewer)
        review_approve(
            review=review,
            actor=approver,
            expected_version=review.version,
            comment="Checked the proposal against the evidence",
        )
    with django_assert_max_num_queries(2):
        assert reviews_reopen_changed() == 0


def test_the_queue_page_and_api_take_a_fixed_number_of_queries(
    client, make_item, reviewer, generator, django_assert_max_num_queries
):
    for _ in range(30):
        review_open(content_item=make_item())
    review_open(generator=generator)
    client.force_login(reviewer)
    client.get("/admin/audits/review/")
    with django_assert_max_num_queries(12):
        assert client.get("/admin/audits/review/").status_code == 200
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/audits/reviews")
    assert len(response.json()["reviews"]) == 31
