"""API clients and their bearer tokens: issuing, revoking, and authenticating requests with them.

A token reads ``pvt_<key_id>_<secret>``: the key id is visible (it finds the row and shows up in
the admin), the secret is 256 random bits. Only the SHA-256 of the whole token is stored, and the
digest is compared with :func:`hmac.compare_digest`. A token is shown once, when it is issued.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from provenance.models import ApiClient, ApiScope, ApiToken
from provenance.rows import row_first

__all__ = [
    "CLIENT_NAME",
    "ApiClientError",
    "ApiTokenAuthentication",
    "HasScope",
    "IssuedToken",
    "api_client_create",
    "api_client_revoke",
    "api_token_rotate",
    "token_sha256",
]

TOKEN_PREFIX = "pvt"  # noqa: S105 - a public marker, not a secret
_TOKEN = re.compile(r"pvt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
CLIENT_NAME_RULE = "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
# Recording every use would turn each API call into a write; a minute's precision is plenty.
LAST_USED_PRECISION = timedelta(minutes=1)
# Compared against when the key id is unknown, so a miss costs the same as a wrong secret.
_DUMMY_SHA256 = hashlib.sha256(b"no such token").hexdigest()


class ApiClientError(ValueError):
    """A client cannot be created or changed as asked (bad name or scope, name taken, revoked)."""


@dataclass(frozen=True)
class IssuedToken:
    """A newly issued token. ``token`` is the only copy of the secret: show it once, then drop it."""

    client: ApiClient
    record: ApiToken
    token: str


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _new_token(client: ApiClient, expires_days: int | None) -> IssuedToken:
    days = settings.API_TOKEN_DAYS if expires_days is None else expires_days
    if days < 0:
        raise ApiClientError("a token's lifetime is 0 (never expires) or a positive number of days")
    key_id = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    record = ApiToken.objects.create(
        client=client,
        key_id=key_id,
        token_sha256=token_sha256(token),
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    return IssuedToken(client=client, record=record, token=token)


def _checked_scopes(scopes: Sequence[str]) -> list[str]:
    known = set(ApiScope.values)
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise ApiClientError(f"unknown scope {', '.join(unknown)} (known: {', '.join(ApiScope.values)})")
    if not scopes:
        raise ApiClientError("a client needs at least one scope")
    return sorted(set(scopes))


# --- Services -------------------------------------------------------------------------------------


def api_client_create(
    *, name: str, scopes: Sequence[str], note: str = "", actor: str, expires_days: int | None = None
) -> IssuedToken:
    """Create a client with ``scopes`` and issue its first token.

    The token expires after ``expires_days`` (default ``PROVENANT_API_TOKEN_DAYS``; 0: never).
    """
    if not CLIENT_NAME.fullmatch(name or ""):
        raise ApiClientError(f"a client name is {CLIENT_NAME_RULE}")
    checked = _checked_scopes(scopes)
    try:
        with transaction.atomic():
            client = ApiClient.objects.create(name=name, scopes=checked, note=note, created_by=actor)
            return _new_token(client, expires_days)
    except IntegrityError:
        raise ApiClientError(f"an API client named {name!r} already exists") from None


def api_token_rotate(*, client: ApiClient, actor: str, expires_days: int | None = None) -> IssuedToken:
    """Issue a new token for ``client`` (lifetime as for :func:`api_client_create`) and revoke its
    earlier ones."""
    if client.is_revoked:
        raise ApiClientError(f"API client {client.name!r} is revoked")
    with transaction.atomic():
        client.tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        return _new_token(client, expires_days)


def api_client_revoke(*, client: ApiClient, actor: str) -> bool:
    """Revoke the client and every token of it. Returns False when it was already revoked."""
    if client.is_revoked:
        return False
    now = timezone.now()
    with transaction.atomic():
        client.revoked_at = now
        client.revoked_by = actor
        client.save(update_fields=["revoked_at", "revoked_by"])
        client.tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
    return True


# --- Authentication -------------------------------------------------------------------------------


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer pvt_…``: sets ``request.user`` to the :class:`ApiClient` and
    ``request.auth`` to the :class:`ApiToken`."""

    def authenticate(self, request) -> tuple[ApiClient, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Authorization header: expected 'Bearer <token>'.")
        try:
            presented = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        match = _TOKEN.fullmatch(presented)
        token = None
        if match:
            # Once per request: one plain statement, not a queryset (see provenance.rows).
            token = row_first(ApiToken, "{key_id} = %s", [match.group(1)], related="client")
        expected = token.token_sha256 if token is not None else _DUMMY_SHA256
        if not hmac.compare_digest(expected, token_sha256(presented)) or token is None:
            raise AuthenticationFailed("Invalid token.")
        if token.is_revoked or token.client.is_revoked:
            raise AuthenticationFailed("This token has been revoked.")
        now = timezone.now()
        if token.is_expired(now):
            raise AuthenticationFailed(
                f"This token expired on {token.expires_at:%Y-%m-%d}; ask for a new one "
                "(manage.py provenance_token rotate)."
            )
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.client, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="provenant"'


class HasScope(BasePermission):
    """Lets a request through when its client holds one of ``view.required_scopes[method]``."""

    message = "This token lacks the scope this operation needs."

    def has_permission(self, request, view) -> bool:
        client = request.user
        if not isinstance(client, ApiClient):
            return False
        if getattr(view, request.method.lower(), None) is None:
            return True  # the view answers 405
        needed = view.required_scopes.get(request.method, ())
        if any(client.has_scope(scope) for scope in needed):
            return True
        self.message = f"This token lacks the scope {' or '.join(needed)}."
        return False


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "provenance.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A client token `pvt_<key id>_<secret>` from `manage.py provenance_token create`.",
        }
