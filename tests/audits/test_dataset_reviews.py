"""Synthetic dataset versions in the review queue: opened on registration, signed off by two people,
blocked while their newest report has findings, filtered in the queue, their card on the review page."""

from __future__ import annotations

import pandas as pd
import pytest
from django.db import IntegrityError, transaction

from audits.models import AuditEvent, Review, ReviewStatus
from audits.roles import Role
from audits.services import (
    FourEyesViolation,
    ReviewBlocked,
    review_approve,
    review_open,
    review_submit,
    reviews_open_missing,
    reviews_reopen_changed,
)
from datasets.models import DatasetVersion, Reference, Report
from datasets.services import dataset_register
from provenance.models import Generator

HOSTILE = '<script>alert("x")</script> & patients'


@pytest.fixture
def storage_dir(settings, tmp_path):
    settings.DATASET_STORAGE_DIR = tmp_path / "stored"
    return settings.DATASET_STORAGE_DIR


@pytest.fixture
def patient_generator(db):
    return Generator.objects.create(name="patient-synth", version="1.0")


@pytest.fixture
def register(storage_dir, patient_generator, tmp_path):
    def register(name: str = "patients-a", *, seed: int = 1, kind: str = "patients") -> DatasetVersion:
        path = tmp_path / f"{name.replace('/', '_')[:20]}-{seed}.csv"
        pd.DataFrame(
            {"patient_id": [f"p{seed}-{i}" for i in range(20)], "age": [30 + i for i in range(20)]}
        ).to_csv(path, index=False)
        with open(path, "rb") as stream:
            return dataset_register(
                stream=stream, filename=str(path), name=name, kind=kind, generator="patient-synth"
            ).version

    return register


def _report(version: DatasetVersion, findings: list[dict]) -> Report:
    reference, _ = Reference.objects.get_or_create(name="ref", defaults={"source": "file", "file_path": "/x"})
    return Report.objects.create(
        version=version,
        reference=reference,
        scores={"quality": {"score": 0.91}, "privacy": {"exact_copies": {"count": len(findings)}}},
        findings=findings,
        sdmetrics_version="test",
    )


COPIES = {"check": "exact_copies", "value": 3, "threshold": 0, "message": "3 synthetic rows are exact copies"}


def _propose(review, actor):
    return review_submit(
        review=review, actor=actor, expected_version=review.version, comment="Checked the card"
    )


@pytest.mark.django_db
def test_a_registered_version_is_a_pending_review_opened_with_it(register):
    version = register()
    review = Review.objects.get(dataset_version=version)
    assert review.status == ReviewStatus.PENDING and review.subject_kind == "dataset_version"
    assert review.subject == version and review.subject_id == version.pk
    assert review.risk == 5  # patients
    assert AuditEvent.objects.filter(action="review.opened", object_id=str(review.pk)).exists()
    again = register(seed=2)
    assert Review.objects.filter(dataset_version__dataset=version.dataset).count() == 2
    assert again.review.pk != review.pk


@pytest.mark.django_db
def test_a_replayed_registration_opens_no_second_review(register):
    version = register()
    assert register().pk == version.pk
    assert Review.objects.filter(dataset_version=version).count() == 1


@pytest.mark.django_db
def test_versions_registered_before_the_workflow_get_their_review_from_the_backfill(register):
    version = register()
    reviews_open_missing()  # the generator's own review
    Review.objects.filter(dataset_version=version).delete()
    assert reviews_open_missing() == 1
    assert Review.objects.get(dataset_version=version).status == ReviewStatus.PENDING


@pytest.mark.django_db
def test_a_review_names_exactly_one_subject(register, make_item):
    version = register()
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(dataset_version=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.filter(dataset_version=version).update(content_item=make_item())
    with pytest.raises(ValueError):
        review_open(dataset_version=version, content_item=make_item())


@pytest.mark.django_db
def test_four_eyes_the_proposer_cannot_sign_off_the_dataset_version(register, make_user, roles):
    both = make_user(Role.REVIEWER, "dual")
    both.groups.add(roles[Role.APPROVER])
    both = type(both).objects.get(pk=both.pk)
    review = _propose(Review.objects.get(dataset_version=register()), both)
    with pytest.raises(FourEyesViolation):
        review_approve(review=review, actor=both, expected_version=review.version, comment="Checked it")
    review.refresh_from_db()
    assert review.status == ReviewStatus.IN_REVIEW
    assert AuditEvent.objects.filter(action="review.refused", object_id=str(review.pk)).exists()
    approver = make_user(Role.APPROVER, "second")
    review = review_approve(
        review=review, actor=approver, expected_version=review.version, comment="Checked the scores"
    )
    assert review.status == ReviewStatus.APPROVED and review.decided_by == approver
    assert review.approved_content_sha256 == review.dataset_version.sha256
    assert AuditEvent.objects.filter(action="review.approved", object_id=str(review.pk)).exists()


@pytest.mark.django_db
def test_a_version_with_findings_is_blocked_from_proposal_and_sign_off(register, reviewer, approver):
    version = register()
    review = Review.objects.get(dataset_version=version)
    _report(version, [COPIES])
    with pytest.raises(ReviewBlocked):
        _propose(review, reviewer)
    _report(version, [])  # re-run after the thresholds changed: no findings now
    review = _propose(review, reviewer)
    _report(version, [COPIES])
    with pytest.raises(ReviewBlocked):
        review_approve(review=review, actor=approver, expected_version=review.version, comment="Checked")
    review.refresh_from_db()
    assert review.status == ReviewStatus.IN_REVIEW
    assert AuditEvent.objects.filter(
        action="review.refused", object_id=str(review.pk), detail__code="blocked"
    ).exists()


@pytest.mark.django_db
def test_a_new_report_after_sign_off_sends_the_version_back(register, reviewer, approver):
    version = register()
    review = _propose(Review.objects.get(dataset_version=version), reviewer)
    review_approve(review=review, actor=approver, expected_version=review.version, comment="Checked")
    assert reviews_reopen_changed(dataset_version=version) == 0
    _report(version, [])  # the new report reopens it as it is saved
    review.refresh_from_db()
    assert review.status == ReviewStatus.PENDING and "report" in review.reopened_reason
    assert AuditEvent.objects.filter(action="review.reopened", object_id=str(review.pk)).exists()


@pytest.mark.django_db
def test_the_queue_filters_dataset_reviews(client, register, reviewer, make_item):
    review_open(content_item=make_item(sku="SKU-IMAGE"))
    register(name="appointments-clinic", kind="appointments")
    client.force_login(reviewer)
    page = client.get("/admin/audits/review/?subject=dataset").content.decode()
    assert "appointments-clinic v1" in page and "SKU-IMAGE" not in page
    assert "Dataset versions" in page
    page = client.get("/admin/audits/review/?subject=content").content.decode()
    assert "appointments-clinic" not in page
    page = client.get("/admin/audits/review/?q=appointments").content.decode()
    assert "appointments-clinic v1" in page


@pytest.mark.django_db
def test_the_review_page_shows_the_dataset_card_with_the_name_escaped(client, register, reviewer):
    version = register(name=HOSTILE)
    _report(version, [{**COPIES, "message": "<b>3</b> exact copies"}])
    review = Review.objects.get(dataset_version=version)
    client.force_login(reviewer)
    response = client.get(f"/admin/audits/review/{review.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;3&lt;/b&gt; exact copies" in page
    assert version.sha256 in page and "data-dataset-blocked" in page
    assert "patient-synth" in page and "0.91" in page and "patient_id" in page


@pytest.mark.django_db
def test_the_decision_form_signs_off_a_dataset_version(client, register, reviewer, approver, approver2):
    review = Review.objects.get(dataset_version=register())
    url = f"/admin/audits/review/{review.pk}/change/"
    client.force_login(reviewer)
    client.post(url, {"decision": "submit", "version": review.version, "comment": "Checked the schema"})
    review.refresh_from_db()
    assert review.status == ReviewStatus.IN_REVIEW
    client.force_login(approver)
    client.post(url, {"decision": "approve", "version": review.version, "comment": "Checked the scores"})
    review.refresh_from_db()
    assert review.status == ReviewStatus.APPROVED


@pytest.mark.django_db
def test_the_review_api_names_the_dataset_version(client, register, reviewer):
    version = register()
    client.force_login(reviewer)
    reviews = client.get("/api/v1/audits/reviews").json()["reviews"]
    [row] = [r for r in reviews if r["subject"] == "dataset_version"]
    assert row["subject_id"] == version.pk and row["subject_repr"] == "patients-a v1"


@pytest.mark.django_db
def test_the_queue_of_dataset_reviews_takes_a_fixed_number_of_queries(
    client, register, reviewer, django_assert_max_num_queries
):
    for seed in range(15):
        register(name=f"patients-{seed}", seed=seed)
    client.force_login(reviewer)
    client.get("/admin/audits/review/?subject=dataset")
    with django_assert_max_num_queries(12):
        page = client.get("/admin/audits/review/?subject=dataset")
    assert page.status_code == 200 and "patients-14 v1" in page.content.decode()


@pytest.mark.django_db
def test_a_blocked_version_is_refused_over_the_api_with_409(client, register, reviewer):
    version = register()
    _report(version, [COPIES])
    review = Review.objects.get(dataset_version=version)
    client.force_login(reviewer)
    response = client.post(
        f"/api/v1/audits/reviews/{review.pk}/submit",
        {"version": review.version, "comment": "Checked"},
        content_type="application/json",
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "blocked"
