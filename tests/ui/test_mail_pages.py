"""Mail in a real browser, against the production server with a real SMTP server and a real
webhook receiver: confirm the address at sign-up, forgot and reset password (the token never
in the page or its events), the link mailed from the create page, notifications and a
webhook set up on the account page; then a canary scan of the server's data and log.
Screenshots of each page, light and dark, at 1280 and 390 pixels wide.

The tests share one server and run in order (the screenshots and the scan use what the
earlier ones did)."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass

import pytest
from ui_helpers import SCREENSHOTS, EventChannel, reveal_in, screenshots, wait_until_ready

from pwpush_app.core.account_recovery import account_for_email
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.runtime import Runtime, open_runtime
from pwpush_app.settings import load_settings
from tests.core.test_plaintext_canary import assert_absent, encodings, files_under
from tests.mail_servers import LOCAL_RECEIVERS, SmtpServer, WebhookReceiver
from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.browser

PASSWORD = "Browser-Passw0rd-canary"
NEW_PASSWORD = "Another-Browser-Passw0rd"
SECRET = "Mailed-secret-canary-8d2b"
WIDE, NARROW = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@dataclass
class MailSite:
    server: LiveServer
    smtp: SmtpServer
    receiver: WebhookReceiver
    runtime: Runtime

    @property
    def url(self) -> str:
        return self.server.url

    def mail_to(self, address: str, count: int = 1, timeout: float = 30):
        return self.smtp.mail_to(address, count, timeout)

    def link_in(self, mail, action: str) -> str:
        return re.search(rf"{re.escape(self.url)}/account/{action}/[A-Za-z0-9_-]+", mail.text).group(0)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    smtp = SmtpServer().start()
    receiver = WebhookReceiver()
    server = LiveServer(tmp_path_factory.mktemp("mail-site") / "data", free_port(),
                        smtp.env(PWP__ENABLE_USER_ACCOUNT_EMAILS="true", PWPUSH_MAIL_POLL_SECONDS="1", **LOCAL_RECEIVERS))
    server.start()
    yield MailSite(server, smtp, receiver, open_runtime(load_settings(server.env)))
    server.stop()
    receiver.stop()
    smtp.stop()


def wait_at(page, path: str, query: str = "") -> None:
    """The page is at `path` (with or without the trailing slash the pages get), with `query` if given."""
    tail = rf"\?{re.escape(query)}$" if query else r"(\?.*)?$"
    page.wait_for_url(re.compile(re.escape(path) + "/?" + tail))


def shoot(page, name: str, url: str | None = None) -> None:
    """The page (at `url`, if given) into test-artifacts/screenshots (ui_helpers.screenshots):
    loaded once, then resized and switched between colour schemes in place."""
    if url:
        page.goto(url)
        wait_until_ready(page)
    screenshots(page, f"mail-{name}")


def sign_up_confirmed(page, site: MailSite, email: str) -> None:
    page.goto(site.url + "/signup")
    wait_until_ready(page)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirmation", PASSWORD)
    page.click("#sign-up")
    wait_at(page, "/login", "confirm_sent=1")
    assert "We sent you a link to confirm" in page.inner_text("#form-notice")
    page.goto(site.link_in(site.mail_to(email), "confirm"))
    wait_at(page, "/login", "confirmed=1")
    wait_until_ready(page)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#log-in")
    wait_at(page, "/dashboard", "")
    wait_until_ready(page)


def test_confirm_then_forgot_and_reset_without_the_token_in_the_page(site, new_page):
    page = new_page()
    # Logging in before confirming says what to do, and offers the link again.
    page.goto(site.url + "/signup")
    wait_until_ready(page)
    for field, value in (("#email", "dora@example.com"), ("#password", PASSWORD), ("#password_confirmation", PASSWORD)):
        page.fill(field, value)
    page.click("#sign-up")
    wait_at(page, "/login", "confirm_sent=1")
    wait_until_ready(page)
    page.fill("#email", "dora@example.com")
    page.fill("#password", PASSWORD)
    page.click("#log-in")
    wait_at(page, "/login", "error=email_unconfirmed")
    assert "Confirm your email address first" in page.inner_text("#form-error")
    assert page.locator("#confirm-again").is_visible()
    page.goto(site.link_in(site.mail_to("dora@example.com"), "confirm"))
    wait_at(page, "/login", "confirmed=1")

    wait_until_ready(page)
    page.click("#forgot-link")
    wait_at(page, "/forgot-password", "")
    wait_until_ready(page)
    page.fill("#email", "dora@example.com")
    page.click("#send-reset")
    wait_at(page, "/login", "reset_sent=1")
    assert "If an account has that address" in page.inner_text("#form-notice")

    link = site.link_in(site.mail_to("dora@example.com", 2), "reset")
    token = link.rsplit("/", 1)[1]
    channel = EventChannel(page)
    page.goto(link)
    wait_at(page, "/reset-password", "")
    wait_until_ready(page)
    assert token not in page.url and token not in page.content()
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#new_password_confirmation", NEW_PASSWORD)
    page.click("#set-password")
    wait_at(page, "/login", "reset=1")
    assert "Your new password is set" in page.inner_text("#form-notice")
    # The token never travelled over the page's websocket (so it is in no page state).
    assert not any(token in frame for frames in channel.frames for frame in frames)
    wait_until_ready(page)
    page.fill("#email", "dora@example.com")
    page.fill("#password", NEW_PASSWORD)
    page.click("#log-in")
    wait_at(page, "/dashboard", "")
    changed = site.mail_to("dora@example.com", 3)
    assert "password was changed" in changed.message["Subject"]


def test_the_create_page_mails_the_link_and_refuses_a_bad_address(site, new_page):
    sender = new_page()
    sign_up_confirmed(sender, site, "erin@example.com")
    sender.goto(site.url + "/")
    wait_until_ready(sender)
    sender.fill("#payload", SECRET)
    sender.fill("#notify_emails_to", "frank@example.org, not-an-address")
    sender.click("#create")
    sender.wait_for_selector("#notify_emails_to-error")
    assert "Not an email address: not-an-address" in sender.inner_text("#notify_emails_to-error")
    sender.fill("#notify_emails_to", "frank@example.org, gina@example.org")
    sender.click("#create")
    sender.wait_for_selector("#share-mailed")
    assert "frank@example.org, gina@example.org" in sender.inner_text("#share-mailed")

    mail = site.mail_to("frank@example.org")
    assert "erin@example.com sent you a secret" == mail.message["Subject"] and SECRET not in mail.data.decode()
    link = re.search(rf"{re.escape(site.url)}/p/[A-Za-z0-9_-]+", mail.text).group(0)
    assert site.mail_to("gina@example.org")
    recipient = new_page()
    assert reveal_in(recipient, link) == SECRET

    # The sender's dashboard tells which mails went.
    sender.goto(site.url + "/dashboard")
    wait_until_ready(sender)
    sender.locator(".dash-push").first.locator(".dash-audit-toggle").click()
    sender.wait_for_selector("text=Link mailed to frank@example.org: sent")


def test_notifications_and_a_webhook_from_the_account_page(site, new_page):
    page = new_page()
    sign_up_confirmed(page, site, "hank@example.com")
    page.goto(site.url + "/account")
    wait_until_ready(page)
    page.click("#notice-on_view")
    page.wait_for_selector("#notices-saved:has-text('Saved.')")

    page.fill("#webhook_url", "http://203.0.113.1/hook")
    page.click("#add-webhook")
    page.wait_for_selector("#webhook-error")
    assert "only to this machine" in page.inner_text("#webhook-error")
    page.fill("#webhook_url", site.receiver.url)
    page.click("#add-webhook")
    for _ in range(100):
        secret = page.input_value("#webhook-secret")
        if secret:
            break
        page.wait_for_timeout(100)
    assert secret.startswith("whsec_")
    site.receiver.secret = secret
    assert page.locator(".webhook-endpoint").count() == 1

    owner = account_for_email(site.runtime, "hank@example.com")
    created = create_push(site.runtime, NewPush(payload=SECRET, name="Router admin"), Client(user_id=owner.id))
    viewer = new_page()
    assert reveal_in(viewer, f"{site.url}/p/{created.url_token}") == SECRET

    call = site.receiver.wait_for(1)[0]
    assert call.signature_ok and call.json["event"] == "push.viewed" and call.json["push"]["name"] == "Router admin"
    notice = site.mail_to("hank@example.com", 2)  # after the confirmation
    assert "was viewed" in notice.message["Subject"]
    page.reload()
    wait_until_ready(page)
    page.wait_for_selector("#delivery-log")
    assert "Delivered" in page.inner_text("#delivery-log")
    # Shown once: a reload shows no secret.
    assert page.input_value("#webhook-secret") == ""


def test_a_mail_the_server_refused_shows_on_the_senders_account_page(site, new_page):
    page = new_page()
    sign_up_confirmed(page, site, "ivy@example.com")
    owner = account_for_email(site.runtime, "ivy@example.com")
    site.smtp.collector.refuse_recipients = "550 5.1.1 No such user here"
    try:
        create_push(site.runtime, NewPush(payload=SECRET, notify_emails_to="nobody@example.org"), Client(user_id=owner.id))
        page.goto(site.url + "/account")
        wait_until_ready(page)
        for _ in range(60):  # the server's sender polls every second; a 550 is given up at once
            if page.locator("#mail-problems").count():
                break
            page.wait_for_timeout(500)
            page.reload()
            wait_until_ready(page)
    finally:
        site.smtp.collector.refuse_recipients = None
    problem = page.inner_text("#mail-problems")
    assert "Mail that did not arrive" in problem
    assert "Secret link to nobody@example.org" in problem and "Not delivered" in problem
    assert "No such user here" in problem  # the server's own words
    assert SECRET not in problem
    shoot(page, "problem")
    if importlib.util.find_spec("axe_playwright_python"):
        from test_accessibility import _serious_problems

        assert _serious_problems(page) == []  # the red card, dark, 390 px wide
    assert "The mail server refused the recipient: 550 5.1.1 No such user here" in problem
    # In French: our sentence in French, the mail server's answer as it came.
    page.goto(site.url + "/account?locale=fr")
    page.wait_for_function("() => (document.getElementById('mail-problems')?.innerText || '').includes('Non livré')")
    french = page.inner_text("#mail-problems")
    assert "550 5.1.1 No such user here" in french and "The mail server refused" not in french, french
    screenshots(page, "mail-problem-fr")
    page.locator("#mail-problems button").click()
    page.wait_for_selector("#mail-problems", state="detached")
    page.reload()
    wait_until_ready(page)
    assert page.locator("#mail-problems").count() == 0  # dismissed for good


def test_crafted_events_cannot_touch_another_accounts_webhook(site, new_page):
    """The account page's webhook events, sent by a script with another account's webhook id,
    change nothing and call nothing (the ids are the sender's to choose)."""
    from pwpush_app.core import webhooks
    from pwpush_app.ui.notifications import NoticesState

    hank = account_for_email(site.runtime, "hank@example.com")
    [endpoint] = webhooks.webhooks_of(site.runtime, hank.id)
    calls_before = len(site.receiver.calls)
    page = new_page()
    channel = EventChannel(page)
    page.goto(site.url + "/login")
    wait_until_ready(page)
    page.fill("#email", "ivy@example.com")
    page.fill("#password", PASSWORD)
    page.click("#log-in")
    wait_at(page, "/dashboard", "")
    page.goto(site.url + "/account")
    wait_until_ready(page)
    for handler in ("new_secret", "test", "remove"):
        channel.send_event(f"{NoticesState.get_full_name()}.{handler}", {"webhook_id": endpoint.id})
        page.wait_for_selector("#webhook-error:has-text('That webhook no longer exists.')")
        page.reload()
        wait_until_ready(page)
    channel.send_event(f"{NoticesState.get_full_name()}.remove", {"webhook_id": {"not": "a string"}})
    page.wait_for_timeout(1500)  # the server's sender polls every second: nothing may go out meanwhile
    assert webhooks.webhooks_of(site.runtime, hank.id) == [endpoint]  # there, with the same secret
    assert len(site.receiver.calls) == calls_before
    assert page.locator(".webhook-endpoint").count() == 0  # ivy sees none of hank's


def test_screenshots_and_axe_of_the_mail_pages(site, new_page):
    """Each mail page photographed, and checked by axe (light, then dark) for serious problems:
    the account page with hank's notifications, webhook and delivery log, the create page with
    its email field."""
    pytest.importorskip("axe_playwright_python")
    from test_accessibility import _serious_problems

    problems = {}

    def look_at(name: str, url: str) -> None:
        shoot(page, name, url)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.wait_for_timeout(300)
            problems[f"{name} {scheme}"] = _serious_problems(page)

    page = new_page()
    look_at("forgot-password", site.url + "/forgot-password")
    look_at("reset-password", site.url + "/reset-password")
    page.goto(site.url + "/login")
    wait_until_ready(page)
    page.fill("#email", "hank@example.com")
    page.fill("#password", PASSWORD)
    page.click("#log-in")
    wait_at(page, "/dashboard", "")
    look_at("account", site.url + "/account")
    assert page.locator(".webhook-endpoint").count() == 1 and page.locator("#delivery-log").count() == 1
    look_at("create", site.url + "/")
    assert {name: found for name, found in problems.items() if found} == {}
    # The mails themselves, as an HTML mail client shows them.
    for name, mail in (("link", site.mail_to("frank@example.org")), ("notice", site.mail_to("hank@example.com", 2))):
        page.set_content(mail.html)
        page.emulate_media(color_scheme="light")
        for label, viewport in (("1280", WIDE), ("390", NARROW)):
            page.set_viewport_size(viewport)
            page.screenshot(path=str(SCREENSHOTS / f"mail-letter-{name}-{label}.png"), full_page=True)


def test_no_secret_in_the_servers_data_or_log(site):
    tokens = [m for m in site.smtp.received]
    found = set()
    for mail in tokens:
        found |= set(re.findall(r"/(?:p|account/\w+)/([A-Za-z0-9_-]{16,64})", mail.text))
    assert found
    canaries = {"secret": SECRET, "password": PASSWORD, "new password": NEW_PASSWORD, "webhook secret": site.receiver.secret,
                **{f"token {t}": t for t in found}}
    needles = {f"{what} ({i})": blob for what, text in canaries.items() if text for i, blob in enumerate(encodings(text))}
    assert_absent(needles, {**files_under(site.server.data_dir), "server log": site.server.log_text().encode()})
