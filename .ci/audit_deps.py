#!/usr/bin/env python3
"""Audit the installed dependencies for known vulnerabilities with pip-audit (PyPA).

    python .ci/audit_deps.py [--strict] [pip-audit arguments ...]

Exit 0 when no installed package has a known vulnerability, 1 when one has (each is listed with its
fix versions). When the vulnerability service cannot be reached the audit did not happen: that is
said loudly on stderr (also when the service answers but knows none of the packages, as a mirror
without the vulnerability API does) and, unless ``--strict``, the exit status is 0 so an offline build is not
failed for it; ``--strict`` makes it exit 2 instead.

Without pip-audit arguments the environment this Python runs in is audited (``--local``, editable
installs skipped: the project itself is not on PyPI).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

UNREACHABLE = 2
BANNER = "=" * 78


def _loud(message: str) -> None:
    print(f"\n{BANNER}\nDEPENDENCY AUDIT NOT DONE: {message}\n{BANNER}\n", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strict", action="store_true", help="exit 2 when the service is unreachable")
    options, extra = parser.parse_known_args(argv)
    args = extra or ["--local", "--skip-editable"]
    command = [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off", *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        _loud("pip-audit did not finish within 600 s (vulnerability service unreachable or slow)")
        return UNREACHABLE if options.strict else 0
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        if "No module named pip_audit" in result.stderr:
            print("pip-audit is not installed: pip install -e '.[dev]'", file=sys.stderr)
            return 1
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        _loud(f"the vulnerability service could not be queried ({last[:300]})")
        return UNREACHABLE if options.strict else 0
    dependencies = report.get("dependencies", [])
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    if dependencies and len(skipped) == len(dependencies):
        reason = skipped[0]["skip_reason"]
        _loud(f"none of {len(dependencies)} packages could be looked up ({reason[:200]} ...)")
        return UNREACHABLE if options.strict else 0
    for dep in skipped:
        print(f"not audited: {dep['skip_reason']}", file=sys.stderr)
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    print(
        f"pip-audit: {len(dependencies)} packages, {len(vulnerable)} with known vulnerabilities, "
        f"{len(skipped)} not auditable"
    )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
