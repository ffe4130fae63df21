"""Fixtures for the transparency log tests: the log on a real MariaDB database, and signing keys.

The suite's ``default`` database is SQLite. Tests that need the log on MariaDB (row locks,
``BINARY(32)`` columns, concurrent writers with their own connections) take ``log_mariadb``: a
fresh MariaDB database (``mariadb_url``, dropped afterwards) becomes an extra connection alias,
the log's tables are created there, and a database router sends the log models to it. The code
under test picks its connection through Django's router, as in production, so nothing of ours is
replaced. Those tests isolate through their own database, not through a test-case transaction:
their appends commit for real, as concurrent writers must, so they do not use the ``django_db``
mark (whose test case only admits aliases known before it starts) but unblock database access.
"""

from __future__ import annotations

import pytest
from django.db import connections

from provenance.models import Checkpoint, LogEntry, LogHash, LogHead, LogKey, WitnessCosignature
from provenance.standards.notes import generate_signer

LOG_MODELS = (LogEntry, LogHash, LogHead, LogKey, Checkpoint, WitnessCosignature)
MARIADB_ALIAS = "log_mariadb"


class LogModelsRouter:
    """Routes the log's models to one alias."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def db_for_read(self, model, **hints):
        return self.alias if model in LOG_MODELS else None

    def db_for_write(self, model, **hints):
        return self.alias if model in LOG_MODELS else None

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return None


@pytest.fixture
def log_mariadb(mariadb_url, settings, django_db_setup, django_db_blocker):
    """The log's models on a fresh MariaDB database; yields the connection alias."""
    with django_db_blocker.unblock():
        configured = connections.configure_settings(
            {"default": connections.settings["default"], MARIADB_ALIAS: mariadb_url.django_settings()}
        )
        connections.settings[MARIADB_ALIAS] = configured[MARIADB_ALIAS]
        with connections[MARIADB_ALIAS].schema_editor() as editor:
            for model in LOG_MODELS:
                editor.create_model(model)
        settings.DATABASE_ROUTERS = [LogModelsRouter(MARIADB_ALIAS), *settings.DATABASE_ROUTERS]
        try:
            yield MARIADB_ALIAS
        finally:
            connections[MARIADB_ALIAS].close()
            del connections[MARIADB_ALIAS]
            del connections.settings[MARIADB_ALIAS]


@pytest.fixture(params=["sqlite", "mariadb"])
def log_db(request):
    """The alias the log lives on: the suite's SQLite database (in the test's transaction), then MariaDB."""
    if request.param == "sqlite":
        request.getfixturevalue("db")
        return "default"
    return request.getfixturevalue("log_mariadb")


@pytest.fixture
def log_key(settings):
    """A configured checkpoint signing key; returns its signer."""
    signer, private_key = generate_signer("provenant.test/log")
    settings.LOG_SIGNING_KEY = private_key
    settings.LOG_ORIGIN = "provenant.test/log"
    settings.TSA_URL = ""
    return signer
