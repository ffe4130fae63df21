"""Secrets never reach the logs: passwords at sign-in, API tokens, signing keys and database or
Magento credentials are absent from every captured log record and from commands' stderr, also when
the thing they protect fails (wrong password, unreachable database, malformed key)."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from audits.models import AuditEvent
from magento_bridge.models import SyncRun
from magento_bridge.services import sync_run
from provenance.standards.notes import generate_signer

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Correct-Horse-Secret-4711"
WRONG_PASSWORD = "Wrong-Guess-Secret-0815"
DB_PASSWORD = "Db-Url-Secret-Pw-9911"
REST_TOKEN = "rest-bearer-secret-token-5521"


@pytest.fixture
def every_record(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def _logged(caplog) -> str:
    """Every captured record: the formatted message, its arguments and any exception text."""
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", ""), "PROVENANT_DEBUG": "1", "PROVENANT_LOG_LEVEL": "DEBUG"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sign_in_passwords_are_never_logged(client, every_record, settings):
    User.objects.create_user("officer", password=PASSWORD, is_staff=True)
    for password in (WRONG_PASSWORD, PASSWORD):
        client.post("/admin/login/", {"username": "officer", "password": password, "next": "/admin/"})
    assert client.get("/admin/").status_code == 200
    logged = _logged(every_record)
    assert PASSWORD not in logged and WRONG_PASSWORD not in logged
    # The audit trail records both attempts (it is a log too): with the username, never the password.
    events = list(
        AuditEvent.objects.filter(action__startswith="auth.login").values_list(
            "action", "detail", "before", "after"
        )
    )
    assert {"auth.login_failed", "auth.login"} <= {e[0] for e in events}, events
    assert PASSWORD not in repr(events) and WRONG_PASSWORD not in repr(events)


def test_api_tokens_are_printed_once_and_never_logged(client, every_record):
    out, err = io.StringIO(), io.StringIO()
    call_command("provenance_token", "create", "--name", "pipeline", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert token.startswith("pvt_")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client.get("/api/v1/provenance/records", **auth)
    wrong = token[:-6] + "XXXXXX"
    client.get("/api/v1/provenance/records", HTTP_AUTHORIZATION=f"Bearer {wrong}")
    call_command("provenance_token", "revoke", "--name", "pipeline", stdout=io.StringIO())
    client.get("/api/v1/provenance/records", **auth)
    call_command("provenance_token", "list", stdout=(listing := io.StringIO()))
    secret_part = token.rsplit("_", 1)[1]
    assert secret_part not in _logged(every_record)
    assert secret_part not in err.getvalue() and secret_part not in listing.getvalue()
    assert wrong.rsplit("_", 1)[1] not in _logged(every_record)


def test_a_magento_database_password_is_not_logged_when_the_connection_fails(settings, every_record, client):
    settings.MAGENTO_DATABASE_URL = f"mysql://root:{DB_PASSWORD}@127.0.0.1:3306/magento"  # wrong password
    settings.MAGENTO_RETRIES = 1
    settings.MAGENTO_RETRY_BACKOFF = 0.01
    run = sync_run(full=True)
    assert run.status == SyncRun.Status.FAILED
    settings.MAGENTO_DATABASE_URL = f"mysql://magento:{DB_PASSWORD}@127.0.0.1:1/magento"  # unreachable
    run2 = sync_run(full=True)
    assert run2.status == SyncRun.Status.FAILED
    assert client.get("/healthz").status_code == 503
    logged = _logged(every_record)
    assert "Access denied" in logged or "Access denied" in run.error  # the real failure was seen
    assert DB_PASSWORD not in logged
    assert DB_PASSWORD not in run.error and DB_PASSWORD not in run2.error


def test_a_magento_rest_token_is_not_logged_when_the_store_is_unreachable(settings, every_record):
    settings.MAGENTO_SOURCE = "rest"
    settings.MAGENTO_REST_BASE_URL = "http://127.0.0.1:1"
    settings.MAGENTO_REST_AUTH = "bearer"
    settings.MAGENTO_REST_ACCESS_TOKEN = REST_TOKEN
    settings.MAGENTO_RETRIES = 1
    settings.MAGENTO_RETRY_BACKOFF = 0.01
    settings.MAGENTO_REST_TIMEOUT = 0.5
    run = sync_run(full=True)
    assert run.status == SyncRun.Status.FAILED
    assert REST_TOKEN not in _logged(every_record) and REST_TOKEN not in run.error


def test_a_database_url_password_stays_out_of_a_failing_command(tmp_path):
    result = _manage(
        "migrate",
        "--no-input",
        env={
            "PROVENANT_VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"mysql://root:{DB_PASSWORD}@127.0.0.1:3306/provenant_secret_test",
        },
    )
    assert result.returncode != 0
    assert "Access denied" in result.stderr
    assert DB_PASSWORD not in result.stdout + result.stderr


def test_a_magento_sync_command_does_not_print_the_store_password(tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert (
        _manage(
            "migrate", "--no-input", env={"PROVENANT_VAR_DIR": str(tmp_path), "DATABASE_URL": db}
        ).returncode
        == 0
    )
    result = _manage(
        "magento_sync",
        "--full",
        "--no-progress",
        env={
            "PROVENANT_VAR_DIR": str(tmp_path),
            "MAGENTO_DATABASE_URL": f"mysql://magento:{DB_PASSWORD}@127.0.0.1:1/magento",
            "MAGENTO_RETRIES": "0",
            "DATABASE_URL": db,
        },
    )
    assert result.returncode != 0
    assert "magento" in (result.stdout + result.stderr).lower()
    assert DB_PASSWORD not in result.stdout + result.stderr


def test_signing_key_material_is_not_echoed_when_it_is_malformed_or_used(tmp_path):
    _, private_key = generate_signer("secrets.test/log")
    material = private_key.split("+", 4)[4]  # PRIVATE+KEY+<name>+<key id>+<base64>: the base64 may hold "+"
    broken = private_key[:-4] + "!!!!"  # not base64: the key must be refused without echoing it
    refused = _manage("check", env={"PROVENANT_VAR_DIR": str(tmp_path), "PROVENANT_LOG_KEY": broken})
    assert refused.returncode != 0
    assert "PROVENANT_LOG_KEY" in refused.stderr
    assert material[:-4] not in refused.stdout + refused.stderr

    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = {"PROVENANT_VAR_DIR": str(tmp_path), "DATABASE_URL": db, "PROVENANT_LOG_ORIGIN": "secrets.test/log"}
    key_file = tmp_path / "log.key"
    key_file.write_text(private_key + "\n")
    assert _manage("migrate", "--no-input", env=env).returncode == 0
    for args in (("provenance_checkpoint",), ("provenance_verify",)):
        used = _manage(*args, env={**env, "PROVENANT_LOG_KEY_FILE": str(key_file)})
        assert used.returncode == 0, used.stdout + used.stderr
        assert material not in used.stdout + used.stderr


def test_a_key_file_that_cannot_be_read_is_named_without_its_neighbours_contents(tmp_path):
    _, private_key = generate_signer("secrets.test/log")
    material = private_key.split("+", 4)[4]  # PRIVATE+KEY+<name>+<key id>+<base64>: the base64 may hold "+"
    key_file = tmp_path / "log.key"
    key_file.write_text(f"{private_key}\ntrailing garbage {material}\n")
    result = _manage(
        "check", env={"PROVENANT_VAR_DIR": str(tmp_path), "PROVENANT_LOG_KEY_FILE": str(key_file)}
    )
    assert material not in result.stdout + result.stderr
