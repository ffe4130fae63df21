"""``manage.py audits_demo_users``: demo logins, and the true size of the review queue."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from audits.services import review_open

pytestmark = pytest.mark.django_db


def test_it_reports_the_pending_reviews_the_sync_opened_too(settings, make_item, roles):
    settings.DEBUG = True
    for _ in range(3):
        review_open(content_item=make_item())  # as the sync opens them
    make_item()  # no review yet: the command opens it, and one for the demo generator
    out = io.StringIO()
    call_command("audits_demo_users", stdout=out)
    assert "Opened 2 more review(s); 5 pending review(s) in the queue." in out.getvalue()
