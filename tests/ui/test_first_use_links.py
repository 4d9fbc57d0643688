"""Links name the address the sender used (issue 24, item 3): a server opened by IP or host
name without PWP__OVERRIDE_BASE_URL hands out links that work from there, and the share
page warns when a link's host differs from the address bar."""

from __future__ import annotations

import httpx
import pytest
from ui_helpers import create_through_form, reveal_in, screenshots, sign_up, wait_until_ready

from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def unconfigured_server(tmp_path_factory):
    """A server as `make run` starts it: no PWP__OVERRIDE_BASE_URL."""
    server = LiveServer(tmp_path_factory.mktemp("no-base-url") / "data", free_port(), {"PWP__OVERRIDE_BASE_URL": ""})
    server.start()
    yield server
    server.stop()


def test_opened_by_another_address_links_use_it(unconfigured_server, new_page):
    # 127.0.0.2 is this machine too, under an address the default base URL doesn't name,
    # as a LAN address or a host name would be.
    site = f"http://127.0.0.2:{unconfigured_server.port}"
    sender = new_page()
    links = create_through_form(sender, site, "reachable from where it was made", passphrase="")
    assert links.secret.startswith(site + "/p/") and links.manage.startswith(site + "/manage/")
    assert f"{site}/p/" in sender.input_value("#share-message")
    assert sender.locator("#share-host-warning").count() == 0
    recipient = new_page()
    assert reveal_in(recipient, links.secret) == "reachable from where it was made"
    # The pages' forms work there too (their same-site check), and so does the API.
    sign_up(sender, site, "by-ip@example.com")
    preview = httpx.get(f"{site}/api/v2/pushes/{links.token}/preview")
    assert preview.json() == {"url": links.secret}


def test_the_share_page_warns_when_the_link_names_another_host(live_server, new_page):
    # The session's server has a base URL configured (http://localhost:<port>); opened as
    # 127.0.0.1, its links still name localhost: the sender is told.
    site = live_server.url.replace("localhost", "127.0.0.1")
    page = new_page()
    links = create_through_form(page, site, "warned about the host")
    assert links.secret.startswith(live_server.url + "/p/")
    warning = page.locator("#share-host-warning")
    warning.wait_for()
    text = warning.inner_text()
    assert f"starts with {live_server.url}" in text and f"127.0.0.1:{live_server.port}" in text
    assert "PWP__OVERRIDE_BASE_URL" in text
    screenshots(page, "first-use-share-host-warning")
    # "Create another" takes the warning away with the old links.
    page.click("#create-another")
    page.wait_for_selector("#payload")
    wait_until_ready(page)
    assert warning.count() == 0
