"""The disclosure admin: policies saved as new versions, switches logged, staff only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from disclosure.models import AuditSwitch, DisclosurePolicy, StorefrontSettings
from disclosure.services import policy_version_create
from provenance.models import LogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(client):
    user = User.objects.create_superuser("officer", password="a-long-test-password")
    client.force_login(user)
    return user


def test_editing_a_policy_in_the_admin_writes_version_2_and_keeps_version_1(client, officer):
    one = policy_version_create(
        store_code="",
        surface="product_image",
        kind="generated",
        locale="en_US",
        label="AI image",
        explanation="Made with AI.",
    )
    response = client.post(
        f"/admin/disclosure/disclosurepolicy/{one.pk}/change/",
        {
            "locale": "en_US",
            "label": "AI-generated picture",
            "explanation": "Made with AI.",
            "learn_more_url": "",
            "icon": "info",
        },
    )
    assert response.status_code == 302
    versions = list(
        DisclosurePolicy.objects.order_by("version").values_list("version", "label", "created_by")
    )
    assert versions == [(1, "AI image", None), (2, "AI-generated picture", officer.pk)]


def test_setting_a_switch_in_the_admin_is_logged(client, officer):
    response = client.post(
        "/admin/disclosure/auditswitch/add/",
        {"store_code": "de", "surface": "cms_block", "mode": "suppress", "reason": "Inspection 2026-03"},
    )
    assert response.status_code == 302
    switch = AuditSwitch.objects.get()
    assert switch.mode == "suppress" and switch.changed_by == officer
    assert LogEntry.objects.get(index=switch.log_index).kind == "disclosure.switch"


def test_storefront_settings_refuse_an_origin_with_a_path(client, officer):
    response = client.post(
        "/admin/disclosure/storefrontsettings/add/",
        {"store_code": "default", "allowed_origins": "https://shop.example.com/catalog"},
    )
    assert response.status_code == 200
    assert not StorefrontSettings.objects.exists()


def test_people_without_staff_access_cannot_change_anything(client):
    user = User.objects.create_user("shopper", password="a-long-test-password")
    client.force_login(user)
    for url in ("/admin/disclosure/auditswitch/add/", "/admin/disclosure/disclosurepolicy/add/"):
        response = client.post(url, {"store_code": "de", "surface": "cms_block", "mode": "suppress"})
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not AuditSwitch.objects.exists()


def test_staff_without_the_permission_cannot_set_a_switch(client):
    user = User.objects.create_user("clerk", password="a-long-test-password", is_staff=True)
    client.force_login(user)
    response = client.post(
        "/admin/disclosure/auditswitch/add/", {"store_code": "de", "surface": "cms_block", "mode": "suppress"}
    )
    assert response.status_code == 403
    assert not AuditSwitch.objects.exists()


def test_versions_cannot_be_deleted(client, officer):
    one = policy_version_create(
        store_code="", surface="cms_page", kind="generated", locale="en_US", label="x", explanation="y"
    )
    assert (
        client.post(f"/admin/disclosure/disclosurepolicy/{one.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert DisclosurePolicy.objects.filter(pk=one.pk).exists()
