"""A writer that cannot get the log's lock in time gets 503 with Retry-After, not a 500."""

from django.db import OperationalError

from provenance.errors import api_exception_handler


def test_a_mariadb_lock_wait_timeout_becomes_503_log_busy():
    response = api_exception_handler(OperationalError(1205, "Lock wait timeout exceeded; try restarting"), {})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.data["error"]["code"] == "log_busy"


def test_a_locked_sqlite_database_becomes_503_log_busy():
    response = api_exception_handler(OperationalError("database is locked"), {})
    assert response.status_code == 503


def test_other_database_errors_are_not_disguised():
    assert api_exception_handler(OperationalError(1054, "Unknown column 'x'"), {}) is None


def test_an_unreachable_database_is_503_database_unavailable_not_log_busy():
    response = api_exception_handler(OperationalError(2003, "Can't connect"), {})
    assert response.status_code == 503
    assert response.data["error"]["code"] == "database_unavailable"
