"""How the workspace writes times, sizes and codes for people: "just now", "3 hours ago", times with
their time zone, sizes in KB/MB, and status labels instead of stored codes."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.timesince import timesince

from audits.models import ReviewStatus

JUST_NOW = timedelta(minutes=1)


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """``"just now"`` within a minute, else ``"3 hours ago"`` (the largest unit only)."""
    if value is None:
        return ""
    now = now or timezone.now()
    if now - value < JUST_NOW:
        return "just now"
    return f"{timesince(value, now, depth=1)} ago"


def waited(value: datetime | None, now: datetime | None = None) -> str:
    """How long something has waited, in its largest unit: ``"under a minute"``, ``"3 hours"``."""
    if value is None:
        return ""
    now = now or timezone.now()
    if now - value < JUST_NOW:
        return "under a minute"
    return timesince(value, now, depth=1)


def when(value: datetime | None) -> str:
    """A moment in the current time zone, with the zone: ``"2026-12-04 11:33 UTC"``."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")


def size(value: int | None) -> str:
    """Bytes for people: ``"138.5 KB"``."""
    return "" if value is None else str(filesizeformat(value)).replace("\xa0", " ")


def status_label(code: str) -> str:
    """A review status code (``in_review``) as its label; other text as it is."""
    try:
        return str(ReviewStatus(code).label)
    except ValueError:
        return code.replace("_", " ")
