"""The standards modules stay Django-free: each imports in a fresh interpreter without Django loaded."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import provenance.standards

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(info.name for info in pkgutil.iter_modules(provenance.standards.__path__))


def test_every_standard_is_listed():
    assert set(MODULES) == {
        "canonical",
        "content_credentials",
        "fingerprint",
        "hashing",
        "media_marks",
        "merkle",
        "model_cards",
        "notes",
        "monitor",
        "tiles",
        "witness",
        "watermark",
        "xmp",
    }


@pytest.mark.parametrize("name", MODULES)
def test_standard_imports_without_django(name):
    # A fresh interpreter with no settings module: importing Django code would fail or load django.
    code = (
        "import sys, importlib\n"
        f"importlib.import_module('provenance.standards.{name}')\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "project = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sidecar', 'audits', 'disclosure', 'magento_bridge') or "
        "(m.startswith('provenance.') and not m.startswith('provenance.standards')))\n"
        "assert not loaded, loaded\n"
        "assert not project, project\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
