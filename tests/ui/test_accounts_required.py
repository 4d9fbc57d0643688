"""An instance with PWP__ALLOW_ANONYMOUS=false: creating needs a login, on the page and in
the API (one core rule, accounts.may_create_pushes)."""

from __future__ import annotations

import httpx
import pytest
from test_accounts import sign_up
from ui_helpers import wait_until_ready

from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def members_only(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("members-only") / "data", free_port(), {"PWP__ALLOW_ANONYMOUS": "false"})
    server.start()
    yield server
    server.stop()


def test_creating_needs_a_login_on_the_page_and_in_the_api(members_only, new_page):
    assert httpx.post(f"{members_only.url}/api/v2/pushes", json={"push": {"payload": "x"}}).status_code == 401
    page = new_page()
    page.goto(members_only.url + "/")
    wait_until_ready(page)
    page.fill("#payload", "anonymous attempt")
    page.click("#create")
    page.wait_for_selector("#form-error")
    assert "needs an account" in page.inner_text("#form-error")
    assert page.locator("#share-link").is_hidden()

    sign_up(page, members_only.url, "member@example.com")
    page.goto(members_only.url + "/")
    wait_until_ready(page)
    page.fill("#payload", "member's secret")
    page.fill("#name", "members only")
    page.click("#create")
    page.wait_for_selector("#share-link")
    page.goto(members_only.url + "/dashboard")
    wait_until_ready(page)
    page.locator(".dash-push", has_text="members only").wait_for()
