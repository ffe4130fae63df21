"""Headless Chromium for the storefront browser tests (Debian's /usr/bin/chromium, never a download)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.storefront_server import NODE_MODULES

CHROMIUM = os.environ.get("PROVENANT_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _skip_or_fail(reason: str):
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {reason}")


@pytest.fixture(scope="module")
def browser():
    """Chromium with the storefront assets (RequireJS, axe-core from npm) in place."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        _skip_or_fail(f"Chromium not found at {CHROMIUM}; browser tests cannot run")
    if not (NODE_MODULES / "requirejs" / "require.js").exists() or not (NODE_MODULES / "axe-core").exists():
        _skip_or_fail("tests/browser/node_modules is missing: run `npm ci --prefix tests/browser`")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()
