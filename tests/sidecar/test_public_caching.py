"""Public, cacheable answers do not vary on the staff session: a CDN caches one copy for everyone.

A signed-in staff member's browser sends its session cookie to every path of the sidecar; the sign-in
protection must not touch the session outside the staff paths, or Django adds ``Vary: Cookie`` (one
cache entry per visitor) and may renew the session cookie in a cacheable answer.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils.cache import get_max_age

from provenance.log import log_append

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("editor", password="pw-12345678", is_staff=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/disclosures/default?products=MED-1",
        "/log/entries?start=0",
        "/log/proof/consistency?old=0&new=1",
        "/healthz",
    ],
)
def test_public_answers_carry_no_vary_cookie_and_no_session_cookie(staff_client, path):
    log_append(kind="record.added", payload={"n": 1})
    response = staff_client.get(path)
    assert "cookie" not in response.get("Vary", "").lower(), (path, response.get("Vary"))
    assert "sessionid" not in response.cookies and "provenant_session" not in response.cookies
    assert not [c for c in response.cookies.values() if c.value], response.cookies


def test_staff_pages_still_renew_the_session(staff_client):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    assert "cookie" in response.get("Vary", "").lower()
    assert get_max_age(response) is None or get_max_age(response) == 0
