"""Browser fixtures: Playwright (sync API) driving Debian's Chromium against the production server.

Playwright cannot download browsers here, so it launches /usr/bin/chromium; we drive it
ourselves (no pytest-playwright, which clashes with pytest-asyncio).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ui_helpers import LAPTOP

from pwpush_app.core.vault import Vault, open_vault
from pwpush_app.settings import load_settings

CHROMIUM = os.environ.get("PWPUSH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system-deps.sh installs it)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium):
    """A page in a fresh browser context (its own local storage and Reflex session)."""
    contexts = []

    def open_page(viewport: dict = LAPTOP):
        context = chromium.new_context(viewport=viewport)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def server_vault(live_server) -> Vault:
    """The core, opened on the live server's own database and key: to set up and check pushes."""
    return open_vault(load_settings(live_server.env))
