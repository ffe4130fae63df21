"""The compliance workspace in headless Chromium: every admin page renders for every role without
errors, a reviewer and an approver take an item through sign-off, and the dashboard and review queue
screenshots under docs/screenshots/ are refreshed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User

from audits.models import AuditEvent, Classification, Incident, Review, ReviewStatus
from audits.roles import Role, roles_sync
from audits.services import (
    classification_approve,
    classification_propose,
    incident_open,
    review_approve,
    review_submit,
    reviews_open_missing,
)
from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.models import Generator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# PROVENANT_SCREENSHOTS=docs/screenshots refreshes the committed screenshots; otherwise they go to a
# temporary directory, so running the suite leaves the work tree as it was.
SCREENSHOTS = os.environ.get("PROVENANT_SCREENSHOTS")
PASSWORD = "a-long-test-password"


@pytest.fixture
def workspace(mariadb_store):
    """A synced demo store, the roles, one user per role, a generator and open reviews."""
    run = sync_run(full=True, media=mariadb_store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    roles_sync(apps)
    users = {}
    for role in Role.ALL:
        user = User.objects.create_user(role.lower(), password=PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        users[role] = User.objects.get(pk=user.pk)
    second = User.objects.create_user("approver2", password=PASSWORD, is_staff=True)
    second.groups.add(Group.objects.get(name=Role.APPROVER))
    users["approver2"] = User.objects.get(pk=second.pk)
    Generator.objects.create(name="demo-image-model", provider="Demo Imaging Ltd", version="2.1")
    reviews_open_missing()
    return users


class Session:
    def __init__(self, browser, live_server, username: str, width: int = 1400) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 1000})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console: {m.text} at {m.location.get('url')}")
                if m.type == "error"
                else None
            ),
        )
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on(
            "response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        self.base = live_server.url
        self.page.goto(f"{self.base}/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("input[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def open(self, path: str) -> int:
        response = self.page.goto(f"{self.base}{path}", wait_until="load")
        return response.status

    def close(self) -> None:
        self.context.close()


def admin_pages(session: Session) -> list[str]:
    """Every page the role reaches from the admin index, plus each one's add page when offered."""
    session.open("/admin/")
    links = session.page.eval_on_selector_all(
        "#content-main a[href^='/admin/']", "as => as.map(a => a.getAttribute('href'))"
    )
    return sorted(set(links))


def test_every_admin_page_renders_for_every_role(browser, live_server, workspace):
    review = Review.objects.filter(content_item__isnull=False).first()
    proposal = classification_propose(
        generator=Generator.objects.get(),
        use_case="Product images",
        answers={"deployer": True},
        actor=workspace[Role.REVIEWER],
    )
    incident = incident_open(title="Demo incident", severity="serious", actor=workspace[Role.REVIEWER])
    detail_pages = {
        f"/admin/audits/review/{review.pk}/change/": "audits.view_review",
        f"/admin/audits/classification/{proposal.pk}/change/": "audits.view_classification",
        f"/admin/audits/incident/{incident.pk}/change/": "audits.view_incident",
        "/admin/workspace/dashboard/": None,
        "/admin/workspace/totp/setup/": None,
    }
    visited = 0
    for role in Role.ALL:
        session = Session(browser, live_server, role.lower())
        pages = admin_pages(session)
        assert pages, f"{role} sees no admin pages"
        pages += [p for p, perm in detail_pages.items() if perm is None or workspace[role].has_perm(perm)]
        for path in pages:
            status = session.open(path)
            assert status == 200, f"{role}: {path} answered {status}"
            assert session.page.locator("#content").count() == 1, f"{role}: {path} has no content"
            visited += 1
        assert session.errors == [], f"{role}: {session.errors}"
        session.close()
    assert visited > 60


def test_a_reviewer_and_an_approver_take_an_item_through_sign_off(browser, live_server, workspace, tmp_path):
    reviewer = Session(browser, live_server, "reviewer")
    reviewer.open("/admin/audits/review/?subject=content")
    reviewer.page.locator("#result_list tbody tr a").first.click()
    reviewer.page.wait_for_load_state("networkidle")
    review_id = int(reviewer.page.url.rstrip("/").split("/")[-2])
    reviewer.page.fill("#id_comment", "Label and badge checked")
    reviewer.page.click("button[value=submit]")
    reviewer.page.wait_for_load_state("networkidle")
    assert "Proposed for sign-off" in reviewer.page.inner_text(".messagelist")
    assert reviewer.page.locator("button[value=approve]").count() == 0
    reviewer.close()

    approver = Session(browser, live_server, "approver")
    approver.open("/admin/audits/review/?queue=awaiting")
    approver.page.screenshot(path=str(tmp_path / "review-queue-awaiting.png"))
    approver.open(f"/admin/audits/review/{review_id}/change/")
    approver.page.fill("#id_comment", "Signed off")
    approver.page.click("button[value=approve]")
    approver.page.wait_for_load_state("networkidle")
    assert "Signed off" in approver.page.inner_text(".messagelist")
    assert Review.objects.get(pk=review_id).status == ReviewStatus.APPROVED

    # Classify the generator through the questionnaire.
    approver.open("/admin/audits/classification/add/")
    approver.page.select_option("#id_generator", label=str(Generator.objects.get()))
    approver.page.fill("#id_use_case", "Product images")
    for key in ("deployer", "provider", "generates_synthetic"):
        approver.page.check(f"#id_q_{key}")
    approver.page.click("input[name=_save]")
    approver.page.wait_for_load_state("networkidle")
    classification = Classification.objects.get()
    assert classification.risk_class == "transparency"

    # Open an incident and close it.
    approver.open("/admin/audits/incident/add/")
    approver.page.fill("#id_title", "Generated image shows the wrong dosage")
    approver.page.select_option("#id_severity", "serious")
    approver.page.click("input[name=_save]")
    approver.page.wait_for_load_state("networkidle")
    incident = Incident.objects.get()
    approver.open(f"/admin/audits/incident/{incident.pk}/change/")
    approver.page.click("button:has-text('Mark done') >> nth=0")
    approver.page.wait_for_load_state("networkidle")
    approver.page.fill("#id_note", "Image replaced and re-reviewed.")
    approver.page.click("button[value=closed]")
    approver.page.wait_for_load_state("networkidle")
    incident.refresh_from_db()
    assert incident.status == "closed"
    assert approver.errors == []
    approver.close()

    second = Session(browser, live_server, "approver2")
    second.open(f"/admin/audits/classification/{classification.pk}/change/")
    second.page.click("button[name=_approve]")
    second.page.wait_for_load_state("networkidle")
    assert Classification.objects.get().status == "approved"
    second.open("/admin/workspace/dashboard/")
    assert "Review backlog" in second.page.inner_text("#dashboard")
    second.open("/admin/audits/auditevent/")
    trail = second.page.inner_text("#result_list")
    for action in ("review.approved", "classification.proposed", "incident.opened", "incident.status"):
        assert action in trail
    second.close()
    assert AuditEvent.objects.filter(action="review.in_review", actor="reviewer").exists()


def test_dashboard_and_review_queue_screenshots(browser, live_server, workspace, tmp_path):
    """Renders the dashboard and review queue of a lived-in workspace (and refreshes
    docs/screenshots/dashboard.png and review-queue.png when PROVENANT_SCREENSHOTS names that folder)."""
    reviewer, approver = workspace[Role.REVIEWER], workspace[Role.APPROVER]
    reviews = list(Review.objects.filter(content_item__isnull=False)[:12])
    for review in reviews[:8]:
        review = review_submit(
            review=review,
            actor=reviewer,
            expected_version=review.version,
            comment="Checked the evidence and the badge",
        )
    for review in reviews[:5]:
        review.refresh_from_db()
        review_approve(
            review=review,
            actor=approver,
            expected_version=review.version,
            comment="Checked the proposal against the evidence",
        )
    generator = Generator.objects.get()
    proposal = classification_propose(
        generator=generator,
        use_case="Product images",
        answers={"deployer": True, "provider": True, "generates_synthetic": True},
        actor=reviewer,
    )
    classification_approve(classification=proposal, actor=approver)
    other = Generator.objects.create(name="triage-assistant", provider="Clinic IT")
    proposal = classification_propose(
        generator=other,
        use_case="Symptom checker",
        actor=reviewer,
        answers={"deployer": True, "annex3_5d": True},
    )
    classification_approve(classification=proposal, actor=approver)
    from datetime import timedelta

    from django.utils import timezone

    incident_open(
        title="Generated page overstates a supplement's effect",
        severity="serious",
        actor=reviewer,
        aware_at=timezone.now() - timedelta(days=9),
    )
    incident_open(
        title="Deep-fake testimonial video",
        severity="widespread",
        actor=reviewer,
        aware_at=timezone.now() - timedelta(days=3),
    )

    session = Session(browser, live_server, "approver", width=1600)
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    session.open("/admin/workspace/dashboard/")
    session.page.screenshot(path=str(folder / "dashboard.png"), full_page=True)
    session.open("/admin/audits/review/")
    session.page.screenshot(path=str(folder / "review-queue.png"))
    assert session.errors == []
    session.close()
