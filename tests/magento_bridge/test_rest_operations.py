"""The REST source as an operator meets it: settings, health, the command and the admin."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from tests.magento_bridge.rest_server import Integration

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rest_store(mariadb_store, make_rest_server, use_rest):
    server = make_rest_server(mariadb_store)
    use_rest(server)
    mariadb_store.server = server
    return mariadb_store


def test_the_rest_source_without_a_base_url_stops_the_process_at_start():
    env = {**os.environ, "MAGENTO_SOURCE": "rest", "MAGENTO_REST_BASE_URL": "", "PROVENANT_DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "import sidecar.settings"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "MAGENTO_SOURCE=rest needs MAGENTO_REST_BASE_URL" in result.stderr


def test_health_checks_the_rest_api(client, rest_store):
    response = client.get("/healthz")

    assert response.json()["checks"]["magento"]["ok"]


def test_health_reports_a_refused_token_without_secrets(client, mariadb_store, make_rest_server, use_rest):
    server = make_rest_server(mariadb_store, integration=Integration(revoked=True))
    use_rest(server)

    response = client.get("/healthz")

    check = response.json()["checks"]["magento"]
    assert response.status_code == 503 and not check["ok"]
    assert "revoked" in check["error"]
    assert "cs-demo" not in response.content.decode() and "ts-demo" not in response.content.decode()


def test_the_command_prints_the_requests_it_made(rest_store):
    out = io.StringIO()
    call_command("magento_sync", "--full", "--no-progress", stdout=out)

    text = out.getvalue()
    run = SyncRun.objects.get()
    assert f"source: REST API, {run.media['rest']['requests']} requests (0 retried, 0 throttled)" in text
    assert "contain '/'" in text


def test_the_admin_shows_each_store_views_source_and_the_requests_per_run(client, rest_store):
    sync_run(full=True, media=rest_store.media)
    sync_run(full=True, media=rest_store.media, db=rest_store.db)
    client.force_login(User.objects.create_superuser("admin", password="x" * 16))

    page = client.get(reverse("admin:magento_bridge_syncrun_changelist")).content.decode()

    rest_run, mysql_run = SyncRun.objects.order_by("id")
    assert f"REST API at {rest_store.server.base_url} (OAuth 1.0a)" in page
    assert f"{rest_run.media['rest']['requests']} requests" in page
    assert f"{mysql_run.media['queries']} queries" in page
    assert "Sources by store view" in page
    assert "MySQL database" in page  # the latest run of each store view read MySQL
