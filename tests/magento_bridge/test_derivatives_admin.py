"""The admin shows, on a product image's page, what shoppers receive; sync runs count unmarked
derivatives."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from magento_bridge.models import Derivative, SyncRun
from provenance.models import ContentItem, Origin

pytestmark = pytest.mark.django_db

HOSTILE = '<img src=x onerror="alert(1)">'
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


@pytest.fixture
def staff(client):
    user = User.objects.create_user("reviewer", password="x" * 16, is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_contentitem"), Permission.objects.get(codename="view_syncrun")
    )
    client.force_login(user)
    return user


def image(magento_id: int, origin: str = Origin.SYNTHETIC, surface: str = "product_image") -> ContentItem:
    return ContentItem.objects.create(
        store_code="default",
        surface=surface,
        magento_id=magento_id,
        part_key=str(magento_id),
        file_path=f"/a/b/{magento_id}.jpg" if surface == "product_image" else "",
        origin=origin,
        content_sha256="ab" * 32,
    )


def derivative(item: ContentItem, cache_hash: str, **values) -> Derivative:
    return Derivative.objects.create(
        item=item,
        path=f"/cache/{cache_hash}{item.file_path}",
        cache_hash=cache_hash,
        size=5120,
        format="JPEG",
        width=265,
        height=265,
        **values,
    )


def test_a_synthetic_image_shows_each_derivative_and_the_layers_that_survive(staff, client):
    item = image(1)
    derivative(item, "aa", xmp_source_type=TRAINED)
    derivative(item, "bb")
    derivative(item, "cc", problem_code="truncated", problem=HOSTILE)

    body = client.get(f"/admin/provenance/contentitem/{item.pk}/change/").content.decode()

    assert "What shoppers receive" in body
    assert "/cache/aa/a/b/1.jpg" in body and "Marked: xmp" in body and "trainedAlgorithmicMedia" in body
    assert "/cache/bb/a/b/1.jpg" in body and "No machine-readable mark" in body
    assert "265×265" in body and "5120" in body
    assert HOSTILE not in body and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body


def test_cms_content_has_no_shoppers_table(staff, client):
    block = image(2, surface="cms_block")
    body = client.get(f"/admin/provenance/contentitem/{block.pk}/change/").content.decode()
    assert "What shoppers receive" not in body


def test_the_table_needs_permission_to_view_the_item_and_offers_no_changes(staff, client):
    item = image(3)
    derivative(item, "aa")
    clerk = User.objects.create_user("clerk", password="x" * 16, is_staff=True)
    client.force_login(clerk)
    assert client.get(f"/admin/provenance/contentitem/{item.pk}/change/").status_code == 403
    client.force_login(staff)
    body = client.get(f"/admin/provenance/contentitem/{item.pk}/change/").content.decode()
    assert "What shoppers receive" in body
    assert 'id="derivatives-group"' in body
    assert "derivatives-0-DELETE" not in body and 'name="derivatives-0-path"' not in body


def test_the_sync_run_list_counts_unmarked_derivatives(staff, client):
    SyncRun.objects.create(
        mode="full",
        status="succeeded",
        media={"derivatives": {"enabled": True, "discoverable": True, "without_marks": 7}},
    )
    SyncRun.objects.create(
        mode="full", status="succeeded", media={"derivatives": {"enabled": True, "discoverable": False}}
    )
    body = client.get("/admin/magento_bridge/syncrun/").content.decode()
    assert "Unmarked derivatives" in body
    assert '<td class="field-unmarked_derivatives">7</td>' in body
    assert '<td class="field-unmarked_derivatives">—</td>' in body
