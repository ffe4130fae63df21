"""Fixtures: the store secret, tokens, and a poster of consent events."""

from __future__ import annotations

import json

import pytest

from provenance.auth import api_client_create

SUBJECT_KEY = "consent-subject-key-for-tests-only-0123456789"


def event(subject: str = "cmp-4f1c2a", **fields) -> dict:
    return {
        "subject": subject,
        "purpose": "personalisation",
        "state": "granted",
        "policy_version": "2026-01",
        "source": "cookie-banner",
        "occurred_at": "2026-03-01T10:00:00Z",
        **fields,
    }


@pytest.fixture(autouse=True)
def subject_key(settings):
    settings.CONSENT_SUBJECT_KEY = SUBJECT_KEY
    return SUBJECT_KEY


@pytest.fixture
def write_token(db):
    return api_client_create(name="consent-platform", scopes=["consent:write"], actor="test").token


@pytest.fixture
def read_token(db):
    return api_client_create(name="storefront", scopes=["consent:read"], actor="test").token


@pytest.fixture
def post(client, write_token):
    def send(body, *, path="/api/v1/consent/events", token=None):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return client.post(
            path,
            data=data,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token or write_token}"},
        )

    return send


@pytest.fixture
def lookup(client, read_token):
    def get(subject, *, token=None):
        return client.get(
            f"/api/v1/consent/{subject}", headers={"Authorization": f"Bearer {token or read_token}"}
        )

    return get
