"""Every role against every protected admin page, action and API endpoint: the expected allow or deny."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from audits.models import AuditEvent, Review, ReviewStatus
from audits.roles import Role
from audits.services import review_open, review_submit
from audits.trail import audit_record

R, A, AU, E, AD = Role.REVIEWER, Role.APPROVER, Role.AUDITOR, Role.ENGINEER, Role.ADMINISTRATOR
EVERYONE = {R, A, AU, E, AD}

# page → roles that may open it (everyone else gets 403)
PAGES = {
    "/admin/workspace/dashboard/": EVERYONE,
    "/admin/audits/review/": {R, A, AU, AD},
    "/admin/audits/review/{review}/change/": {R, A, AU, AD},
    "/admin/audits/classification/": EVERYONE,
    "/admin/audits/classification/add/": {R, A, AD},
    "/admin/audits/incident/": {R, A, AU, AD},
    "/admin/audits/incident/add/": {R, A, AD},
    "/admin/audits/auditevent/": {A, AU, AD},
    "/admin/audits/auditanchor/": {A, AU, AD},
    "/admin/otp_totp/totpdevice/": {AU, AD},
    "/admin/provenance/contentitem/": EVERYONE,
    "/admin/provenance/generator/": EVERYONE,
    "/admin/provenance/generator/add/": {E, AD},
    "/admin/provenance/apiclient/": {AU, E, AD},
    "/admin/provenance/apiclient/add/": {E, AD},
    "/admin/magento_bridge/syncrun/": EVERYONE,
    "/admin/auth/user/": {AU, AD},
    "/admin/auth/user/add/": {AD},
    "/admin/django_celery_beat/periodictask/": {AU, E, AD},
    "/admin/django_celery_beat/periodictask/add/": {E, AD},
    "/admin/django_celery_beat/clockedschedule/": {AU, E, AD},
    "/admin/django_celery_beat/crontabschedule/": {AU, E, AD},
    "/admin/django_celery_beat/intervalschedule/": {AU, E, AD},
    "/admin/django_celery_beat/solarschedule/": {AU, E, AD},
    "/admin/magento_bridge/mediafile/": {AU, E, AD},
    "/admin/provenance/generationrecord/": EVERYONE,
    "/admin/provenance/sourcerule/": EVERYONE,
    "/admin/provenance/sourcerule/add/": {E, AD},
    "/admin/auth/group/": {AU, AD},
    "/admin/auth/group/add/": {AD},
    "/admin/audits/auditpackage/": {AU, AD},
    "/admin/audits/auditpackage/add/": {AU, AD},
    "/admin/disclosure/disclosurepolicy/": EVERYONE,
    "/admin/disclosure/disclosurepolicy/add/": {A, AD},
    "/admin/disclosure/auditswitch/": EVERYONE,
    "/admin/disclosure/auditswitch/add/": {A, AD},
    "/admin/disclosure/storefrontsettings/": EVERYONE,
    "/admin/disclosure/storefrontsettings/add/": {E, AD},
    "/admin/disclosure/manifestrelease/": EVERYONE,
    "/api/v1/audits/reviews": {R, A, AU, AD},
    "/admin/audits/simulationrun/": {R, A, AU, AD},
    "/admin/audits/simulationcheck/": {R, A, AU, AD},
    "/admin/audits/separationscan/": {R, A, AU, AD},
    "/admin/audits/separationfinding/": {R, A, AU, AD},
    "/admin/audits/separationmarker/": {R, A, AU, AD},
    "/admin/audits/separationmarker/add/": {A, AD},
}


def test_the_matrix_covers_every_model_in_the_admin():
    from django.contrib import admin

    listed = {"/".join(page.split("/")[2:4]) for page in PAGES if page.startswith("/admin/")}
    registered = {f"{m._meta.app_label}/{m._meta.model_name}" for m in admin.site._registry}
    assert registered - listed == set()


@pytest.fixture
def proposed_review(item, make_user):
    proposer = make_user(R, "proposer")
    review = review_open(content_item=item)
    return review_submit(
        review=review,
        actor=proposer,
        expected_version=review.version,
        comment="Checked the evidence and the badge",
    )


@pytest.mark.parametrize("role", sorted(EVERYONE))
@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_role_sees_exactly_its_pages(client, make_user, proposed_review, role, page):
    client.force_login(make_user(role))
    response = client.get(page.format(review=proposed_review.pk))
    expected = 200 if role in PAGES[page] else 403
    assert response.status_code == expected, f"{role} on {page}"


def test_anonymous_visitors_are_sent_to_the_login_or_refused(client, proposed_review):
    for page in PAGES:
        response = client.get(page.format(review=proposed_review.pk))
        if page.startswith("/api/"):
            assert response.status_code == 403
        else:
            assert response.status_code == 302 and "/admin/login/" in response["Location"], page


DECISIONS = {
    # decision → roles whose attempt on a proposed review succeeds
    "approve": {A, AD},
    "reject": {A, AD},
    "request_changes": {R, A, AD},
}


@pytest.mark.parametrize("role", sorted(EVERYONE))
@pytest.mark.parametrize("decision", sorted(DECISIONS))
def test_review_decisions_in_the_admin_follow_the_roles(client, make_user, proposed_review, role, decision):
    client.force_login(make_user(role))
    version = proposed_review.version
    response = client.post(
        f"/admin/audits/review/{proposed_review.pk}/change/",
        {"decision": decision, "version": version, "comment": "because"},
    )
    proposed_review.refresh_from_db()
    if role in DECISIONS[decision]:
        assert response.status_code == 302 and proposed_review.version == version + 1
    else:
        assert response.status_code in (302, 403)
        assert proposed_review.version == version and proposed_review.status == ReviewStatus.IN_REVIEW


@pytest.mark.parametrize("role", sorted(EVERYONE))
@pytest.mark.parametrize("decision", sorted(DECISIONS))
def test_review_decisions_over_the_api_follow_the_roles(client, make_user, proposed_review, role, decision):
    client.force_login(make_user(role))
    response = client.post(
        f"/api/v1/audits/reviews/{proposed_review.pk}/{decision}",
        {"version": proposed_review.version, "comment": "because"},
        content_type="application/json",
    )
    if role in DECISIONS[decision]:
        assert response.status_code == 200, response.content
        assert response.json()["version"] == proposed_review.version + 1
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] in ("forbidden", "permission_denied")


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_only_approvers_see_the_bulk_sign_off_action(client, make_user, proposed_review, role):
    client.force_login(make_user(role))
    response = client.get("/admin/audits/review/")
    if response.status_code != 200:
        return
    assert ('value="approve_selected"' in response.content.decode()) == (role in {A, AD})
    assert ('value="propose_selected"' in response.content.decode()) == (role in {R, AD})


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_only_auditors_and_administrators_export_the_trail(client, make_user, role):
    event = audit_record(action="test.event", actor="system:test")
    client.force_login(make_user(role))
    response = client.post(
        "/admin/audits/auditevent/", {"action": "export_csv", "_selected_action": [event.pk]}
    )
    exported = response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert exported == (role in {AU, AD})


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_only_administrators_anchor_on_demand(client, make_user, role):
    audit_record(action="test.event", actor="system:test")
    client.force_login(make_user(role))
    response = client.post("/admin/audits/auditevent/anchor/")
    assert (response.status_code == 302) == (role == AD)
    from audits.models import AuditAnchor

    assert AuditAnchor.objects.exists() == (role == AD)


def test_api_tokens_of_pipelines_cannot_decide(client, proposed_review):
    from provenance.auth import api_client_create

    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")
    response = client.post(
        f"/api/v1/audits/reviews/{proposed_review.pk}/approve",
        {"version": 2, "comment": "Checked"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issued.token}",
    )
    assert response.status_code == 403
    assert Review.objects.get(pk=proposed_review.pk).status == ReviewStatus.IN_REVIEW


def test_an_inactive_approver_is_refused(make_user, proposed_review):
    from audits.services import RoleRequired, review_approve

    approver = make_user(A)
    User.objects.filter(pk=approver.pk).update(is_active=False)
    approver.refresh_from_db()
    with pytest.raises(RoleRequired):
        review_approve(
            review=proposed_review,
            actor=approver,
            expected_version=proposed_review.version,
            comment="Checked the proposal against the evidence",
        )
    assert AuditEvent.objects.filter(action="review.refused").exists()
