"""A sender creates, a recipient reveals: the whole path in a real browser."""

from __future__ import annotations

import pytest
from ui_helpers import (
    EventChannel,
    create_through_form,
    push_directly,
    reveal_in,
    screenshot,
    wait_for_secret,
    wait_until_ready,
)

from pwpush_app.core.records import find_push
from pwpush_app.ui.reveal import RevealState

pytestmark = pytest.mark.browser

UNAVAILABLE = "This secret link has expired or never existed."


def test_create_with_defaults_then_reveal_in_another_browser(live_server, server_runtime, new_page):
    secret = "correct horse\nbattery staple ✓ <b>&amp;</b>"
    sender = new_page()
    links = create_through_form(sender, live_server.url, secret)
    share_text = sender.inner_text("main")
    assert secret.splitlines()[0] not in share_text  # the share page never repeats the secret
    assert links.secret.startswith(live_server.url + "/p/")
    message = sender.input_value("#share-message")
    assert message.startswith(f"I've shared a secret with you: {links.secret} - it expires after 5 views or on ")
    sender.wait_for_function("() => (document.getElementById('share-qr').getAttribute('src') || '').startsWith('data:image/svg+xml;base64,')")

    recipient = new_page()
    recipient.goto(links.secret)
    recipient.wait_for_selector("#reveal")
    landing_text = recipient.inner_text("main")
    assert "views" not in landing_text.lower().replace("viewable", "")  # views left are not disclosed
    assert find_push(server_runtime, links.token).views_remaining == 5  # opening the page used nothing
    recipient.click("#reveal")
    assert wait_for_secret(recipient) == secret
    recipient.wait_for_function("() => document.getElementById('views-left').textContent.includes('4 more times')")
    assert recipient.get_attribute("#secret-box", "readonly") is not None
    assert find_push(server_runtime, links.token).views_remaining == 4


def test_copy_button_puts_the_secret_on_the_clipboard(live_server, server_runtime, new_page, chromium):
    links = push_directly(server_runtime, live_server.url, "copy-me-7731")
    context = chromium.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        assert reveal_in(page, links.secret) == "copy-me-7731"
        page.get_by_role("button", name="Copy to the clipboard").click()
        page.wait_for_function("() => async () => (await navigator.clipboard.readText()) === 'copy-me-7731'")
    finally:
        context.close()


def test_one_view_then_everyone_else_sees_the_expired_page(live_server, server_runtime, new_page):
    sender = new_page()
    links = create_through_form(sender, live_server.url, "only-once-42", views=1)
    first = new_page()
    assert reveal_in(first, links.secret) == "only-once-42"
    first.wait_for_function("() => document.getElementById('views-left').textContent.includes('last view')")
    assert first.locator("#delete-now").count() == 0  # nothing left to delete

    third = new_page()
    third.goto(links.secret)
    third.wait_for_selector("#unavailable")
    assert UNAVAILABLE in third.inner_text("main")
    assert third.locator("#reveal").count() == 0


def test_unknown_expired_and_deleted_links_look_the_same(live_server, server_runtime, new_page):
    from pwpush_app.core.audit import Client
    from pwpush_app.core.owners import expire_by_owner
    from pwpush_app.core.records import find_managed
    from pwpush_app.core.reveal import expire_by_viewer

    deleted = push_directly(server_runtime, live_server.url, "x1")
    expire_by_viewer(server_runtime, deleted.token, Client())
    expired = push_directly(server_runtime, live_server.url, "x2")
    expire_by_owner(server_runtime, find_managed(server_runtime, expired.manage_token), Client())
    texts = []
    for link in (deleted.secret, expired.secret, live_server.url + "/p/NoSuchTokenAtAll123"):
        page = new_page()
        page.goto(link)
        page.wait_for_selector("#unavailable")
        texts.append(page.inner_text("main"))
    assert texts[0] == texts[1] == texts[2]
    assert UNAVAILABLE in texts[0]


def test_passphrase_wrong_then_right(live_server, server_runtime, new_page):
    sender = new_page()
    links = create_through_form(sender, live_server.url, "behind-a-passphrase", passphrase="open sesame")
    page = new_page()
    page.goto(links.secret)
    page.wait_for_selector("#passphrase")
    page.fill("#passphrase", "open sesame?")
    page.click("#reveal")
    page.wait_for_function("() => document.getElementById('reveal-message').textContent.includes('not correct')")
    assert "4 attempts left" in page.inner_text("#reveal-message")
    assert find_push(server_runtime, links.token).views_remaining == 5  # a wrong guess costs nothing
    page.fill("#passphrase", "open sesame")
    page.press("#passphrase", "Enter")  # the keyboard is enough
    assert wait_for_secret(page) == "behind-a-passphrase"


def test_lock_out_after_five_wrong_passphrases(live_server, server_runtime, new_page):
    links = push_directly(server_runtime, live_server.url, "guarded", passphrase="right one")
    page = new_page()
    page.goto(links.secret)
    page.wait_for_selector("#passphrase")
    for attempt in range(5):
        page.fill("#passphrase", f"wrong {attempt}")
        page.click("#reveal")
        page.wait_for_function("n => document.getElementById('reveal-message').textContent.includes(n)",
            arg=["4 attempts left", "3 attempts left", "2 attempts left", "One attempt left", "last attempt"][attempt],
        )
        page.wait_for_function("() => !document.querySelector('#reveal').disabled")
    page.fill("#passphrase", "right one")  # even the right one waits out the lock-out
    page.click("#reveal")
    page.wait_for_function("() => document.getElementById('reveal-message').textContent.includes('Too many wrong passphrases')")
    assert "Try again in 10 minutes" in page.inner_text("#reveal-message")
    assert page.input_value("#secret-box") == ""
    assert find_push(server_runtime, links.token).views_remaining == 5


def test_without_retrieval_step_the_secret_shows_on_load(live_server, server_runtime, new_page):
    sender = new_page()
    links = create_through_form(sender, live_server.url, "no-click-needed", retrieval_step=False)
    assert find_push(server_runtime, links.token).retrieval_step is False
    page = new_page()
    page.goto(links.secret)
    assert wait_for_secret(page) == "no-click-needed"
    assert page.locator("#reveal").count() == 0


@pytest.mark.parametrize("retrieval_step", [False, True], ids=["shown-on-load", "reveal-button"])
def test_a_reconnect_takes_no_view_and_keeps_the_secret_on_the_page(live_server, server_runtime, new_page, retrieval_step):
    """Reflex runs the page's on_load again when its websocket reconnects (a network blip, a
    laptop waking up): that must neither take another view nor put the page back to its
    landing (or automatic reveal) state over the secret already shown."""
    secret = f"still-here-{retrieval_step}"
    links = push_directly(server_runtime, live_server.url, secret, expire_after_views=3, retrieval_step=retrieval_step)
    page = new_page()
    channel = EventChannel(page)
    if retrieval_step:
        assert reveal_in(page, links.secret) == secret
    else:
        page.goto(links.secret)
        assert wait_for_secret(page) == secret
    page.wait_for_function("() => document.getElementById('views-left').textContent.includes('2 more times')")
    assert find_push(server_runtime, links.token).views_remaining == 2

    fresh = channel.force_reconnect()

    # What the server told the page after the reconnect: nothing but "revealed".
    reveal_state = RevealState.get_full_name()
    statuses = [delta[reveal_state]["status_rx_state_"] for delta in channel.deltas(fresh)
                if "status_rx_state_" in delta.get(reveal_state, {})]
    assert set(statuses) <= {"revealed"}, statuses
    assert page.is_visible("#secret-box") and page.input_value("#secret-box") == secret
    assert "2 more times" in page.inner_text("#views-left")
    assert page.locator("#reveal").count() == 0
    assert find_push(server_runtime, links.token).views_remaining == 2  # the reconnect took no view


def test_reloading_a_revealed_page_opens_the_link_anew(live_server, server_runtime, new_page):
    """A reload is a new visit (the old page and its secret are gone), unlike a reconnect."""
    links = push_directly(server_runtime, live_server.url, "reload-me", expire_after_views=3)
    page = new_page()
    assert reveal_in(page, links.secret) == "reload-me"
    page.reload()
    page.wait_for_selector("#reveal")
    assert page.input_value("#secret-box") == ""
    assert find_push(server_runtime, links.token).views_remaining == 2
    page.click("#reveal")
    assert wait_for_secret(page) == "reload-me"
    page.wait_for_function("() => document.getElementById('views-left').textContent.includes('1 more time')")


def test_recipient_deletes_the_secret(live_server, server_runtime, new_page):
    links = push_directly(server_runtime, live_server.url, "delete-me-soon", expire_after_views=3)
    page = new_page()
    assert reveal_in(page, links.secret) == "delete-me-soon"
    page.click("#delete-now")
    page.click("#confirm-delete")
    page.wait_for_selector("#deleted")
    page.wait_for_function("() => document.getElementById('secret-box').value === ''")  # off the page too
    push = find_push(server_runtime, links.token)
    assert push.expired and push.expired_reason == "viewer" and push.payload_sealed is None
    other = new_page()
    other.goto(links.secret)
    other.wait_for_selector("#unavailable")


def test_recipient_deletes_a_passphrase_protected_secret_after_revealing_it(live_server, server_runtime, new_page):
    """The core wants the passphrase (or the reveal's receipt) for a viewer's delete of a
    protected push: the page that revealed it passes the receipt it was handed, which no
    state holds."""
    links = push_directly(server_runtime, live_server.url, "guarded-then-deleted", passphrase="let me in", expire_after_views=3)
    page = new_page()
    assert reveal_in(page, links.secret, passphrase="let me in") == "guarded-then-deleted"
    page.click("#delete-now")
    page.click("#confirm-delete")
    page.wait_for_selector("#deleted")
    push = find_push(server_runtime, links.token)
    assert push.expired and push.expired_reason == "viewer"
    # Off the page with the secret: the clearing comes as the event's results, which the page
    # runs just after it shows the "deleted" card (the state's change), so it is waited for.
    page.wait_for_function("() => document.getElementById('delete-receipt').value === ''"
                           " && document.getElementById('secret-box').value === ''")


def test_not_deletable_push_has_no_delete_button(live_server, server_runtime, new_page):
    links = push_directly(server_runtime, live_server.url, "keep-me", deletable_by_viewer=False)
    page = new_page()
    assert reveal_in(page, links.secret) == "keep-me"
    assert page.locator("#delete-now").count() == 0


def test_validation_messages_appear_next_to_their_fields(live_server, new_page):
    page = new_page()
    page.goto(live_server.url + "/")
    page.wait_for_selector("#payload")
    wait_until_ready(page)
    page.fill("#expire_after_views", "500")
    page.click("#create")  # at once: the field's change is still on its way (debounced)
    page.wait_for_selector("#payload-error")
    assert page.inner_text("#payload-error") == "Enter the secret to share."
    assert page.inner_text("#expire_after_views-error") == "Views must be a whole number from 1 to 100."
    # The change typed before the refusal, arriving after it, does not take it away.
    page.wait_for_timeout(1000)
    assert page.inner_text("#expire_after_views-error") == "Views must be a whole number from 1 to 100."
    # Typing after the refusal does.
    page.fill("#expire_after_views", "5")
    page.wait_for_selector("#expire_after_views-error", state="detached")
    assert page.inner_text("#payload-error") == "Enter the secret to share."
    assert not page.locator("#share-link").is_visible()
    screenshot(page, "create-validation")


def test_custom_lifetime_out_of_range_then_in_range(live_server, server_runtime, new_page):
    page = new_page()
    page.goto(live_server.url + "/")
    page.wait_for_selector("#payload")
    page.fill("#payload", "custom-lifetime")
    page.click("#lifetime")
    page.get_by_role("option", name="Custom…").click()
    page.fill("#custom_amount", "200")
    page.click("#custom_unit")
    page.get_by_role("option", name="days").click()
    page.click("#create")
    page.wait_for_selector("#expire_after-error")
    assert page.inner_text("#expire_after-error") == "The lifetime must be from 5 minutes to 90 days."
    page.fill("#custom_amount", "90")
    page.click("#custom_unit")
    page.get_by_role("option", name="minutes").click()
    page.click("#create")
    page.wait_for_function("() => ['share-link', 'share-message'].every(id => document.getElementById(id).value.length > 0)")
    token = page.input_value("#share-link").rsplit("/", 1)[-1]
    assert find_push(server_runtime, token).expire_after_minutes == 90
    assert "or on " in page.input_value("#share-message")
