"""Times, sizes and codes as the workspace writes them for people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from audits.humanize import ago, size, status_label, waited, when

NOW = datetime(2026, 12, 4, 11, 33, tzinfo=UTC)


def test_a_moment_ago_is_just_now_not_zero_minutes():
    assert ago(NOW - timedelta(seconds=20), NOW) == "just now"
    assert ago(NOW - timedelta(minutes=5), NOW) == "5\xa0minutes ago"
    assert ago(NOW - timedelta(days=2, hours=3), NOW) == "2\xa0days ago"
    assert waited(NOW - timedelta(seconds=5), NOW) == "under a minute"
    assert ago(None) == "" and waited(None) == ""


def test_times_carry_their_time_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    assert when(NOW) == "2026-12-04 12:33 CET"
    settings.TIME_ZONE = "UTC"
    assert when(NOW) == "2026-12-04 11:33 UTC"
    assert when(None) == ""


def test_sizes_and_status_codes_read_as_words():
    assert size(141915) == "138.6 KB"
    assert size(None) == ""
    assert status_label("in_review") == "In review (awaiting approver)"
    assert status_label("no review") == "no review"
