"""Browser fixtures: Playwright (sync API) driving Debian's Chromium against the production server.

Playwright cannot download browsers here, so it launches /usr/bin/chromium; we drive it
ourselves (no pytest-playwright, which clashes with pytest-asyncio).
"""

from __future__ import annotations

import pytest
from ui_helpers import LAPTOP

from pwpush_app.core.runtime import Runtime, open_runtime
from pwpush_app.settings import load_settings
from tests.servers import LiveServer, free_port

TIMEOUT_MS = 30_000
# The `chromium` fixture lives in tests/conftest.py: one Playwright per session (the sync
# API refuses a second one), shared with tests/scale/test_browser.py.


@pytest.fixture
def new_page(chromium):
    """A page in a fresh browser context (its own local storage and Reflex session)."""
    contexts = []

    def open_page(viewport: dict = LAPTOP, dark: bool = False):
        context = chromium.new_context(viewport=viewport, color_scheme="dark" if dark else "light")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def server_runtime(live_server) -> Runtime:
    """The core, opened on the live server's own database and key: to set up and check pushes."""
    return open_runtime(load_settings(live_server.env))


@pytest.fixture(scope="session")
def strict_site(tmp_path_factory):
    """A site with instance policies: a passphrase on every push, at most 3 views and 2 days,
    and no end-to-end pushes (tests/ui/test_recipients_pages.py, and the answer page's files:
    test_requests_pages.py)."""
    server = LiveServer(tmp_path_factory.mktemp("strict") / "data", free_port(), {
        "PWPUSH_REQUIRE_PASSPHRASE": "true", "PWPUSH_END_TO_END": "false",
        "PWP__PW__EXPIRE_AFTER_VIEWS_MAX": "3", "PWP__PW__EXPIRE_AFTER_VIEWS_DEFAULT": "2",
        "PWP__PW__EXPIRE_AFTER_DAYS_MAX": "2", "PWP__PW__EXPIRE_AFTER_DAYS_DEFAULT": "1",
    })
    server.start()
    yield server
    server.stop()
