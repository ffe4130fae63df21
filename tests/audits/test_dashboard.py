"""The compliance dashboard: coverage, backlog by age, risk mix, overdue classifications, incidents, sync."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import Review
from audits.selectors import disclosure_coverage, register_badged_items_filter, review_backlog_by_age
from audits.services import classification_approve, classification_propose, incident_open, review_open
from magento_bridge.models import SyncRun


@pytest.fixture
def restore_badge_filter():
    yield
    register_badged_items_filter(None)


def test_coverage_counts_present_enabled_synthetic_items_by_default(make_item, restore_badge_filter):
    make_item()
    make_item()
    make_item(is_enabled=False)
    make_item(origin="human")
    make_item(removed_at=timezone.now())
    coverage = disclosure_coverage()
    assert (coverage.badged, coverage.synthetic, coverage.percent) == (2, 3, 67)


def test_the_disclosure_app_can_supply_which_items_are_badged(make_item, restore_badge_filter):
    badged = make_item()
    make_item()
    register_badged_items_filter(lambda items: items.filter(pk=badged.pk))
    assert disclosure_coverage().percent == 50


def test_the_backlog_is_bucketed_by_age(make_item):
    for days in (0, 3, 3, 40):
        review = review_open(content_item=make_item())
        Review.objects.filter(pk=review.pk).update(queued_at=timezone.now() - timedelta(days=days, hours=1))
    assert [row["total"] for row in review_backlog_by_age()] == [1, 2, 0, 1]


def test_the_dashboard_shows_everything_at_a_glance(client, reviewer, approver, make_item, generator):
    review_open(content_item=make_item())
    proposal = classification_propose(generator=generator, use_case="Images", answers={}, actor=reviewer)
    approved = classification_approve(classification=proposal, actor=approver)
    type(approved).objects.filter(pk=approved.pk).update(due_at=timezone.now() - timedelta(days=2))
    incident_open(
        title="<i>Fake</i> testimonial",
        severity="widespread",
        actor=reviewer,
        aware_at=timezone.now() - timedelta(days=5),
    )
    SyncRun.objects.create(mode="full", status="succeeded", finished_at=timezone.now())
    SyncRun.objects.create(mode="incremental", status="failed", finished_at=timezone.now(), error="down")
    client.force_login(approver)
    page = client.get("/admin/workspace/dashboard/").content.decode()
    assert "Disclosure coverage" in page and "100%" in page
    assert "Review backlog: 1 open" in page
    assert "Open incidents: 1 (1 overdue)" in page and "&lt;i&gt;Fake&lt;/i&gt; testimonial" in page
    assert "Reclassification: 1 overdue" in page
    assert "Magento sync: failing" in page
    assert page.count("<svg") >= 5
    assert "Latest in the audit trail" in page


def test_the_admin_index_links_the_dashboard_and_the_queue(client, reviewer):
    client.force_login(reviewer)
    page = client.get("/admin/").content.decode()
    assert 'href="/admin/workspace/dashboard/"' in page and 'href="/admin/audits/review/"' in page


def test_the_dashboard_reads_a_bounded_number_of_queries(
    client, approver, make_item, django_assert_max_num_queries
):
    for _ in range(30):
        review_open(content_item=make_item())
    client.force_login(approver)
    with django_assert_max_num_queries(40):
        client.get("/admin/workspace/dashboard/")


def test_a_usage_error_recorded_as_a_failed_run_does_not_turn_the_sync_red(client, approver):
    from audits.selectors import sync_health

    SyncRun.objects.create(mode="full", status="succeeded", finished_at=timezone.now())
    # As an older release recorded a typo on the command line: a failed run that never started work.
    SyncRun.objects.create(
        mode="incremental",
        status="failed",
        store_code="nosuch",
        finished_at=timezone.now(),
        error="unknown store code(s): nosuch (known: de, default)",
    )
    health = sync_health()
    assert health["verdict"] == "healthy" and health["failed_24h"] == 0
    assert [run.status for run in health["runs"]] == ["succeeded"]
    client.force_login(approver)
    page = client.get("/admin/workspace/dashboard/").content.decode()
    assert "Magento sync failing" not in page


def test_a_misconfigured_store_list_still_counts_as_failing(db):
    from audits.selectors import sync_health

    SyncRun.objects.create(mode="full", status="succeeded", finished_at=timezone.now())
    SyncRun.objects.create(
        mode="incremental",
        status="failed",
        finished_at=timezone.now(),
        error="unknown store code(s): fr (known: de)",
    )
    assert sync_health()["verdict"] == "failing"
