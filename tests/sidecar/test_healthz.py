"""``GET /healthz`` reports each dependency and answers 503 when one is down."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_is_healthy_when_database_redis_and_magento_answer(client, settings, mariadb_store, redis_url):
    settings.REDIS_URL = redis_url
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["redis"]["ok"] and checks["magento"]["ok"]


def test_it_answers_503_naming_the_dependency_that_is_down(client, settings, mariadb_store):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.MAGENTO_DATABASE_URL = "mysql://root:hunter2-password@127.0.0.1:1/nowhere"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert not body["checks"]["redis"]["ok"] and not body["checks"]["magento"]["ok"]
    assert body["checks"]["database"]["ok"]
    text = response.content.decode()
    # Public: the kind of failure only, never the user, host, port, database name or path.
    for secret in ("hunter2", "root", "127.0.0.1", ":1", "nowhere", "redis://"):
        assert secret not in text, text
    assert body["checks"]["magento"]["error"].endswith("unreachable (details in the server log)")


def test_a_missing_sqlite_path_is_not_shown(client, settings, tmp_path):
    settings.MAGENTO_DATABASE_URL = f"sqlite:///{tmp_path}/secret-dir/absent.sqlite3"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "secret-dir" not in response.content.decode()
    assert str(tmp_path) not in response.content.decode()


def test_it_says_when_magento_is_not_configured(client, settings):
    settings.MAGENTO_DATABASE_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["magento"]["error"] == "MAGENTO_DATABASE_URL is not set"


def test_other_methods_get_a_json_405(client, db):
    response = Client(enforce_csrf_checks=True).post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"
