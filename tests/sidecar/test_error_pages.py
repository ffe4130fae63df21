"""Requests that never reach a view still get the JSON error shape on machine paths (STYLE.md)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/audits/reviews/0/0/x", "/log/nothing"])
def test_an_unknown_machine_path_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "not_found" and error["fields"] == {}


def test_a_hostile_path_is_only_quoted_in_the_json(client):
    response = client.get("/api/v1/<script>alert(1)</script>")
    assert response.json()["error"]["message"].startswith("No API endpoint at ")
    assert response["Content-Type"] == "application/json"


def test_staff_pages_keep_the_html_404(admin_client):
    response = admin_client.get("/staff/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unhandled_error_on_a_machine_path_is_a_json_500(client, settings):
    from sidecar import error_pages

    request = client.get("/api/v1/nope").wsgi_request
    response = error_pages.server_error(request)
    assert response.status_code == 500 and response["Cache-Control"] == "no-store"
    assert json.loads(response.content)["error"]["code"] == "server_error"
