"""Property-based fuzzing of every API operation in the published OpenAPI schema (schemathesis).

Each operation gets generated requests, valid and invalid, with a token holding every scope. No
answer may be a server error, and every 4xx must be the one JSON error shape of STYLE.md.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings

from provenance.auth import api_client_create
from provenance.models import ApiScope


def _schema() -> dict:
    import django
    from django.conf import settings as django_settings

    if not django_settings.configured:  # pragma: no cover - pytest-django configures first
        django.setup()
    from drf_spectacular.generators import SchemaGenerator

    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


schema = schemathesis.openapi.from_dict(_schema())


@pytest.fixture
def token(db):
    return api_client_create(name="fuzzer", scopes=list(ApiScope.values), actor="test").token


def assert_error_shape(response) -> None:
    if 400 <= response.status_code < 500:
        assert response["Content-Type"].startswith("application/json"), response.content[:300]
        body = response.json()
        error = body["error"]
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["fields"], dict)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error_or_an_undocumented_error_shape(case, token):
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    # On the wire a header is bytes; WSGI hands them over decoded as Latin-1.
    headers = {
        k: str(v).encode("utf-8").decode("latin-1")
        for k, v in (kwargs.get("headers") or {}).items()
        if k.lower() != "content-length"
    }
    headers["Authorization"] = f"Bearer {token}"
    client = Client(raise_request_exception=False)
    response = client.generic(
        case.method.upper(),
        kwargs["url"].replace("http://testserver", "") or "/",
        data=kwargs.get("data") or kwargs.get("content") or b"",
        content_type=headers.pop("Content-Type", headers.pop("content-type", "application/octet-stream")),
        QUERY_STRING=urlencode(kwargs.get("params") or {}, doseq=True),
        headers=headers,
    )
    assert response.status_code < 500, (case.as_curl_command(), response.content[:500])
    assert_error_shape(response)
