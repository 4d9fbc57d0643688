"""Webhooks against a real HTTP receiver on loopback that checks every signature: which
endpoints are allowed, what is signed and sent (never the secret or the link), retries with
back-off, the delivery log, a new secret, removal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from pwpush_app.core import notices, webhooks
from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import WrongPassphrase
from pwpush_app.core.owners import expire_by_owner
from pwpush_app.core.records import find_push
from pwpush_app.core.reveal import reveal_push
from pwpush_app.core.webhooks import WebhookError, check_url
from tests.mail_servers import LOCAL_RECEIVERS

PAYLOAD = "Payload-canary-0d9e2f"
NOTE = "Note-canary-77aa10"
VIEWER = Client(ip="203.0.113.5", user_agent="Viewer/2.0")


@pytest.fixture
def runtime(make_runtime):
    return make_runtime(PWPUSH_MAIL_RETRY_SECONDS="10", **LOCAL_RECEIVERS)


@pytest.fixture
def owner(runtime):
    user, _token = issue_api_token(runtime, "owner@example.com")
    return Client(ip="192.0.2.10", user_id=user.id)


def deliver(runtime, at=None) -> int:
    while notices.hand_out_events(runtime):
        pass
    return webhooks.deliver_due(runtime, "w", clock=(lambda: at) if at else utcnow)


@pytest.mark.parametrize("url, message", [
    ("http://hooks.example.com/x", "only to this machine"),
    ("ftp://hooks.example.com/x", "https://"),
    ("https://user:pw@hooks.example.com/x", "user name and password"),
    ("javascript:alert(1)", "https://"),
    ("https://hooks.example.com/x#frag", "fragment"),
    ("https://hooks.example.com/" + "a" * 2100, "at most"),
    ("", "Enter the address"),
])
def test_only_https_endpoints_or_plain_http_to_this_machine(url, message):
    with pytest.raises(WebhookError) as refused:
        check_url(url)
    assert message in str(refused.value)


@pytest.mark.parametrize("url", ["https://hooks.example.com/pwpush?key=1"])
def test_allowed_endpoints(url):
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["http://localhost:8080/hook", "http://127.0.0.1:9/h", "http://[::1]:8080/h"])
def test_plain_http_to_this_machine_where_the_operator_allows_it(url):
    assert check_url(url, allow_private=True) == url


def test_events_arrive_signed_and_carry_no_secret_and_no_link(runtime, owner, receiver):
    endpoint, secret = webhooks.add_webhook(runtime, owner.user_id, receiver.url + "?token=Receiver-token-canary")
    receiver.secret = secret
    assert secret.startswith("whsec_") and endpoint.display == f"http://127.0.0.1:{receiver.port}/…"
    created = create_push(runtime, NewPush(payload=PAYLOAD, note=NOTE, passphrase="pass phrase", name="Deploy key",
                                           expire_after_views=2), owner)
    with pytest.raises(WrongPassphrase):
        reveal_push(runtime, created.url_token, VIEWER, passphrase="nope")
    reveal_push(runtime, created.url_token, VIEWER, passphrase="pass phrase")
    expire_by_owner(runtime, find_push(runtime, created.url_token), owner)

    assert deliver(runtime) == 3
    calls = receiver.wait_for(3)
    assert all(call.signature_ok for call in calls)
    assert [c.json["event"] for c in calls] == [c.headers["x-pwpush-event"] for c in calls]
    assert sorted(c.json["event"] for c in calls) == ["push.deleted", "push.failed_passphrase", "push.viewed"]
    assert all(c.path == "/hooks/pwpush?token=Receiver-token-canary" for c in calls)
    viewed = next(c.json for c in calls if c.json["event"] == "push.viewed")
    assert viewed["push"]["name"] == "Deploy key" and viewed["push"]["views_remaining"] == 1
    assert viewed["actor"] == {"ip": "203.0.113.5", "user_agent": "Viewer/2.0", "is_owner": False}
    deleted = next(c.json for c in calls if c.json["event"] == "push.deleted")
    assert deleted["actor"]["is_owner"] is True and deleted["push"]["expired"] is True
    for call in calls:
        assert call.headers["x-pwpush-delivery"] == call.json["id"]
        for secret_text in (PAYLOAD, NOTE, "pass phrase", created.url_token, created.manage_token, secret):
            assert secret_text not in call.body.decode()
    # At rest: the signing secret and the endpoint's URL (with its token) are sealed.
    with runtime.engine.connect() as connection:
        stored = repr([tuple(r) for r in connection.execute(text("SELECT * FROM webhook"))])
    assert secret not in stored and "Receiver-token-canary" not in stored


def test_a_round_calls_at_most_its_limit_and_the_rest_go_next_round(runtime, owner, receiver, monkeypatch):
    endpoint, receiver.secret = webhooks.add_webhook(runtime, owner.user_id, receiver.url)
    for _ in range(3):
        webhooks.send_test_event(runtime, owner.user_id, endpoint.id)
    monkeypatch.setattr(webhooks, "ROUND_LIMIT", 2)
    assert deliver(runtime) == 2
    assert deliver(runtime) == 1
    assert deliver(runtime) == 0  # nothing due: no call
    assert len(receiver.wait_for(3)) == 3
    assert [log.status for log in webhooks.deliveries_of(runtime, owner.user_id)] == ["delivered"] * 3


def test_an_idle_round_makes_no_http_client(runtime, owner, receiver, monkeypatch):
    """Rounds run every few seconds in every worker; most find nothing due. Such a round must
    not build a TLS context (it loads the CA store: ~10 ms each time)."""
    import httpx

    built = []
    real_context = httpx.create_ssl_context
    monkeypatch.setattr(httpx, "create_ssl_context", lambda *args, **kwargs: built.append(1) or real_context(*args, **kwargs))
    endpoint, receiver.secret = webhooks.add_webhook(runtime, owner.user_id, receiver.url)
    assert deliver(runtime) == 0 and built == []  # an endpoint, nothing due
    webhooks.send_test_event(runtime, owner.user_id, endpoint.id)
    assert deliver(runtime) == 1 and built == [1]  # the context is the one counted
    assert deliver(runtime) == 0 and built == [1]


def test_a_failing_endpoint_is_retried_with_back_off_and_the_log_says_so(runtime, owner, receiver):
    _endpoint, receiver.secret = webhooks.add_webhook(runtime, owner.user_id, receiver.url)
    receiver.statuses = [500, 503]
    webhooks.send_test_event(runtime, owner.user_id, _endpoint.id)
    start = utcnow()
    assert deliver(runtime, at=start) == 1
    [log] = webhooks.deliveries_of(runtime, owner.user_id)
    assert (log.status, log.attempts, log.response_status) == ("pending", 1, 500)
    assert log.last_error == "HTTP 500 Internal Server Error"
    assert deliver(runtime, at=start + timedelta(seconds=9)) == 0  # not yet: 10 s
    assert deliver(runtime, at=start + timedelta(seconds=11)) == 1
    assert webhooks.deliveries_of(runtime, owner.user_id)[0].response_status == 503
    assert deliver(runtime, at=start + timedelta(seconds=25)) == 0  # then 20 s
    assert deliver(runtime, at=start + timedelta(seconds=32)) == 1
    [log] = webhooks.deliveries_of(runtime, owner.user_id)
    assert (log.status, log.attempts, log.response_status) == ("delivered", 3, 200)
    calls = receiver.wait_for(3)
    assert len({c.headers["x-pwpush-delivery"] for c in calls}) == 1  # one event, three attempts
    assert calls[0].json["event"] == "ping"


def test_an_endpoint_that_never_works_is_given_up(make_runtime, receiver):
    runtime = make_runtime(PWPUSH_WEBHOOK_MAX_ATTEMPTS="2", PWPUSH_MAIL_RETRY_SECONDS="1", **LOCAL_RECEIVERS)
    user, _token = issue_api_token(runtime, "owner@example.com")
    endpoint, receiver.secret = webhooks.add_webhook(runtime, user.id, receiver.url)
    receiver.statuses = [500] * 5
    webhooks.send_test_event(runtime, user.id, endpoint.id)
    start = utcnow()
    deliver(runtime, at=start)
    deliver(runtime, at=start + timedelta(minutes=1))
    assert deliver(runtime, at=start + timedelta(hours=1)) == 0
    [log] = webhooks.deliveries_of(runtime, user.id)
    assert (log.status, log.attempts) == ("failed", 2)


def test_redirects_are_not_followed(runtime, owner, receiver):
    endpoint, receiver.secret = webhooks.add_webhook(runtime, owner.user_id, receiver.url)
    receiver.statuses = [302]
    webhooks.send_test_event(runtime, owner.user_id, endpoint.id)
    deliver(runtime)
    assert "redirects are not followed" in webhooks.deliveries_of(runtime, owner.user_id)[0].last_error


def test_a_new_secret_signs_from_then_on_and_a_removed_endpoint_hears_nothing(runtime, owner, receiver):
    endpoint, old_secret = webhooks.add_webhook(runtime, owner.user_id, receiver.url)
    new_secret = webhooks.replace_secret(runtime, owner.user_id, endpoint.id)
    assert new_secret != old_secret
    receiver.secret = old_secret
    webhooks.send_test_event(runtime, owner.user_id, endpoint.id)
    deliver(runtime)
    assert receiver.wait_for(1)[0].signature_ok is False  # signed with the new secret
    receiver.secret = new_secret
    webhooks.remove_webhook(runtime, owner.user_id, endpoint.id)
    created = create_push(runtime, NewPush(payload=PAYLOAD), owner)
    reveal_push(runtime, created.url_token, VIEWER)
    assert deliver(runtime) == 0
    assert webhooks.webhooks_of(runtime, owner.user_id) == [] and webhooks.deliveries_of(runtime, owner.user_id) == []


def test_accounts_touch_only_their_own_endpoints_and_have_at_most_five(runtime, owner, receiver):
    endpoint, _secret = webhooks.add_webhook(runtime, owner.user_id, receiver.url)
    other, _token = issue_api_token(runtime, "other@example.com")
    for action in (webhooks.replace_secret, webhooks.remove_webhook, webhooks.send_test_event):
        with pytest.raises(WebhookError):
            action(runtime, other.id, endpoint.id)
    for _ in range(webhooks.MAX_WEBHOOKS - 1):
        webhooks.add_webhook(runtime, owner.user_id, receiver.url)
    with pytest.raises(WebhookError) as full:
        webhooks.add_webhook(runtime, owner.user_id, receiver.url)
    assert "at most 5" in str(full.value)


def test_webhooks_can_be_turned_off_for_the_site(make_runtime, receiver):
    runtime = make_runtime(PWPUSH_ENABLE_WEBHOOKS="false")
    user, _token = issue_api_token(runtime, "owner@example.com")
    with pytest.raises(WebhookError) as off:
        webhooks.add_webhook(runtime, user.id, receiver.url)
    assert "PWPUSH_ENABLE_WEBHOOKS" in str(off.value)
