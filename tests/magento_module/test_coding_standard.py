"""The Magento module under Magento's own coding standard (the Magento2 PHP_CodeSniffer standard that
Adobe Commerce Marketplace technical review runs): no errors and no warnings, test files included."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import tool_required

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "magento-module"
RUNNER_VARIABLE = "PROVENANT_MAGENTO_PHPCS"
DEFAULT_RUNNER = "../shared/tools/magento-phpcs/run"


def _runner() -> Path:
    """The standard's runner: ``PROVENANT_MAGENTO_PHPCS``, relative paths taken from the repository root."""
    return (ROOT / os.environ.get(RUNNER_VARIABLE, DEFAULT_RUNNER)).resolve()


def test_the_module_has_no_errors_or_warnings_under_magentos_coding_standard(tmp_path):
    runner = _runner()
    if not runner.is_file():
        # The standard is on neither PyPI, Debian nor npm, so a machine may lack it: skip, even under CI.
        pytest.skip(
            f"SKIPPED LOUDLY: Magento's coding standard runner {runner} does not exist; "
            f"set {RUNNER_VARIABLE} to its path (default {DEFAULT_RUNNER} from the repository root)"
        )
    tool_required("php", "php-cli, php-xml, php-mbstring")
    full, totals = tmp_path / "report.txt", tmp_path / "report.json"
    result = subprocess.run(
        [str(runner), f"--report-full={full}", f"--report-json={totals}", str(MODULE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    output = result.stdout + result.stderr
    assert totals.is_file(), f"the runner wrote no report (exit {result.returncode}):\n{output}"
    counts = json.loads(totals.read_text())["totals"]
    report = full.read_text() if full.is_file() else ""
    assert (counts["errors"], counts["warnings"]) == (0, 0), report
    assert result.returncode == 0, report + output
