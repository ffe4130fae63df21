"""A registry database that cannot be reached gives ``503 database_unavailable`` with ``Retry-After``
on every machine path, so pipelines retry instead of treating their request as broken (a 500).

The error is the one PyMySQL really raises against a closed port, wrapped the way Django's database
layer wraps it; only where it is raised is arranged.
"""

from __future__ import annotations

import socket

import pymysql
import pytest
from django.db import OperationalError, ProgrammingError

from provenance.errors import api_exception_handler, is_database_unavailable

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def unreachable() -> OperationalError:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        try:
            pymysql.connect(host="127.0.0.1", port=port, user="provenant", connect_timeout=2)
        except pymysql.err.OperationalError as exc:
            return OperationalError(*exc.args)
    raise AssertionError("connecting to a closed port succeeded")


def test_the_real_connection_refused_error_counts_as_unavailable(unreachable):
    assert unreachable.args[0] == 2003
    assert is_database_unavailable(unreachable)
    assert is_database_unavailable(OperationalError(2006, "MySQL server has gone away"))
    assert is_database_unavailable(OperationalError("unable to open database file"))


def test_statement_errors_are_not_disguised_as_outages():
    assert not is_database_unavailable(OperationalError(1054, "Unknown column 'x' in 'field list'"))
    assert not is_database_unavailable(ProgrammingError(1146, "Table 'provenant.x' doesn't exist"))
    assert api_exception_handler(OperationalError(1054, "Unknown column"), {}) is None


def test_ingest_answers_503_with_retry_after_while_its_database_is_down(client, monkeypatch, unreachable):
    def down(self, request):
        raise unreachable

    monkeypatch.setattr("provenance.auth.ApiTokenAuthentication.authenticate", down)
    response = client.post(
        "/api/v1/provenance/records",
        data="{}",
        content_type="application/json",
        headers={"Authorization": "Bearer x"},
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.json()["error"]["fields"] == {}
    assert response["Retry-After"] == "5"
    assert "127.0.0.1" not in response.content.decode()


def test_a_public_log_answer_is_503_in_the_error_shape_with_cors(client, monkeypatch, unreachable):
    def down():
        raise unreachable

    monkeypatch.setattr("provenance.views.checkpoint_latest", down)
    response = client.get("/log/checkpoint")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "no-store"
