"""GET /api/v1/consent/<subject>: the current state per purpose, cached in Redis, dropped on write."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.models import CurrentConsent
from tests.consent.conftest import event

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache(settings, redis_url):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "consent-tests",
        }
    }
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


def test_a_subject_without_events_has_no_consent(lookup):
    response = lookup("cmp-unknown")

    assert response.status_code == 200
    assert response.json() == {"purposes": {}}
    assert response["Cache-Control"] == "private, no-store"


def test_the_answer_is_the_current_state_per_purpose(post, lookup):
    post(event(purpose="personalisation", state="granted", occurred_at="2026-03-01T10:00:00+02:00"))
    post(event(purpose="analytics", state="withdrawn", policy_version="2026-02"))

    assert lookup("cmp-4f1c2a").json() == {
        "purposes": {
            "personalisation": {
                "state": "granted",
                "policy_version": "2026-01",
                "occurred_at": "2026-03-01T08:00:00.000000Z",
            },
            "analytics": {
                "state": "withdrawn",
                "policy_version": "2026-02",
                "occurred_at": "2026-03-01T10:00:00.000000Z",
            },
        }
    }


def test_a_cached_answer_reads_no_table_and_a_withdrawal_replaces_it_at_once(post, lookup, redis_cache):
    post(event(state="granted"))
    assert lookup("cmp-4f1c2a").json()["purposes"]["personalisation"]["state"] == "granted"

    with CaptureQueriesContext(connection) as queries:
        assert lookup("cmp-4f1c2a").json()["purposes"]["personalisation"]["state"] == "granted"
    assert not any(CurrentConsent._meta.db_table in q["sql"] for q in queries.captured_queries)

    post(event(state="withdrawn", occurred_at="2026-03-01T10:05:00Z"))
    assert lookup("cmp-4f1c2a").json()["purposes"]["personalisation"]["state"] == "withdrawn"


def test_the_cache_keeps_an_answer_for_at_most_the_configured_seconds(post, lookup, redis_cache, settings):
    settings.CONSENT_CACHE_SECONDS = 30
    post(event())
    lookup("cmp-4f1c2a")

    keys = [k for k in redis_cache._cache.get_client().keys("consent-tests:*") if b"consent:current" in k]
    assert len(keys) == 1
    assert 0 < redis_cache._cache.get_client().ttl(keys[0]) <= 30


def test_the_subject_events_is_looked_up_too(post, lookup):
    post(event(subject="events"))

    assert lookup("events").json()["purposes"]["personalisation"]["state"] == "granted"


def test_an_invalid_subject_is_refused_and_its_path_is_not_logged(lookup, caplog):
    with caplog.at_level(logging.INFO):
        response = lookup("jane@example.org")

    assert response.status_code == 400
    assert "subject" in response.json()["error"]["fields"]
    assert "jane@example.org" not in caplog.text


def test_a_token_without_the_read_scope_is_refused(lookup, write_token):
    response = lookup("cmp-4f1c2a", token=write_token)

    assert response.status_code == 403


def test_without_the_store_secret_the_lookup_is_unavailable(lookup, settings):
    settings.CONSENT_SUBJECT_KEY = ""

    assert lookup("cmp-4f1c2a").status_code == 503
