"""Headless Chromium for the storefront browser tests (Debian's /usr/bin/chromium, never a download)."""

from __future__ import annotations

import os

import pytest

from tests.browser.storefront_server import NODE_MODULES
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS, requirement_missing, tool_required


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    tool_required(CHROMIUM, "chromium")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def storefront_assets() -> None:
    """RequireJS and axe-core from npm, which the storefront-like pages load."""
    if not (NODE_MODULES / "requirejs" / "require.js").exists() or not (NODE_MODULES / "axe-core").exists():
        requirement_missing("tests/browser/node_modules is missing: run `npm ci --prefix tests/browser`")
