"""Strict settings helpers: bad values stop the process with a message naming the variable."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from provenance.standards.notes import generate_signer
from sidecar.env import env_bool, env_choice, env_int, env_str, env_url


def test_it_reads_secrets_from_file_variants(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("PROVENANT_X", "from-env")
    monkeypatch.setenv("PROVENANT_X_FILE", str(secret))
    assert env_str("PROVENANT_X") == "s3cret"


def test_an_unreadable_secret_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PROVENANT_X_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="PROVENANT_X_FILE"):
        env_str("PROVENANT_X")


@pytest.mark.parametrize(
    ("helper", "value", "message"),
    [
        (lambda: env_bool("V"), "maybe", "not a boolean"),
        (lambda: env_int("V", 1), "ten", "not an integer"),
        (lambda: env_int("V", 1, minimum=5), "3", "below the minimum 5"),
        (lambda: env_choice("V", "a", ("a", "b")), "c", "must be one of: a, b"),
        (lambda: env_url("V"), "ftp://x", "not a URL"),
    ],
)
def test_bad_values_raise_a_clear_error(monkeypatch, helper, value, message):
    monkeypatch.setenv("V", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        helper()


def _start(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _start({})
    assert result.returncode != 0
    assert "PROVENANT_SECRET_KEY" in result.stderr


def test_a_bad_database_url_stops_the_start_with_its_name():
    result = _start({"PROVENANT_DEBUG": "1", "MAGENTO_DATABASE_URL": "postgres://x/y"})
    assert result.returncode != 0
    assert "MAGENTO_DATABASE_URL" in result.stderr and "unsupported database URL scheme" in result.stderr


def test_deploy_checks_pass_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={
            "PATH": "/usr/bin:/bin",
            "PROVENANT_SECRET_KEY": "k" * 20 + "-production-like-secret-with-enough-entropy-0123456789",
            "PROVENANT_ALLOWED_HOSTS": "provenant.example.org",
            "PROVENANT_VAR_DIR": str(tmp_path),
            "PROVENANT_LOG_KEY": generate_signer("provenant.example.org/log")[1],
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_checks_warn_when_checkpoints_cannot_be_signed(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env={
            "PATH": "/usr/bin:/bin",
            "PROVENANT_SECRET_KEY": "k" * 20 + "-production-like-secret-with-enough-entropy-0123456789",
            "PROVENANT_ALLOWED_HOSTS": "provenant.example.org",
            "PROVENANT_VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "provenance.W001" in result.stdout + result.stderr
