"""`make audit-deps`: a known vulnerability fails the build; an unreachable vulnerability service
is reported loudly and does not (unless --strict).

pip-audit's network side is replaced by a stand-in ``pip_audit`` module that prints the report the
service would give, so each outcome is reproduced without the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "audit_deps.py"


def _run(tmp_path, *, stdout: str, stderr: str = "", code: int = 0, strict: bool = False):
    fake = tmp_path / "fake" / "pip_audit"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(
        f"import sys\nsys.stdout.write({stdout!r})\nsys.stderr.write({stderr!r})\nsys.exit({code})\n"
    )
    env = {**os.environ, "PYTHONPATH": str(fake.parent)}
    args = [sys.executable, str(SCRIPT)] + (["--strict"] if strict else [])
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)


def _report(*deps) -> str:
    return json.dumps({"dependencies": list(deps), "fixes": []})


def test_a_known_vulnerability_fails_with_its_id_and_fix(tmp_path):
    result = _run(
        tmp_path,
        stdout=_report(
            {
                "name": "django",
                "version": "3.2.0",
                "vulns": [{"id": "PYSEC-2021-98", "fix_versions": ["3.2.4"]}],
            },
            {"name": "celery", "version": "5.7.0", "vulns": []},
        ),
        code=1,
    )
    assert result.returncode == 1
    assert "VULNERABLE django 3.2.0: PYSEC-2021-98 (fixed in 3.2.4)" in result.stdout
    assert "2 packages, 1 with known vulnerabilities" in result.stdout


def test_a_clean_audit_passes(tmp_path):
    result = _run(tmp_path, stdout=_report({"name": "celery", "version": "5.7.0", "vulns": []}))
    assert result.returncode == 0
    assert "1 packages, 0 with known vulnerabilities" in result.stdout
    assert "NOT DONE" not in result.stderr


@pytest.mark.parametrize("strict", [False, True])
def test_an_unreachable_service_is_said_loudly_and_fails_only_when_strict(tmp_path, strict):
    result = _run(
        tmp_path,
        stdout="",
        stderr="requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443)\n",
        code=1,
        strict=strict,
    )
    assert result.returncode == (2 if strict else 0)
    assert "DEPENDENCY AUDIT NOT DONE" in result.stderr and "pypi.org" in result.stderr


def test_a_service_that_knows_no_package_counts_as_unreachable(tmp_path):
    skip = {
        "name": "amqp",
        "skip_reason": "Dependency not found on PyPI and could not be audited: amqp (5.4.2)",
    }
    result = _run(tmp_path, stdout=_report(skip))
    assert result.returncode == 0
    assert "DEPENDENCY AUDIT NOT DONE" in result.stderr
