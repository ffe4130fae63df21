"""The review page: the decisive evidence, what shoppers receive, and a required note of what was checked."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audits.models import Review, ReviewStatus
from audits.services import WorkspaceError, review_approve, review_open, review_submit
from disclosure.models import AuditSwitch
from provenance.models import ApiClient, GenerationRecord

pytestmark = pytest.mark.django_db


def record_for(item, generator, *, inputs=()) -> GenerationRecord:
    client = ApiClient.objects.get_or_create(name="pipeline")[0]
    return GenerationRecord.objects.create(
        generator=generator,
        generator_version="2.1",
        prompt_sha256="a" * 64,
        input_sha256s=list(inputs),
        parameters_sha256="b" * 64,
        output_sha256=item.content_sha256,
        output_media_type="image/png",
        generated_at=timezone.now(),
        client=client,
        external_id=f"run-{item.pk}",
        submission_sha256="c" * 64,
    )


def test_the_review_page_shows_the_decisive_evidence_and_what_shoppers_receive(
    client, reviewer, make_item, generator
):
    parent = make_item(sku="PARENT-1")
    item = make_item(
        origin_evidence=[{"kind": "c2pa_manifest", "strength": "conclusive", "detail": "C2PA <b>claim</b>"}],
        media_evidence=[
            {
                "kind": "iptc_digital_source_type",
                "strength": "conclusive",
                "detail": "IPTC trainedAlgorithmicMedia",
            },
            {"kind": "png_text_chunk", "strength": "strong", "detail": "PNG parameters: Steps 30"},
        ],
        c2pa_state="valid",
    )
    record = record_for(item, generator, inputs=[parent.content_sha256])
    review = review_open(content_item=item)
    client.force_login(reviewer)
    page = client.get(f"/admin/audits/review/{review.pk}/change/").content.decode()
    assert "Decisive evidence" in page and "data-evidence-summary" in page
    assert "C2PA &lt;b&gt;claim&lt;/b&gt;" in page  # hostile evidence text stays text
    assert "Valid (signer not on the trust list)" in page
    assert "IPTC trainedAlgorithmicMedia" in page and "PNG parameters: Steps 30" in page
    assert f'href="/admin/provenance/generationrecord/{record.pk}/change/"' in page
    assert f'href="/admin/provenance/contentitem/{parent.pk}/change/"' in page  # lineage
    assert "What shoppers receive" in page and "data-shopper-badge" in page
    assert "AI-generated" in page  # the built-in label the public API serves
    assert f"/api/v1/disclosures/default?products={item.sku}" in page

    item_page = client.get(f"/admin/provenance/contentitem/{item.pk}/change/")
    assert item_page.status_code == 200  # the same summary on the item page
    text = item_page.content.decode()
    assert "data-evidence-summary" in text and "PNG parameters: Steps 30" in text


def test_the_review_page_says_when_the_audit_switch_hides_the_content(client, reviewer, make_item):
    item = make_item()
    AuditSwitch.objects.create(store_code="default", surface="product_image", mode="suppress")
    review = review_open(content_item=item)
    client.force_login(reviewer)
    page = client.get(f"/admin/audits/review/{review.pk}/change/").content.decode()
    assert "Content hidden (audit switch: suppress)" in page


def test_an_item_without_a_generation_record_says_so(client, reviewer, make_item):
    review = review_open(content_item=make_item())
    client.force_login(reviewer)
    page = client.get(f"/admin/audits/review/{review.pk}/change/").content.decode()
    assert "No generation record has this content" in page


@pytest.mark.parametrize("comment", ["", "   "])
def test_proposing_or_signing_off_without_saying_what_was_checked_is_refused(
    item, reviewer, approver, comment
):
    review = review_open(content_item=item)
    with pytest.raises(WorkspaceError, match="Say what you checked before you propose sign-off"):
        review_submit(review=review, actor=reviewer, expected_version=review.version, comment=comment)
    review = review_submit(review=review, actor=reviewer, expected_version=review.version, comment="Label ok")
    with pytest.raises(WorkspaceError, match="Say what you checked before you sign off"):
        review_approve(review=review, actor=approver, expected_version=review.version, comment=comment)
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.IN_REVIEW


def test_the_admin_and_the_api_refuse_a_decision_without_a_comment(client, item, reviewer):
    review = review_open(content_item=item)
    client.force_login(reviewer)
    response = client.post(
        f"/admin/audits/review/{review.pk}/change/", {"decision": "submit", "version": 1}, follow=True
    )
    assert "a comment is required" in response.content.decode()
    response = client.post(
        f"/api/v1/audits/reviews/{review.pk}/submit", {"version": 1}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "a comment is required" in response.json()["error"]["message"]
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.PENDING


def test_a_bulk_proposal_asks_what_was_checked_first(client, make_item, reviewer):
    reviews = [review_open(content_item=make_item()) for _ in range(2)]
    client.force_login(reviewer)
    selected = {"action": "propose_selected", "_selected_action": [r.pk for r in reviews]}
    page = client.post("/admin/audits/review/", selected)
    assert page.status_code == 200 and "What you checked" in page.content.decode()
    assert not Review.objects.filter(status=ReviewStatus.IN_REVIEW).exists()
    response = client.post("/admin/audits/review/", {**selected, "apply": "1", "comment": ""}, follow=True)
    assert "a comment is required" in response.content.decode()
    assert not Review.objects.filter(status=ReviewStatus.IN_REVIEW).exists()
    response = client.post(
        "/admin/audits/review/", {**selected, "apply": "1", "comment": "Badges checked"}, follow=True
    )
    assert "Proposed for sign-off: 2 review(s)." in response.content.decode()
    assert Review.objects.filter(status=ReviewStatus.IN_REVIEW).count() == 2
    assert {
        c for r in reviews for c in Review.objects.get(pk=r.pk).comments.values_list("body", flat=True)
    } == {"Badges checked"}
