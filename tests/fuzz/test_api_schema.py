"""Property-based fuzzing of every API operation in the published OpenAPI schema (schemathesis).

Each operation (the API's, the public ``/log/*`` endpoints and ``/healthz``) gets generated requests,
valid and invalid, with a token holding every scope. No answer may be a server error, every 4xx must
be the one JSON error shape of STYLE.md, and status, headers and bodies must match the schema.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import ignored_auth, missing_required_header, positive_data_acceptance

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
MAX_EXAMPLES = 30  # per operation: the fuzz folder stays under two minutes on a shared 2-core machine


@pytest.fixture
def token(db, settings):
    """A token holding every scope, over a log with a few entries and a signed checkpoint."""
    from django.db import transaction

    from provenance.checkpoints import checkpoint_sign
    from provenance.log import log_append
    from provenance.standards.notes import generate_signer

    settings.LOG_ORIGIN = "fuzz.test/log"
    settings.LOG_SIGNING_KEY = generate_signer("fuzz.test/log")[1]
    settings.TSA_URL = ""
    settings.RATE_LIMIT_LOG = settings.RATE_LIMIT_BADGES = settings.RATE_LIMIT_HEALTHZ = 0
    with transaction.atomic():
        for n in range(5):
            log_append(kind="record.added", payload={"n": n})
    checkpoint_sign()
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
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error_or_an_undocumented_error_shape(case, token):
    # The token goes into the case itself, so schemathesis knows a case it generated without the
    # header (a "missing Authorization" negative case) is sent with it, and judges it as sent.
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    # requests encodes the case exactly as a real client would (JSON, form, multipart, query).
    sent = requests.Request(
        method=case.method.upper(),
        url=kwargs["url"],
        headers=kwargs.get("headers") or {},
        params=kwargs.get("params"),
        data=kwargs.get("data"),
        json=kwargs.get("json"),
        files=kwargs.get("files"),
        cookies=kwargs.get("cookies"),
    ).prepare()
    # On the wire a header is bytes; WSGI hands them over decoded as Latin-1.
    headers = {
        k: str(v).encode("utf-8").decode("latin-1")
        for k, v in sent.headers.items()
        if k.lower() not in ("content-length", "content-type")
    }
    url = urlsplit(sent.url)
    body = sent.body or b""
    client = Client(raise_request_exception=False)
    response = client.generic(
        case.method.upper(),
        url.path or "/",
        data=body.encode() if isinstance(body, str) else body,
        content_type=sent.headers.get("Content-Type", "application/octet-stream"),
        QUERY_STRING=url.query,
        headers=headers,
    )
    # A server error only where the schema documents it (/healthz's 503 when a dependency is down).
    documented = str(response.status_code) in case.operation.definition.raw.get("responses", {})
    assert response.status_code < 500 or documented, (case.as_curl_command(), response.content[:500])
    assert_error_shape(response)
    # Schema conformance of status, content type, headers and body, and invalid data rejected.
    # Left out: server errors (asserted above: allowed only where documented), "missing
    # Authorization" and "ignored auth" cases (every request here carries the token, and the
    # probe without it would leave the test client; refusals are the permission matrix's job) and
    # "valid data accepted" (a schema-valid record still needs a registered generator and a real
    # image, rules the schema cannot state).
    case.validate_response(
        _as_schemathesis_response(response, sent),
        headers=dict(sent.headers),
        excluded_checks=[missing_required_header, ignored_auth, positive_data_acceptance, not_a_server_error],
    )


def _as_schemathesis_response(response, sent: requests.PreparedRequest) -> Response:
    """The Django test response as schemathesis' transport-neutral response, for its schema checks."""
    return Response(
        status_code=response.status_code,
        headers={name: [value] for name, value in response.items()},
        content=response.content,
        request=sent,
        elapsed=0.0,
        verify=True,
    )
