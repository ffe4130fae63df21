"""Provenant's own MariaDB database through mysqlclient when installed, PyMySQL otherwise."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError
with connection.cursor() as cur:
    cur.execute("SELECT %s", ["ok"])
    answer = cur.fetchone()[0]
import pymysql
try:
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM no_such_table")
    error = None
except Exception as exc:
    error = type(exc).__module__ + "." + type(exc).__name__
print(json.dumps({"driver": settings.MYSQL_DRIVER, "module": connection.Database.__name__,
                  "answer": answer, "error": error,
                  "pymysql_err_intact":
                      pymysql.err.OperationalError is pymysql.connections.err.OperationalError}))
"""


def _probe(mariadb_url, driver: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sidecar.settings",
        "PROVENANT_DEBUG": "1",
        "DATABASE_URL": mariadb_url.url(),
        "PROVENANT_MYSQL_DRIVER": driver,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_pymysql_fallback_reads_and_writes_and_keeps_its_exception_classes(mariadb_url):
    found = _probe(mariadb_url, "pymysql")
    assert found["driver"] == "pymysql" and found["module"] == "pymysql"
    assert found["answer"] == "ok" and found["error"] == "django.db.utils.ProgrammingError"
    assert found["pymysql_err_intact"]


def test_mysqlclient_is_used_when_installed(mariadb_url):
    if importlib.util.find_spec("MySQLdb") is None:
        if os.environ.get("CI"):
            pytest.fail("mysqlclient is not installed: .ci/run installs provenant[mysql]")
        pytest.skip("mysqlclient is not installed (pip install 'provenant[mysql]'): testing PyMySQL only")
    found = _probe(mariadb_url, "auto")
    assert found["driver"] == "mysqlclient" and found["module"] == "MySQLdb"
    assert found["answer"] == "ok" and found["error"] == "django.db.utils.ProgrammingError"
    assert found["pymysql_err_intact"]  # the store's reads still go through PyMySQL


def test_asking_for_mysqlclient_without_it_stops_at_start(mariadb_url, tmp_path):
    # A MySQLdb that cannot be imported stands for a machine without mysqlclient.
    (tmp_path / "MySQLdb").mkdir()
    (tmp_path / "MySQLdb" / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "sidecar.settings",
        "PROVENANT_DEBUG": "1",
        "PROVENANT_MYSQL_DRIVER": "mysqlclient",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "PROVENANT_MYSQL_DRIVER=mysqlclient" in done.stderr
