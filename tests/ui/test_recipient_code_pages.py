"""Verify the recipient before the reveal (issue 21) on the production server, in Chromium,
with a real SMTP server: the whole flow (create with the recipient's email, open the link,
request the code, read it from the mail, enter it, see the secret); crafted websocket
events that try to reach the reveal without the code; the API door over real HTTP against
the same server; screenshots of the new step; and a canary scan of the server's data.

The tests share one server and run in order (the scan looks at what the others did)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import httpx
import pytest
from ui_helpers import EventChannel, screenshots, wait_until_ready

from pwpush_app.core.records import find_push
from pwpush_app.core.runtime import Runtime, open_runtime
from pwpush_app.settings import load_settings
from pwpush_app.ui.reveal import RevealState
from tests.core.test_plaintext_canary import assert_absent, encodings, files_under
from tests.mail_servers import SmtpServer
from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.browser

PASSWORD = "Browser-Passw0rd-canary"
SECRET = "Verified-page-canary-91b7"
RECIPIENT = "dana.verify@example.org"
WIDE, NARROW = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@dataclass
class Site:
    server: LiveServer
    smtp: SmtpServer
    runtime: Runtime

    @property
    def url(self) -> str:
        return self.server.url

    def mail_to(self, address: str, count: int = 1, timeout: float = 30):
        return self.smtp.mail_to(address, count, timeout)

    def code_in(self, address: str, count: int) -> str:
        mail = self.mail_to(address, count)
        assert SECRET not in mail.data.decode()
        found = re.search(r"\b(\d{3}) (\d{3})\b", mail.text)
        return found.group(1) + found.group(2)

    def audit(self, token: str) -> list[str]:
        from sqlmodel import select

        from pwpush_app.core.db import transaction
        from pwpush_app.core.models import AuditEvent

        push = find_push(self.runtime, token)
        with transaction(self.runtime.engine, write=False) as db:
            return [row.kind for row in db.exec(select(AuditEvent).where(AuditEvent.push_id == push.id)
                                                 .order_by(AuditEvent.id)).all()]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    smtp = SmtpServer().start()
    # The mail pages' settings (tests/ui/test_mail_pages.py): the same frontend build serves both.
    server = LiveServer(tmp_path_factory.mktemp("verify-site") / "data", free_port(),
                        smtp.env(PWP__ENABLE_USER_ACCOUNT_EMAILS="true", PWPUSH_MAIL_POLL_SECONDS="1"))
    server.start()
    yield Site(server, smtp, open_runtime(load_settings(server.env)))
    server.stop()
    smtp.stop()


def _signed_up(page, site: Site, email: str) -> None:
    """Sign up and confirm the address (this site sends account mails), then log in."""
    page.goto(site.url + "/signup")
    wait_until_ready(page)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirmation", PASSWORD)
    page.click("#sign-up")
    page.wait_for_url(re.compile(r"/login/?\?confirm_sent=1$"))
    confirm = re.search(rf"{re.escape(site.url)}/account/confirm/[A-Za-z0-9_-]+", site.mail_to(email).text).group(0)
    page.goto(confirm)
    page.wait_for_url(re.compile(r"/login/?\?confirmed=1$"))
    wait_until_ready(page)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#log-in")
    page.wait_for_url(re.compile(r"/dashboard/?(\?.*)?$"))
    wait_until_ready(page)


def _create(page, site: Site, secret: str, recipient: str, views: int = 1, shoot: bool = False) -> str:
    page.goto(site.url + "/")
    wait_until_ready(page)
    page.fill("#payload", secret)
    page.fill("#expire_after_views", str(views))
    page.fill("#verify_email", recipient)
    page.wait_for_timeout(400)  # the fields' debounced "forget my refusal" events go first
    if shoot:
        page.locator("#verify_email").scroll_into_view_if_needed()
        _shoot(page, "create")
    page.click("#create")
    page.wait_for_selector("#share-link")
    page.wait_for_function("() => document.getElementById('share-link').value.length > 0")
    return page.input_value("#share-link")


def _shoot(page, name: str) -> None:
    screenshots(page, f"verify-{name}")


def test_the_whole_flow_create_request_the_code_enter_it_see_the_secret(site, new_page):
    sender = new_page()
    _signed_up(sender, site, "verify.sender@example.com")
    link = _create(sender, site, SECRET, RECIPIENT, views=2, shoot=True)
    token = link.rsplit("/", 1)[-1]

    viewer = new_page()
    viewer.goto(link)
    viewer.wait_for_selector("#send-code")
    wait_until_ready(viewer)
    assert "check that you are the recipient" in viewer.inner_text("#code-help")
    _shoot(viewer, "landing")

    # Reveal before asking for a code: refused, nothing taken.
    viewer.click("#reveal")
    viewer.wait_for_function("() => document.getElementById('reveal-message').innerText.includes('request a code')")
    viewer.click("#send-code")
    viewer.wait_for_function("() => document.getElementById('code-help').innerText.includes('We emailed a code to')")
    assert "d•••@example.org" in viewer.inner_text("#code-help")
    code = site.code_in(RECIPIENT, 1)
    assert find_push(site.runtime, token).views_remaining == 2

    wrong = f"{(int(code) + 1) % 10**6:06d}"
    viewer.fill("#verification_code", wrong)
    viewer.click("#reveal")
    viewer.wait_for_function("() => document.getElementById('reveal-message').innerText.includes('That code is not correct')")
    _shoot(viewer, "wrong-code")

    viewer.fill("#verification_code", f"{code[:3]} {code[3:]}")
    viewer.click("#reveal")
    viewer.wait_for_function("() => { const box = document.getElementById('secret-box'); return box && box.value.length > 0 }")
    assert viewer.input_value("#secret-box") == SECRET
    assert site.audit(token)[-4:] == ["code_sent", "wrong_code", "code_verified", "view"]


def test_crafted_events_reach_no_reveal_without_the_code(site, new_page):
    sender = new_page()
    _signed_up(sender, site, "crafty.sender@example.com")
    link = _create(sender, site, SECRET + "-crafted", RECIPIENT, views=3)
    token = link.rsplit("/", 1)[-1]
    page = new_page()
    channel = EventChannel(page)
    page.goto(link)
    page.wait_for_selector("#send-code")
    wait_until_ready(page)
    reveal = f"{RevealState.get_full_name()}.reveal"
    for form in ({}, {"passphrase": ""}, {"verification_code": ""}, {"verification_code": "000000"},
                 {"verification_code": ["123456"]}):
        channel.send_event(reveal, {"form_data": form})
    page.wait_for_timeout(1500)
    assert page.input_value("#secret-box") == ""
    kinds = site.audit(token)
    assert "view" not in kinds and "code_verified" not in kinds
    assert find_push(site.runtime, token).views_remaining == 3
    # Codes on demand: one a minute per push, however many events ask.
    mails_before = len([m for m in site.smtp.received if RECIPIENT in m.rcpt_tos])
    for _ in range(4):
        channel.send_event(f"{RevealState.get_full_name()}.email_code")
    page.wait_for_function("() => document.getElementById('reveal-message').innerText.includes('A code was sent a moment ago')")
    site.mail_to(RECIPIENT, mails_before + 1)
    time.sleep(2)
    assert len([m for m in site.smtp.received if RECIPIENT in m.rcpt_tos]) == mails_before + 1
    assert site.audit(token).count("code_sent") == 1


def test_the_api_door_over_http_on_the_same_server(site):
    _user_token = _api_token(site, "api.sender@example.com")
    headers = {"Authorization": f"Bearer {_user_token}"}
    created = httpx.post(f"{site.url}/api/v2/pushes", headers=headers,
                         json={"push": {"payload": SECRET + "-api", "verify_email": RECIPIENT}})
    assert created.status_code == 201, created.text
    token = created.json()["url_token"]
    refused = httpx.get(f"{site.url}/api/v2/pushes/{token}")
    assert refused.status_code == 401 and refused.json()["error"] == "A verification code is required."
    mails_before = len([m for m in site.smtp.received if RECIPIENT in m.rcpt_tos])
    sent = httpx.post(f"{site.url}/api/v2/pushes/{token}/verification_code")
    assert sent.status_code == 202, sent.text
    code = site.code_in(RECIPIENT, mails_before + 1)
    shown = httpx.get(f"{site.url}/api/v2/pushes/{token}", headers={"X-Verification-Code": code})
    assert shown.status_code == 200 and shown.json()["payload"] == SECRET + "-api"
    again = httpx.get(f"{site.url}/api/v2/pushes/{token}", headers={"X-Verification-Code": code})
    # Used up: the same code again takes nothing.
    assert again.status_code == 401 and "no longer works" in again.json()["message"]
    assert find_push(site.runtime, token).views_used == 1


def _api_token(site: Site, email: str) -> str:
    import subprocess
    import sys

    from tests.servers import ROOT

    done = subprocess.run([sys.executable, "-m", "pwpush_app", "create-token", email], cwd=ROOT,
                          env=site.server.env, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_the_address_the_codes_and_the_secret_never_reach_the_servers_data_or_log(site):
    needles = {f"{name} {blob[:2]!r}": blob for name, value in (("address", RECIPIENT), ("secret", SECRET)) for blob in encodings(value)}
    codes = {f"code {i}": code.encode() for i, code in enumerate(
        re.sub(r"(\d{3}) (\d{3})", r"\1\2", m.group(0)) for mail in site.smtp.received
        for m in [re.search(r"\b\d{3} \d{3}\b", mail.text)] if m and "verification code" in mail.text)}
    assert codes
    assert_absent(needles, {**files_under(site.server.data_dir), "server log": site.server.log_text().encode()})
    # The codes as text in the log (six digits in a row can occur in a database file's random bytes).
    assert_absent(codes, {"server log": site.server.log_text().encode()})
