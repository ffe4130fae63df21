"""A fresh migrate gives the roles the permissions of every app, those listed after audits too."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from audits.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("app_label", ["datasets", "lineage", "provenance"])
def test_the_auditor_role_can_view_each_apps_records_after_migrate(app_label):
    # No roles_sync() here: the groups are as `migrate` left the test database.
    auditor = Group.objects.get(name=Role.AUDITOR)
    codenames = set(
        auditor.permissions.filter(content_type__app_label=app_label).values_list("codename", flat=True)
    )
    assert any(codename.startswith("view_") for codename in codenames), codenames
