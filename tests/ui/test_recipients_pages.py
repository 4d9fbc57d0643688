"""One secret for several recipients through the pages, on the production server in
Chromium: the create form's field and its refusal, the share page's link per recipient,
the manage page's group (who has viewed), revoking one from its manage page while the
others still open; and the instance policies (PWPUSH_REQUIRE_PASSPHRASE, the kind's
maximum views and lifetime) on a server of their own.  The API door's tests are
tests/api/test_recipients.py."""

from __future__ import annotations

import secrets

import httpx
import pytest
from ui_helpers import reveal_in, screenshots, sign_up, wait_until_ready

from pwpush_app import e2e_client
from pwpush_app.core import accounts
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.e2e import encrypt
from pwpush_app.core.errors import WrongPassphrase
from pwpush_app.core.records import find_push
from pwpush_app.core.reveal import reveal_push

pytestmark = pytest.mark.browser


def _fill_and_create(page, base: str, secret: str, recipients: str, **fields) -> None:
    page.goto(base + "/")
    wait_until_ready(page)
    page.fill("#payload", secret)
    for field, value in fields.items():
        page.fill(f"#{field}", value)
        page.wait_for_timeout(400)  # each field's debounced "forget my refusal" goes first
    page.fill("#recipients", recipients)
    page.wait_for_timeout(400)
    page.click("#create")


def test_a_link_per_recipient_who_has_viewed_and_revoking_one(live_server, server_runtime, new_page):
    base = live_server.url
    secret = "group canary " + secrets.token_hex(6)
    page = new_page()
    _fill_and_create(page, base, secret, "Alice", expire_after_views="2")
    page.wait_for_selector("#recipients-error")
    assert "from 2 to 20" in page.inner_text("#recipients-error")

    page.fill("#recipients", "Alice, Bob\nthe auditor")
    page.wait_for_selector("#recipients-error", state="detached")
    page.click("#create")
    page.wait_for_function("() => ['share-group-link-0', 'share-group-link-2', 'share-group-manage-2']"
                           ".every(id => document.getElementById(id).value.length > 0)")
    assert [page.inner_text(f"#share-group-label-{i}") for i in range(3)] == ["Alice", "Bob", "the auditor"]
    assert not page.is_visible("#share-group-link-3") and not page.is_visible("#share-link")
    links = [page.input_value(f"#share-group-link-{i}") for i in range(3)]
    manages = [page.input_value(f"#share-group-manage-{i}") for i in range(3)]
    assert len(set(links)) == 3 and len(set(manages)) == 3
    assert secret not in page.content()
    screenshots(page, "recipients-share")

    viewer = new_page()
    assert reveal_in(viewer, links[0]) == secret  # Alice opens hers

    sender = new_page()
    sender.goto(manages[1])  # Bob's manage page
    sender.wait_for_selector("#manage-group")
    assert sender.inner_text("#recipient-line") == "Bob"
    members = [row.inner_text() for row in sender.locator(".manage-group-member").all()]
    assert members[0].startswith("Alice: viewed 1 of 2 times") and members[0].endswith("live")
    assert members[1] == "Bob: not viewed yet; live (this link)"
    assert members[2] == "the auditor: not viewed yet; live"
    screenshots(sender, "recipients-manage")

    sender.click("#expire-now")
    sender.click("#confirm-expire")
    sender.wait_for_function("() => document.getElementById('push-state').textContent === 'Expired'")
    sender.wait_for_function("() => [...document.querySelectorAll('.manage-group-member')]"
                             ".some(row => row.textContent.startsWith('Bob: not viewed yet; expired (revoked)'))")
    late = new_page()
    late.goto(links[1])
    late.wait_for_selector("#unavailable")  # Bob's link is gone...
    assert reveal_in(new_page(), links[0]) == secret  # ...Alice's second view still works
    assert reveal_in(new_page(), links[2]) == secret  # and the auditor's
    bob = find_push(server_runtime, links[1].rsplit("/", 1)[-1])
    assert bob.expired_reason == "owner" and bob.recipient == "Bob"


def test_the_dashboard_shows_the_group_and_who_has_viewed(live_server, server_runtime, new_page):
    base = live_server.url
    page = new_page()
    email = f"group-{secrets.token_hex(4)}@example.com"
    sign_up(page, base, email)
    _fill_and_create(page, base, "dash group " + secrets.token_hex(4), "Alice, Bob", name="dash group")
    page.wait_for_function("() => document.getElementById('share-group-link-1').value.length > 0")
    assert reveal_in(new_page(), page.input_value("#share-group-link-0")).startswith("dash group")

    page.goto(base + "/dashboard")
    page.wait_for_selector(".dash-group")
    badges = sorted(page.locator(".dash-recipient").all_inner_texts())
    assert badges == ["For Alice", "For Bob"]
    assert set(page.locator(".dash-group").all_inner_texts()) == {
        "Same secret for 2 recipients. Viewed by Alice. Not yet viewed by Bob."}
    screenshots(page, "recipients-dashboard")

    # A recipient at one address typed wrong passphrases for another push of this sender's.
    user, _token = accounts.issue_api_token(server_runtime, email)
    guarded = create_push(server_runtime, NewPush(payload="guarded", passphrase="right one"), Client(user_id=user.id))
    for guess in range(server_runtime.settings.passphrase_max_failures):
        with pytest.raises(WrongPassphrase):
            reveal_push(server_runtime, guarded.url_token, Client(ip="203.0.113.7"), passphrase=f"guess {guess}")
    page.reload()
    lockout = page.locator(f".dash-push[data-push='{guarded.push.id}'] .dash-lockout")
    lockout.wait_for()
    assert lockout.inner_text().startswith("A recipient at 203.0.113.7 typed 5 wrong passphrases: their attempts are "
                                           "paused until "), lockout.inner_text()

    # In French: the sentences, the list of names and the lock-out, as French writes them.
    page.goto(base + "/dashboard?locale=fr")
    page.wait_for_function("() => (document.querySelector('.dash-group')?.innerText || '').startsWith('Même')")
    assert set(page.locator(".dash-group").all_inner_texts()) == {
        "Même secret pour 2 destinataires. Vu par Alice. Pas encore vu par Bob."}
    assert "203.0.113.7" in lockout.inner_text() and "paused" not in lockout.inner_text()
    screenshots(page, "recipients-dashboard-fr")


def test_the_instance_policies_on_the_create_page(strict_site, new_page):
    base = strict_site.url
    page = new_page()
    page.goto(base + "/")
    wait_until_ready(page)
    assert "required" in page.inner_text("label[for=passphrase]")
    page.fill("#payload", "strict canary")
    page.fill("#expire_after_views", "4")
    page.wait_for_timeout(400)
    page.click("#create")
    page.wait_for_selector("#passphrase-error")
    assert "requires a passphrase" in page.inner_text("#passphrase-error")
    assert "from 1 to 3" in page.inner_text("#expire_after_views-error")
    screenshots(page, "instance-policies-refused")

    page.fill("#expire_after_views", "3")
    page.wait_for_selector("#expire_after_views-error", state="detached")
    page.fill("#passphrase", "open sesame")
    page.wait_for_timeout(400)
    page.click("#create")
    page.wait_for_function("() => document.getElementById('share-link').value.length > 0")


def test_end_to_end_turned_off_no_switch_and_the_api_refuses(strict_site, live_server, new_page):
    page = new_page()
    # Where it is on (the session's server), the switch is there...
    page.goto(live_server.url + "/")
    wait_until_ready(page)
    page.wait_for_selector("#end_to_end")
    # ...and here, with PWPUSH_END_TO_END=false, it is not (the text form otherwise whole).
    page.goto(strict_site.url + "/")
    wait_until_ready(page)
    page.wait_for_selector("#payload")
    page.wait_for_selector("#passphrase")
    assert page.locator("#end_to_end").count() == 0 and page.locator("#e2e-envelope").count() == 0
    envelope, _ = encrypt("x", "pp")
    with httpx.Client(timeout=30) as http:
        refused = http.post(strict_site.url + "/api/v2/pushes", json={"push": {"payload": envelope, "end_to_end": True}})
        assert refused.status_code == 422
        assert "End-to-end encryption is turned off on this server" in refused.text
        try:
            e2e_client.push(http, strict_site.url, "x", "pp")
        except RuntimeError as refusal:
            assert "422" in str(refusal) and "turned off" in str(refusal)
        else:
            pytest.fail("the reference client's push should be refused")
