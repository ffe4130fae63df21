"""Workspace change pages with an id that is not one (a word, non-ASCII digits, a number beyond the
database's integers) answer 404, never a 500."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

JUNK = ["abc", "99999999999999999999999", "١٢", "1e3"]


@pytest.fixture
def admin_user(client):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "a-long-test-password-1")
    client.force_login(user)
    return user


@pytest.mark.parametrize("model", ["classification", "incident", "review"])
@pytest.mark.parametrize("junk", JUNK)
def test_a_junk_id_is_a_404(client, admin_user, model, junk):
    assert client.get(f"/admin/audits/{model}/{junk}/change/").status_code == 404


def test_reclassifying_from_a_junk_version_opens_an_empty_form(client, admin_user):
    assert client.get("/admin/audits/classification/add/?from=99999999999999999999999").status_code == 200
