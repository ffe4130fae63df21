"""The registry as compliance staff see it in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.models import ContentItem

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/provenance/contentitem/"


@pytest.fixture
def synced(mariadb_store):
    run = sync_run(full=True, media=mariadb_store.media)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return mariadb_store


@pytest.fixture
def staff(client):
    user = User.objects.create_user("reviewer", password="x" * 16, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_contentitem", "view_syncrun"]))
    client.force_login(user)
    return user


def test_the_changelist_shows_items_with_thumbnails(synced, staff, client):
    response = client.get(CHANGELIST, {"surface__exact": "product_image", "store": "default"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "/staff/media/thumbnails/" in body
    item = ContentItem.objects.filter(surface="product_image", problem_code="").first()
    thumb = client.get(f"/staff/media/thumbnails/{item.pk}.png")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/png"
    assert thumb.content.startswith(b"\x89PNG")


def test_hostile_labels_and_titles_are_escaped(synced, staff, client):
    item = ContentItem.objects.filter(label__contains="<script>").first()
    assert item is not None
    for url in (CHANGELIST + "?q=script", f"{CHANGELIST}{item.pk}/change/"):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"problem": "any"}, lambda i: i.problem_code != ""),
        ({"problem": "decompression_bomb"}, lambda i: i.problem_code == "decompression_bomb"),
        ({"surface__exact": "cms_page"}, lambda i: i.surface == "cms_page"),
        ({"store": "de"}, lambda i: i.store_code == "de"),
        ({"origin__exact": "unknown"}, lambda i: i.origin == "unknown"),
    ],
)
def test_filters_narrow_the_list(synced, staff, client, params, check):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    items = list(response.context["cl"].queryset)
    assert items and all(check(i) for i in items)


def test_search_finds_items_by_sku_identifier_and_file(synced, staff, client):
    image = ContentItem.objects.filter(surface="product_image").first()
    block = ContentItem.objects.filter(surface="cms_block").first()
    for term, wanted in ((image.sku, image), (block.identifier, block), (image.file_path, image)):
        found = list(client.get(CHANGELIST, {"q": term}).context["cl"].queryset)
        assert wanted in found


def test_the_registry_cannot_be_edited_or_deleted_in_the_admin(synced, client):
    admin = User.objects.create_superuser("root", password="x" * 16)
    client.force_login(admin)
    item = ContentItem.objects.first()
    client.post(f"{CHANGELIST}{item.pk}/change/", {"label": "edited"})
    assert ContentItem.objects.get(pk=item.pk).label == item.label
    assert client.get(f"{CHANGELIST}{item.pk}/delete/").status_code == 403
    assert client.get(CHANGELIST + "add/").status_code == 403


def test_sync_now_runs_a_sync_and_records_it(mariadb_store, client):
    admin = User.objects.create_superuser("root", password="x" * 16)
    client.force_login(admin)
    response = client.post("/admin/magento_bridge/syncrun/sync-now/", {"mode": "full"})
    assert response.status_code == 302
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.triggered_by == "admin:root" and run.mode == "full"
    listing = client.get("/admin/magento_bridge/syncrun/").content.decode()
    assert "Succeeded" in listing and "Incremental cursors" in listing


def test_sync_now_needs_the_permission(mariadb_store, staff, client):
    response = client.post("/admin/magento_bridge/syncrun/sync-now/", {"mode": "full"})
    assert response.status_code == 403
    assert not SyncRun.objects.exists()


def test_sync_now_refuses_get(mariadb_store, client):
    client.force_login(User.objects.create_superuser("root", password="x" * 16))
    assert client.get("/admin/magento_bridge/syncrun/sync-now/").status_code == 405


def test_thumbnails_are_for_staff_only(synced, client):
    item = ContentItem.objects.filter(surface="product_image", problem_code="").first()
    response = client.get(f"/staff/media/thumbnails/{item.pk}.png")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_changelist_query_count_does_not_grow_with_the_page(
    synced, staff, client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        client.get(CHANGELIST)


def test_sync_now_with_an_unknown_store_code_says_so_and_records_no_run(mariadb_store, client):
    client.force_login(User.objects.create_superuser("root", password="x" * 16))
    response = client.post(
        "/admin/magento_bridge/syncrun/sync-now/", {"mode": "full", "store": "nosuch"}, follow=True
    )
    assert response.status_code == 200
    notes = [str(m) for m in response.context["messages"]]
    assert any("unknown store code(s): nosuch" in note for note in notes), notes
    assert not SyncRun.objects.exists()
