"""The compliance dashboard: coverage, backlog by age, risk mix, overdue classifications, incidents, sync."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from audits.models import Review
from audits.selectors import disclosure_coverage, review_backlog_by_age
from audits.services import classification_approve, classification_propose, incident_open, review_open
from magento_bridge.models import SyncRun


def test_coverage_counts_the_synthetic_items_published_to_shoppers(make_item):
    make_item()
    make_item()
    make_item(is_enabled=False)  # not published: nothing to disclose
    make_item(is_hidden=True)  # a hidden image: not published either
    make_item(origin="human")
    make_item(removed_at=timezone.now())
    unmatched = make_item(sku="")  # the storefront has no SKU to put its badge on
    coverage = disclosure_coverage()
    assert (coverage.disclosed, coverage.published, coverage.percent) == (2, 3, 67)
    assert coverage.undisclosed_ids == [unmatched.pk]


def test_the_dashboard_and_the_package_register_share_one_coverage_definition(make_item):
    from audits.packages.build import _Scope, _Staging, _write_registers

    make_item()
    make_item(is_enabled=False)
    make_item(is_hidden=True)
    make_item(sku="")
    make_item(origin="suspected")
    dashboard = disclosure_coverage()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        scope = _Scope(store_code="", since=None, since_at=None, package_id=None)
        package = _write_registers(_Staging(Path(tmp)), scope, size=0)["coverage"]
    assert (package.disclosed, package.published) == (dashboard.disclosed, dashboard.published) == (1, 2)


def test_every_needs_attention_line_links_to_its_filtered_list(
    client, approver, make_item, generator, reviewer
):
    make_item(sku="")
    review = review_open(content_item=make_item())
    type(review).objects.filter(pk=review.pk).update(status="in_review")
    proposal = classification_propose(generator=generator, use_case="Images", answers={}, actor=reviewer)
    approved = classification_approve(classification=proposal, actor=approver)
    type(approved).objects.filter(pk=approved.pk).update(due_at=timezone.now() - timedelta(days=2))
    incident = incident_open(
        title="Overdue", severity="widespread", actor=reviewer, aware_at=timezone.now() - timedelta(days=5)
    )
    client.force_login(approver)
    page = client.get("/admin/workspace/dashboard/").content.decode()
    attention = page.split("Needs attention:", 1)[1].split("</p>", 1)[0]
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', attention)
    texts = [text for _, text in links]
    assert any("without a badge" in t for t in texts)
    assert any("classification(s) overdue" in t for t in texts)
    assert any("incident report(s) overdue" in t for t in texts)
    assert any("awaiting sign-off" in t for t in texts)
    assert len(links) == attention.count(" · ") + 1  # every line is a link
    for url, text in links:
        response = client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200, (url, text)
    incidents = client.get("/admin/audits/incident/?overdue=yes").content.decode()
    assert "Overdue" in incidents and f"/admin/audits/incident/{incident.pk}/change/" in incidents
    classifications = client.get("/admin/audits/classification/?overdue=yes").content.decode()
    assert f"/admin/audits/classification/{approved.pk}/change/" in classifications


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


def test_each_witness_shows_its_last_cosignature_and_a_late_one_needs_attention(client, approver, settings):
    import json

    from provenance.models import Checkpoint, WitnessCosignature
    from provenance.standards import notes
    from provenance.standards.witness import CosignatureSigner, parse_witness_list

    signers = [
        CosignatureSigner.from_key_string(notes.generate_signer(f"witness.test/w{n}")[1]) for n in (1, 2)
    ]
    settings.LOG_WITNESSES = parse_witness_list(
        json.dumps(
            [{"name": s.name, "url": "https://witness.test", "vkey": s.verifier_key()} for s in signers]
        )
    )
    settings.LOG_WITNESS_ALERT_MINUTES = 60
    now = timezone.now()
    old = Checkpoint.objects.create(
        size=10, root_hash=bytes(32), origin="o", note="n", created_at=now - timedelta(hours=3)
    )
    latest = Checkpoint.objects.create(
        size=20, root_hash=bytes(32), origin="o", note="n", created_at=now - timedelta(minutes=90)
    )
    stamp = int((now - timedelta(hours=3)).timestamp())
    WitnessCosignature.objects.create(
        checkpoint=old, witness="witness.test/w1", key_id="0" * 8, timestamp=stamp, signature="-"
    )
    WitnessCosignature.objects.create(
        checkpoint=old, witness="witness.test/w2", key_id="0" * 8, timestamp=stamp, signature="-"
    )
    WitnessCosignature.objects.create(
        checkpoint=latest, witness="witness.test/w2", key_id="0" * 8, timestamp=stamp + 60, signature="-"
    )
    client.force_login(approver)
    page = client.get("/admin/workspace/dashboard/").content.decode()
    attention = page.split("Needs attention:", 1)[1].split("</p>", 1)[0]
    assert (
        "1 witness(es) have not cosigned the latest checkpoint for over 60 min: witness.test/w1" in attention
    )
    assert 'href="/admin/workspace/dashboard/#t-witnesses"' in attention
    tile = page.split("data-witnesses>", 1)[1].split("</section>", 1)[0]
    assert (
        "<strong>witness.test/w1</strong>:\n          cosigned size 10 3\xa0hours ago"
        " · behind the latest size 20 (alert)" in tile
    )
    assert (
        "<strong>witness.test/w2</strong>:\n          cosigned size 20" in tile
        and "behind" not in tile.split("w2")[1]
    )

    # Within the grace period a witness that is behind is shown, not alerted.
    settings.LOG_WITNESS_ALERT_MINUTES = 120
    page = client.get("/admin/workspace/dashboard/").content.decode()
    assert "have not cosigned the latest checkpoint" not in page
    assert "behind the latest size 20</li>" in page
