"""Media evidence in the admin: the C2PA summary, every finding, hostile text escaped, review filters."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from provenance.models import C2paState, ContentItem, Origin

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/provenance/contentitem/"
HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def staff(client):
    user = User.objects.create_user("reviewer", password="x" * 16, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_contentitem"))
    client.force_login(user)
    return user


def item(magento_id: int, origin: str, c2pa_state: str = "", evidence: list | None = None) -> ContentItem:
    return ContentItem.objects.create(
        store_code="default",
        surface="product_image",
        magento_id=magento_id,
        part_key=str(magento_id),
        file_path=f"/a/b/{magento_id}.jpg",
        origin=origin,
        c2pa_state=c2pa_state,
        media_evidence=evidence or [],
        content_sha256="ab" * 32,
    )


def manifest_evidence(signer: str) -> list[dict]:
    return [
        {
            "kind": "c2pa_manifest",
            "strength": "conclusive",
            "detail": f"C2PA manifest (trusted) signed by {signer}",
            "manifest": {
                "validation_state": "Trusted",
                "failures": [],
                "signer": signer,
                "issuer": "Clinic Imaging",
                "signing_alg": "Es256",
                "signed_at": "",
                "claim_generator": "Provenant 0.1.0",
                "title": HOSTILE,
                "actions": [
                    {
                        "action": "c2pa.created",
                        "digital_source_type": "http://x/trainedAlgorithmicMedia",
                        "software_agent": HOSTILE,
                    }
                ],
                "manifests": 1,
                "state": "trusted",
            },
        }
    ]


def test_an_image_shows_its_manifest_summary_with_hostile_text_escaped(staff, client):
    shown = item(1, Origin.SYNTHETIC, C2paState.TRUSTED, manifest_evidence(HOSTILE))

    body = client.get(f"{CHANGELIST}{shown.pk}/change/").content.decode()
    assert "Trusted" in body and "Clinic Imaging" in body and "c2pa.created" in body
    assert "trainedAlgorithmicMedia" in body
    assert HOSTILE not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body


def test_an_image_without_marks_says_so(staff, client):
    plain = item(2, Origin.UNKNOWN)
    body = client.get(f"{CHANGELIST}{plain.pk}/change/").content.decode()
    assert "No C2PA manifest." in body
    assert (
        "No marks found in the file&#x27;s metadata." in body
        or "No marks found in the file's metadata." in body
    )


@pytest.mark.parametrize(
    ("focus", "expected"),
    [
        ("synthetic_without_c2pa", {3, 5}),
        ("suspected", {6}),
        ("c2pa_invalid", {5, 6}),
    ],
)
def test_the_review_filters_select_the_right_items(staff, client, focus, expected):
    item(3, Origin.SYNTHETIC)  # IPTC only
    item(4, Origin.SYNTHETIC, C2paState.TRUSTED)
    item(5, Origin.SYNTHETIC, C2paState.INVALID)
    item(6, Origin.SUSPECTED, C2paState.UNREADABLE)
    item(7, Origin.UNKNOWN)

    response = client.get(CHANGELIST, {"focus": focus})
    assert response.status_code == 200
    shown = {obj.magento_id for obj in response.context["cl"].result_list}
    assert shown == expected
