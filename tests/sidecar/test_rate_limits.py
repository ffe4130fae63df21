"""Public endpoints are rate-limited per client address in the shared cache: 429 in the error shape
with Retry-After beyond the budget, other buckets and addresses unaffected, and a cache outage lets
requests through."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_cache(settings, redis_url):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def limits(settings, redis_cache):
    settings.RATE_LIMIT_WINDOW_SECONDS = 600
    settings.RATE_LIMIT_BADGES = 3
    settings.RATE_LIMIT_LOG = 3
    settings.RATE_LIMIT_HEALTHZ = 2
    return settings


@pytest.mark.parametrize(
    ("path", "budget"),
    [("/api/v1/disclosures/default?products=MED-1", 3), ("/log/checkpoint", 3), ("/healthz", 2)],
)
def test_beyond_the_budget_the_answer_is_429_in_the_error_shape_with_retry_after(
    client, limits, path, budget
):
    for _ in range(budget):
        assert client.get(path).status_code != 429
    response = client.get(path)
    assert response.status_code == 429
    assert response.json() == {
        "error": {"code": "rate_limited", "message": response.json()["error"]["message"], "fields": {}}
    }
    assert 1 <= int(response["Retry-After"]) <= 600
    assert response["Cache-Control"] == "no-store"
    assert "cookie" not in response.get("Vary", "").lower()


PUBLIC_PATHS = ["/api/v1/disclosures/default?products=MED-1", "/log/checkpoint", "/healthz"]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_a_429_is_readable_by_a_storefront_script_on_another_origin(client, limits, path):
    """Without CORS headers the browser hides the 429 and its Retry-After from the badge script."""
    for _ in range(3):
        client.get(path, HTTP_ORIGIN="https://shop.example")
    response = client.get(path, HTTP_ORIGIN="https://shop.example")
    assert response.status_code == 429
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in response["Access-Control-Expose-Headers"]


def test_each_address_and_each_bucket_has_its_own_budget(client, limits):
    for _ in range(3):
        client.get("/log/key")
    assert client.get("/log/key").status_code == 429
    assert client.get("/log/key", REMOTE_ADDR="192.0.2.7").status_code != 429
    assert client.get("/healthz").status_code != 429
    assert client.get("/api/v1/disclosures/default?products=A").status_code != 429


def test_a_forged_forwarded_for_does_not_give_a_new_budget(client, limits):
    for n in range(3):
        client.get("/log/key", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert client.get("/log/key", HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def test_with_a_trusted_proxy_each_shopper_behind_it_is_counted_apart(client, limits):
    limits.TRUSTED_PROXIES = 1
    for _ in range(3):
        client.get("/log/key", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client.get("/log/key", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert client.get("/log/key", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code != 429


def test_parallel_requests_never_exceed_the_budget(limits):
    limits.RATE_LIMIT_LOG = 10
    statuses: list[int] = []
    lock = threading.Lock()

    def hit() -> None:
        status = Client().get("/log/key").status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=hit) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 30
    assert sum(1 for s in statuses if s != 429) == 10


def test_a_limit_of_zero_turns_the_bucket_off(client, limits):
    limits.RATE_LIMIT_LOG = 0
    for _ in range(10):
        assert client.get("/log/key").status_code != 429


def test_staff_and_token_paths_are_not_limited_here(client, limits):
    for _ in range(6):
        assert client.get("/admin/login/").status_code == 200


def test_an_unreachable_cache_lets_public_requests_through_and_says_so(client, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    settings.RATE_LIMIT_HEALTHZ = 1
    for _ in range(3):
        assert client.get("/healthz").status_code != 429
    assert "Rate limits are not enforced" in caplog.text


def test_the_default_budgets_are_generous():
    from django.conf import settings

    assert settings.RATE_LIMIT_BADGES / settings.RATE_LIMIT_WINDOW_SECONDS >= 50  # per second, one edge
    assert settings.RATE_LIMIT_LOG / settings.RATE_LIMIT_WINDOW_SECONDS >= 10
