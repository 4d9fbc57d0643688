"""Passkeys in Chromium, against the production server, with the DevTools protocol's virtual
authenticator (CTAP2, resident keys, user verification), as a person's laptop or phone:
- register two on the account page (a second one on the same device is refused with a
  clear message), rename one, remove the other with the password; log out; sign in with the
  remaining one without typing an email or a password; the removed one signs in no more;
- a passkey as the second factor after the password, beside the TOTP code;
- a browser without passkeys, and a prompt that fails, get a clear message;
- attacks: a replayed sign-in (the recorded form posted again), another account's passkey
  answering a login step, a crafted websocket event carrying a made-up credential;
- screenshots of the card, /login and /login/code at 1280 and 390 px, light and dark.
"""

from __future__ import annotations

import json
import re

import httpx
import pyotp
import pytest
from ui_helpers import PASSWORD, EventChannel, screenshots, sign_up, wait_until_ready

from pwpush_app.core import accounts, login_steps, passkeys, two_factor
from pwpush_app.core.clock import utcnow
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from pwpush_app.ui.passkeys import PasskeysState
from tests.servers import LiveServer, free_port
from tests.soft_authenticator import SoftAuthenticator

AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                 "hasUserVerification": True, "isUserVerified": True}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("passkeys") / "data", free_port())
    server.start()
    yield server, open_runtime(load_settings(server.env))
    server.stop()


def authenticator(page, **options) -> tuple[object, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    found = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {**AUTHENTICATOR, **options}})
    return cdp, found["authenticatorId"]


def wait_at(page, path: str) -> None:
    page.wait_for_url(re.compile(re.escape(path) + r"/?(\?.*)?$"))


def names(page) -> list[str]:
    return [n.strip() for n in page.locator("#passkey-list .passkey-name").all_inner_texts()]


def add_passkey(page, name: str) -> None:
    page.fill("#passkey-name", name)
    page.click("#add-passkey")


def log_out(page) -> None:
    page.click("#log-out")
    wait_at(page, "/login")
    wait_until_ready(page)


def test_register_two_rename_remove_and_sign_in_with_the_other(site, new_page):
    server, runtime = site
    page = new_page()
    sign_up(page, server.url, "pk@example.com")
    page.goto(server.url + "/account")
    wait_until_ready(page)
    cdp, laptop = authenticator(page)
    assert page.locator("#no-passkeys").is_visible()
    add_passkey(page, "Laptop")
    page.wait_for_selector("#passkey-notice:has-text('Passkey “Laptop” added.')")
    assert names(page) == ["Laptop"]
    # The same device again: the browser refuses (the passkey is excluded), and the page says why.
    add_passkey(page, "Laptop again")
    page.wait_for_selector("#passkey-error:has-text('already holds a passkey')")
    assert names(page) == ["Laptop"]
    laptop_credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": laptop})["credentials"]
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": laptop})
    _cdp, phone = authenticator(page)
    add_passkey(page, "Phone")
    page.wait_for_selector("#passkey-notice:has-text('Passkey “Phone” added.')")
    assert names(page) == ["Laptop", "Phone"]
    page.locator(".passkey-row", has_text="Phone").get_by_role("button", name="Rename Phone").click()
    page.fill("#rename-input", "Work phone")
    page.click("#rename-save")
    page.wait_for_selector("#passkey-notice:has-text('Passkey renamed.')")
    assert names(page) == ["Laptop", "Work phone"]
    page.locator(".passkey-row", has_text="Laptop").get_by_role("button", name="Remove Laptop").click()
    screenshots(page, "passkeys-account")
    page.fill("#remove-password", "not the password")
    page.click("#remove-confirm")
    page.wait_for_selector("#form-error:has-text('That is not your current password.')")
    wait_until_ready(page)
    assert names(page) == ["Laptop", "Work phone"]
    page.locator(".passkey-row", has_text="Laptop").get_by_role("button", name="Remove Laptop").click()
    page.fill("#remove-password", PASSWORD)
    page.click("#remove-confirm")
    page.wait_for_selector("#form-notice:has-text('The passkey is removed')")
    wait_until_ready(page)
    assert names(page) == ["Work phone"]

    log_out(page)
    screenshots(page, "passkeys-login")
    page.click("#passkey-sign-in")
    wait_at(page, "/dashboard")
    wait_until_ready(page)
    page.locator("text=pk@example.com").first.wait_for(state="visible")  # the header, once the state has arrived
    [row] = passkeys.list_passkeys(runtime, _user_id(runtime, "pk@example.com"))
    assert row.name == "Work phone" and row.last_used_at is not None

    # The removed passkey, still on its device, signs in no more.
    log_out(page)
    _cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": phone})
    cdp2, laptop_again = authenticator(page)
    for credential in laptop_credentials:
        cdp2.send("WebAuthn.addCredential", {"authenticatorId": laptop_again, "credential": credential})
    page.click("#passkey-sign-in")
    page.wait_for_selector("#form-error:has-text('That passkey did not sign you in')")
    assert "/login" in page.url and not [c for c in page.context.cookies() if "session" in c["name"]]


def _user_id(runtime, email: str) -> str:
    from sqlmodel import select

    from pwpush_app.core.db import transaction
    from pwpush_app.core.models import User

    with transaction(runtime.engine, write=False) as db:
        return db.exec(select(User.id).where(User.email == email)).one()


def test_a_passkey_as_the_second_factor_beside_the_code(site, new_page):
    server, runtime = site
    page = new_page()
    sign_up(page, server.url, "second@example.com")
    page.goto(server.url + "/account")
    wait_until_ready(page)
    authenticator(page, isUserVerified=True)
    add_passkey(page, "Laptop")
    page.wait_for_selector("#passkey-notice")
    user_id = _user_id(runtime, "second@example.com")
    enrolment = two_factor.begin_enrolment(runtime, user_id)
    two_factor.confirm_enrolment(runtime, user_id, pyotp.TOTP(enrolment.secret).now())
    log_out(page)
    page.fill("#email", "second@example.com")
    page.fill("#password", PASSWORD)
    page.click("#log-in")
    wait_at(page, "/login/code")
    wait_until_ready(page)
    page.wait_for_selector("#passkey-second-factor")
    assert page.locator("#code").is_visible()
    screenshots(page, "passkeys-login-code")
    page.click("#passkey-second-factor")
    wait_at(page, "/dashboard")
    assert [c for c in page.context.cookies() if "session" in c["name"]]
    assert not [c for c in page.context.cookies() if "login_step" in c["name"]]


def test_clear_messages_without_passkey_support_or_when_the_prompt_fails(site, new_page):
    server, _runtime = site
    page = new_page()
    page.add_init_script("delete window.PublicKeyCredential")
    page.goto(server.url + "/login")
    wait_until_ready(page)
    page.click("#passkey-sign-in")
    page.wait_for_selector("#passkey-error:has-text('This browser cannot use passkeys')")
    # A device that cannot verify its user, where the site requires it: the prompt fails.
    page = new_page()
    page.goto(server.url + "/login")
    wait_until_ready(page)
    authenticator(page, hasUserVerification=False, isUserVerified=False)
    page.click("#passkey-sign-in")
    page.wait_for_selector("#passkey-error")
    assert "cancelled or ran out of time" in page.inner_text("#passkey-error") or \
        "did not work" in page.inner_text("#passkey-error")
    assert re.search(r"/login/?$", page.url)


def test_replays_another_accounts_passkey_and_crafted_events_are_refused(site, new_page):
    server, runtime = site
    page = new_page()
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data) if r.url.endswith("/session/passkey") else None)
    sign_up(page, server.url, "replay@example.com")
    page.goto(server.url + "/account")
    wait_until_ready(page)
    authenticator(page)
    add_passkey(page, "Laptop")
    page.wait_for_selector("#passkey-notice")
    log_out(page)
    page.click("#passkey-sign-in")
    wait_at(page, "/dashboard")
    # The recorded sign-in posted again (an attacker who saw it): its challenge is spent.
    assert len(posted) == 1
    headers = {"origin": server.url, "content-type": "application/x-www-form-urlencoded"}
    replay = httpx.post(server.url + "/session/passkey", content=posted[0], headers=headers)
    assert replay.status_code == 303 and replay.headers["location"] == "/login?error=passkey_expired"
    assert "set-cookie" not in replay.headers

    # Bob's passkey answering Alice's login step: refused, and no session.
    alice_id = _user_id(runtime, "replay@example.com")
    bob = accounts.sign_up(runtime, "bob-pk@example.com", PASSWORD)
    host = server.url.split("//")[1]
    bobs = SoftAuthenticator(origin=server.url)
    bobs_session = accounts.open_session(runtime, bob.id, False, utcnow())  # a fresh login may add a passkey
    passkeys.register(runtime, bob.id, bobs.create(passkeys.registration_options(runtime, bob.id, server.url, host,
                                                                                 session_token=bobs_session)),
                      "Bob's key", session_token=bobs_session)
    enrolment = two_factor.begin_enrolment(runtime, alice_id)
    two_factor.confirm_enrolment(runtime, alice_id, pyotp.TOTP(enrolment.secret).now())
    step = accounts.log_in(runtime, "replay@example.com", PASSWORD, "192.0.2.9")
    answer = bobs.get(passkeys.step_options(runtime, step.token, server.url, host))
    refused = httpx.post(server.url + "/session/passkey?from=step", data={"credential": json.dumps(answer)},
                         headers={"origin": server.url},
                         cookies={login_steps.cookie_name(runtime.settings): step.token})
    assert refused.status_code == 303 and refused.headers["location"] == "/login/code?error=passkey_failed"
    assert "session" not in refused.headers.get("set-cookie", "")

    # A crafted event with a made-up credential: refused with the page's message, nothing added.
    channel_page = new_page()
    channel = EventChannel(channel_page)
    sign_up(channel_page, server.url, "crafted@example.com")
    channel_page.goto(server.url + "/account")
    wait_until_ready(channel_page)
    crafted_session = accounts.open_session(runtime, _user_id(runtime, "crafted@example.com"), False, utcnow())
    made_up = SoftAuthenticator(origin=server.url).create(
        passkeys.registration_options(runtime, _user_id(runtime, "crafted@example.com"), server.url, host,
                                      session_token=crafted_session))
    made_up["response"]["clientDataJSON"] = made_up["response"]["clientDataJSON"][:-4] + "AAAA"
    channel.send_event(f"{PasskeysState.get_full_name()}.added", {"result": {"credential": json.dumps(made_up), "name": "Made up"}})
    channel_page.wait_for_selector("#passkey-error:has-text('could not be added')")
    assert passkeys.list_passkeys(runtime, _user_id(runtime, "crafted@example.com")) == []
    # And one signed for another site's origin, on a real challenge of this account.
    foreign = SoftAuthenticator(origin="https://evil.example").create(
        passkeys.registration_options(runtime, _user_id(runtime, "crafted@example.com"), server.url, host,
                                      session_token=crafted_session))
    channel.send_event(f"{PasskeysState.get_full_name()}.added", {"result": {"credential": json.dumps(foreign), "name": "Foreign"}})
    channel_page.wait_for_selector("#passkey-error:has-text('could not be added')")
    assert passkeys.list_passkeys(runtime, _user_id(runtime, "crafted@example.com")) == []
