"""API clients and their tokens: issued once, stored hashed, scoped, revocable from the CLI and the admin."""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.utils import timezone

from provenance.auth import ApiClientError, api_client_create, api_client_revoke, api_token_rotate
from provenance.models import ApiClient, ApiToken, Generator
from provenance.records import generation_record_submit

pytestmark = pytest.mark.django_db

URL = "/api/v1/provenance/records"
TOKEN = re.compile(r"pvt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
SHA = hashlib.sha256(b"x").hexdigest()
BODY = {
    "generator": "writer",
    "generator_version": "1",
    "prompt_sha256": SHA,
    "output_sha256": SHA,
    "output_media_type": "image/png",
    "generated_at": "2026-01-31T09:30:00Z",
    "external_id": "e-1",
}


@pytest.fixture(autouse=True)
def generator():
    return Generator.objects.create(name="writer")


def post(client, authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return client.post(URL, data=json.dumps(BODY), content_type="application/json", headers=headers)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("provenance_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --- storage ------------------------------------------------------------------------------------


def test_a_token_is_stored_only_as_its_sha256():
    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")

    assert TOKEN.fullmatch(issued.token)
    row = ApiToken.objects.get()
    assert row.token_sha256 == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token.startswith(f"pvt_{row.key_id}_")
    secret = issued.token.removeprefix(f"pvt_{row.key_id}_")  # the secret may itself contain "_"
    stored = json.dumps(list(ApiToken.objects.values()) + list(ApiClient.objects.values()), default=str)
    assert secret not in stored


def test_client_names_and_scopes_are_checked():
    with pytest.raises(ApiClientError, match="unknown scope"):
        api_client_create(name="p", scopes=["records:delete"], actor="test")
    with pytest.raises(ApiClientError, match="at least one scope"):
        api_client_create(name="p", scopes=[], actor="test")
    with pytest.raises(ApiClientError, match="client name"):
        api_client_create(name="has space", scopes=["records:write"], actor="test")
    api_client_create(name="p", scopes=["records:write"], actor="test")
    with pytest.raises(ApiClientError, match="already exists"):
        api_client_create(name="p", scopes=["records:write"], actor="test")


# --- authentication -----------------------------------------------------------------------------


def test_a_valid_token_is_accepted_and_its_use_recorded(client):
    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")

    assert post(client, f"Bearer {issued.token}").status_code == 201
    assert ApiToken.objects.get().last_used_at is not None


def test_a_missing_token_is_a_401_that_asks_for_bearer(client):
    response = post(client, None)

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer a b",
        "Bearer not-a-token",
        "Bearer pvt_000000000000_" + "A" * 43,
        "Bearer pvt_{key}_" + "A" * 43,
        "Bearer {token}x",
        "Bearer caf\u00e9",
    ],
    ids=["empty", "two-words", "garbage", "unknown-key", "wrong-secret", "extra-char", "non-ascii"],
)
def test_an_invalid_token_is_a_401(client, authorization):
    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")
    header = authorization.replace("{key}", issued.record.key_id).replace("{token}", issued.token)

    response = post(client, header)

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def test_another_scheme_is_not_a_token(client):
    response = post(client, "Basic dXNlcjpwYXNz")

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_a_revoked_client_is_a_401(client):
    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")
    assert api_client_revoke(client=issued.client, actor="test") is True

    response = post(client, f"Bearer {issued.token}")

    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]
    assert api_client_revoke(client=issued.client, actor="test") is False


def test_rotating_revokes_the_old_token(client):
    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")
    rotated = api_token_rotate(client=issued.client, actor="test")

    assert post(client, f"Bearer {issued.token}").status_code == 401
    assert post(client, f"Bearer {rotated.token}").status_code == 201


def test_a_token_without_the_write_scope_cannot_submit(client):
    issued = api_client_create(name="reader", scopes=["records:read"], actor="test")

    response = post(client, f"Bearer {issued.token}")

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert "records:write" in response.json()["error"]["message"]


def test_a_read_scope_token_reads_its_own_records(client, generator):
    issued = api_client_create(name="auditor-sync", scopes=["records:read"], actor="test")
    record = generation_record_submit(
        generator=generator,
        generator_version="1",
        prompt_sha256=SHA,
        input_sha256s=[],
        parameters={},
        output_sha256=SHA,
        output_media_type="image/png",
        generated_at=timezone.now(),
        external_id="e-1",
        actor=issued.client,
    ).record

    response = client.get(f"{URL}/{record.pk}", headers={"Authorization": f"Bearer {issued.token}"})

    assert response.status_code == 200
    assert response.json()["id"] == record.pk


def test_reading_needs_a_token(client):
    response = client.get(f"{URL}/1")

    assert response.status_code == 401


def test_a_session_login_is_not_a_token(client):
    client.force_login(User.objects.create_superuser("admin", password="x" * 16))

    response = post(client, None)

    assert response.status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(client):
    issued = api_client_create(name="pipeline", scopes=["records:read"], actor="test")
    recently = timezone.now() - timedelta(seconds=10)
    ApiToken.objects.update(last_used_at=recently)

    client.get(f"{URL}/1", headers={"Authorization": f"Bearer {issued.token}"})

    assert ApiToken.objects.get().last_used_at == recently


# --- the command --------------------------------------------------------------------------------


def test_the_command_prints_a_new_token_once_on_stdout_alone(client):
    out, err = run(
        "create", "--name", "image-pipeline", "--scope", "records:write", "--scope", "records:read"
    )

    token = out.strip()
    assert TOKEN.fullmatch(token)
    assert "shown once" in err
    assert ApiClient.objects.get().scopes == ["records:read", "records:write"]
    assert post(client, f"Bearer {token}").status_code == 201
    listing, _ = run("list")
    assert "image-pipeline" in listing and token not in listing
    assert token.rsplit("_", 1)[1] not in listing


def test_the_command_defaults_to_the_write_scope():
    run("create", "--name", "p")

    assert ApiClient.objects.get().scopes == ["records:write"]


def test_the_command_revokes_and_rotates(client):
    token = run("create", "--name", "p")[0].strip()

    new_token = run("rotate", "--name", "p")[0].strip()
    assert post(client, f"Bearer {token}").status_code == 401
    assert post(client, f"Bearer {new_token}").status_code == 201

    out, _ = run("revoke", "--name", "p")
    assert "Revoked" in out
    assert post(client, f"Bearer {new_token}").status_code == 401
    assert "already revoked" in run("revoke", "--name", "p")[0]
    assert "revoked" in run("list")[0]
    with pytest.raises(CommandError, match="revoked"):
        run("rotate", "--name", "p")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "--name", "p", "--scope", "records:delete"), "invalid choice"),
        (("create",), "--name"),
        (("revoke", "--name", "nobody"), "no API client"),
        (("rotate", "--name", "nobody"), "no API client"),
        (("create", "--name", "bad name"), "client name"),
    ],
)
def test_the_command_refuses_bad_requests(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_the_command_refuses_a_taken_name():
    run("create", "--name", "p")

    with pytest.raises(CommandError, match="already exists"):
        run("create", "--name", "p")
    assert ApiToken.objects.count() == 1


def test_the_command_explains_itself():
    from provenance.management.commands.provenance_token import Command

    parser = Command().create_parser("manage.py", "provenance_token")
    text = parser.format_help()
    assert "shown" in text or "printed once" in text
    for action in ("create", "list", "revoke", "rotate"):
        assert action in text
    create_help = parser._subparsers._group_actions[0].choices["create"].format_help()
    assert "--scope" in create_help and "records:write" in create_help


# --- the admin ----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", password="x" * 16))
    return client


def test_creating_a_client_in_the_admin_shows_its_token_once(admin_client):
    response = admin_client.post(
        "/admin/provenance/apiclient/add/",
        {
            "name": "pipeline",
            "scopes": ["records:write"],
            "note": "image generation",
            "tokens-TOTAL_FORMS": "0",
            "tokens-INITIAL_FORMS": "0",
        },
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    token = TOKEN.search(page).group(0)
    assert ApiToken.objects.get().token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert ApiClient.objects.get().created_by == "admin:admin"
    again = admin_client.get(f"/admin/provenance/apiclient/{ApiClient.objects.get().pk}/change/")
    assert token not in again.content.decode()


def test_the_admin_refuses_a_bad_client_name(admin_client):
    response = admin_client.post(
        "/admin/provenance/apiclient/add/",
        {
            "name": "two words",
            "scopes": ["records:write"],
            "tokens-TOTAL_FORMS": "0",
            "tokens-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "starting with a letter or digit" in response.content.decode()
    assert not ApiClient.objects.exists()


def test_the_admin_revokes_and_rotates_selected_clients(admin_client, client):
    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")
    changelist = "/admin/provenance/apiclient/"

    rotated = admin_client.post(
        changelist, {"action": "rotate_tokens", "_selected_action": [issued.client.pk]}, follow=True
    )
    new_token = TOKEN.search(rotated.content.decode()).group(0)
    assert new_token != issued.token
    admin_client.post(changelist, {"action": "revoke_clients", "_selected_action": [issued.client.pk]})

    issued.client.refresh_from_db()
    assert issued.client.revoked_at is not None and issued.client.revoked_by == "admin:admin"
    client.logout()
    assert post(client, f"Bearer {new_token}").status_code == 401


def test_staff_who_may_only_view_clients_cannot_revoke_them(client):
    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")
    viewer = User.objects.create_user("auditor", password="x" * 16, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_apiclient"))
    client.force_login(viewer)

    page = client.get("/admin/provenance/apiclient/")
    assert page.status_code == 200
    assert "revoke_clients" not in page.content.decode()
    client.post(
        "/admin/provenance/apiclient/", {"action": "revoke_clients", "_selected_action": [issued.client.pk]}
    )
    assert client.get("/admin/provenance/apiclient/add/").status_code == 403

    issued.client.refresh_from_db()
    assert issued.client.revoked_at is None


def test_people_without_admin_access_cannot_see_clients(client):
    client.force_login(User.objects.create_user("shopper", password="x" * 16))

    response = client.get("/admin/provenance/apiclient/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- expiry -------------------------------------------------------------------------------------


def test_new_tokens_expire_after_the_configured_days_by_default(settings):
    settings.API_TOKEN_DAYS = 90
    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")
    lifetime = issued.record.expires_at - issued.record.created_at
    assert lifetime == timedelta(days=90)
    rotated = api_token_rotate(client=issued.client, actor="test", expires_days=7)
    assert rotated.record.expires_at - rotated.record.created_at == timedelta(days=7)


def test_zero_days_means_a_token_never_expires(settings):
    settings.API_TOKEN_DAYS = 0
    assert api_client_create(name="a", scopes=["records:write"], actor="t").record.expires_at is None
    assert (
        api_client_create(name="b", scopes=["records:write"], actor="t", expires_days=0).record.expires_at
        is None
    )
    with pytest.raises(ApiClientError, match="lifetime"):
        api_client_create(name="c", scopes=["records:write"], actor="t", expires_days=-1)


def test_an_expired_token_is_a_401_that_says_so(client):
    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")
    assert post(client, f"Bearer {issued.token}").status_code == 201
    ApiToken.objects.filter(pk=issued.record.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = post(client, f"Bearer {issued.token}")

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"
    assert "expired on" in response.json()["error"]["message"]
    assert "rotate" in response.json()["error"]["message"]


def test_tokens_issued_before_expiry_existed_keep_working(client):
    issued = api_client_create(name="pipeline", scopes=["records:write"], actor="test")
    ApiToken.objects.filter(pk=issued.record.pk).update(expires_at=None)
    assert post(client, f"Bearer {issued.token}").status_code == 201


def test_the_command_sets_and_lists_the_lifetime():
    _, note = run("create", "--name", "pipeline", "--expires-days", "30")
    assert "expires " in note
    _, note = run("rotate", "--name", "pipeline", "--expires-days", "0")
    assert "never expires" in note
    out, _ = run("list")
    assert "never expires" in out and "expires 20" in out
