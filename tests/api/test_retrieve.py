"""Retrieve, preview and expire, in both dialects: views counted, audit rows written, 401/404/429."""

from __future__ import annotations

import pytest

from pwpush_app.core.accounts import issue_api_token

from .conftest import AGENT, PEER, PUSH_FIELDS, create

DIALECTS = {
    "v2": {"create": "/api/v2/pushes", "root": "push", "show": "/api/v2/pushes/{t}",
           "preview": "/api/v2/pushes/{t}/preview", "audit": "/api/v2/pushes/{t}/audit"},
    "legacy": {"create": "/p.json", "root": "password", "show": "/p/{t}.json",
               "preview": "/p/{t}/preview.json", "audit": "/p/{t}/audit.json"},
}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_full_scenario(api, alice, dialect):
    paths = DIALECTS[dialect]
    created = api.post(paths["create"], json={paths["root"]: {"payload": "the secret", "expire_after_views": 2}},
                       headers=alice)
    assert created.status_code == 201
    token = created.json()["url_token"]

    preview = api.get(paths["preview"].format(t=token))
    assert preview.status_code == 200
    assert preview.json() == {"url": f"http://testserver/p/{token}"}

    first = api.get(paths["show"].format(t=token), headers={"Referer": "https://chat.example/room"})
    assert first.status_code == 200
    body = first.json()
    # Anonymous viewer: no name, no note; a push of several views says how often it was opened before (ours).
    assert set(body) == PUSH_FIELDS | {"payload", "files", "opened_before"}
    assert body["payload"] == "the secret" and body["files"] == []
    assert body["views_remaining"] == 1 and body["expired"] is False
    assert first.headers["cache-control"] == "no-store"

    audit = api.get(paths["audit"].format(t=token), headers=alice).json()
    rows = audit["logs" if dialect == "v2" else "views"]  # the same rows in both dialects
    assert [row["kind"] for row in rows] == ["creation", "view"]
    assert rows[1] == {"ip": PEER, "user_agent": AGENT, "referrer": "https://chat.example/room", "kind": "view",
                       "created_at": rows[1]["created_at"], "updated_at": rows[1]["created_at"]}

    last = api.get(paths["show"].format(t=token)).json()
    assert last["payload"] == "the secret"
    # Expired with this view, answered as Password Pusher does: as it was when seen.
    assert last["views_remaining"] == 0 and last["expired"] is False and last["expired_on"] is None

    after = api.get(paths["show"].format(t=token))
    assert after.status_code == 200
    gone = after.json()
    assert gone["expired"] is True and gone["payload"] is None and gone["expired_on"].endswith("Z")
    assert gone["deleted"] is False

    audit = api.get(paths["audit"].format(t=token), headers=alice).json()
    kinds = [row["kind"] for row in audit["logs" if dialect == "v2" else "views"]]
    assert kinds == ["creation", "view", "view", "expire_auto", "failed_view"]


def test_unknown_and_malformed_tokens_are_404_not_found(api):
    for token in ("A" * 22, "short", "has.dots.in.it.and.more", "x" * 300, "%00", "..%2f..%2fetc"):
        for path in (f"/api/v2/pushes/{token}", f"/api/v2/pushes/{token}/preview", f"/p/{token}.json",
                     f"/p/{token}/preview.json"):
            response = api.get(path)
            assert response.status_code == 404, (path, response.text)
            assert response.json() == {"error": "not-found"}
        assert api.delete(f"/api/v2/pushes/{token}").status_code == 404


def test_preview_consumes_nothing(api):
    token = create(api, expire_after_views=1)["url_token"]
    for _ in range(3):
        assert api.get(f"/api/v2/pushes/{token}/preview").status_code == 200
    assert api.get(f"/api/v2/pushes/{token}").json()["payload"] == "s3cret-payload"


def test_passphrase_wrong_is_401_and_consumes_no_view(api):
    token = create(api, passphrase="correct horse", expire_after_views=1)["url_token"]
    missing = api.get(f"/api/v2/pushes/{token}")
    # Password Pusher's words in `error`, ours (what to do) in `message`.
    assert missing.status_code == 401 and missing.json()["error"] == "That passphrase is incorrect."
    assert "protected by a passphrase" in missing.json()["message"]
    wrong = api.get(f"/api/v2/pushes/{token}", params={"passphrase": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "That passphrase is incorrect."
    assert "not correct" in wrong.json()["message"] and "attempts left" in wrong.json()["message"]
    right = api.get(f"/p/{token}.json", params={"passphrase": "correct horse"})
    assert right.status_code == 200 and right.json()["payload"] == "s3cret-payload"


def test_too_many_wrong_passphrases_is_429_with_retry_after(api):
    token = create(api, passphrase="correct horse")["url_token"]
    codes = [api.get(f"/api/v2/pushes/{token}", params={"passphrase": f"guess{i}"}).status_code for i in range(5)]
    assert codes == [401] * 5
    locked = api.get(f"/api/v2/pushes/{token}", params={"passphrase": "correct horse"})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 600
    assert "Too many" in locked.json()["error"]


def test_one_ipv6_64_is_one_client_for_the_lockout(runtime):
    from .conftest import asgi_client

    # The review got 12 x 401 from 12 addresses of one /64; the 6th now meets the pause.
    clients = [asgi_client(runtime, peer=f"2001:db8:aa:bb::{n:x}") for n in range(1, 13)]
    neighbour = asgi_client(runtime, peer="2001:db8:aa:bc::1")
    try:
        token = create(clients[0], passphrase="pw")["url_token"]
        codes = [c.get(f"/api/v2/pushes/{token}", params={"passphrase": f"x{n}"}).status_code
                 for n, c in enumerate(clients)]
        assert codes == [401] * 5 + [429] * 7
        assert neighbour.get(f"/api/v2/pushes/{token}", params={"passphrase": "pw"}).status_code == 200
    finally:
        for client in [*clients, neighbour]:
            client.close()


def test_wrong_passphrases_from_many_addresses_lock_the_push_for_everyone(make_api):
    from .conftest import asgi_client

    api, runtime = make_api(PWPUSH_PASSPHRASE_PUSH_MAX_FAILURES="4")
    _, owner_token = issue_api_token(runtime, "owner@example.com")
    owner = {"Authorization": f"Bearer {owner_token}"}
    token = create(api, headers=owner, passphrase="pw")["url_token"]
    guessers = [asgi_client(runtime, peer=f"198.51.100.{n}") for n in range(5)]
    try:
        codes = [g.get(f"/api/v2/pushes/{token}", params={"passphrase": "nope"}).status_code for g in guessers]
        assert codes == [401] * 4 + [429]
        locked = api.get(f"/api/v2/pushes/{token}", params={"passphrase": "pw"})
        assert locked.status_code == 429 and locked.json()["error"].startswith("Too many passphrase attempts.")
        assert "locked after too many wrong passphrases" in locked.json()["message"]
        assert int(locked.headers["retry-after"]) > 3000
    finally:
        for guesser in guessers:
            guesser.close()
    kinds = [row["kind"] for row in api.get(f"/api/v2/pushes/{token}/audit", headers=owner).json()["logs"]]
    assert kinds.count("failed_passphrase") == 4 and kinds.count("passphrase_lock") == 1


def test_lockout_is_per_client_ip(runtime):
    from .conftest import asgi_client

    attacker, other = asgi_client(runtime, peer="198.51.100.1"), asgi_client(runtime, peer="198.51.100.2")
    try:
        token = create(attacker, passphrase="pw")["url_token"]
        for i in range(5):
            attacker.get(f"/api/v2/pushes/{token}", params={"passphrase": f"x{i}"})
        assert attacker.get(f"/api/v2/pushes/{token}", params={"passphrase": "pw"}).status_code == 429
        assert other.get(f"/api/v2/pushes/{token}", params={"passphrase": "pw"}).status_code == 200
    finally:
        attacker.close()
        other.close()


def test_passphrase_on_a_push_without_one_is_422(api):
    token = create(api, expire_after_views=1)["url_token"]
    response = api.get(f"/api/v2/pushes/{token}", params={"passphrase": "guess"})
    assert response.status_code == 422 and "passphrase" in response.json()
    assert api.get(f"/api/v2/pushes/{token}").json()["payload"] == "s3cret-payload"


def test_expired_push_with_passphrase_shows_expired_without_asking(api):
    token = create(api, passphrase="pw", expire_after_views=1)["url_token"]
    assert api.get(f"/api/v2/pushes/{token}", params={"passphrase": "pw"}).status_code == 200
    gone = api.get(f"/api/v2/pushes/{token}")
    assert gone.status_code == 200 and gone.json()["expired"] is True and gone.json()["payload"] is None


def test_time_expiry_is_noticed_on_show(api, runtime):
    from datetime import timedelta

    from sqlmodel import select

    from pwpush_app.core.clock import utcnow
    from pwpush_app.core.db import transaction
    from pwpush_app.core.models import Push

    token = create(api, expire_after_minutes=5)["url_token"]
    with transaction(runtime.engine) as db:  # the clock moves on: make the push overdue
        push = db.exec(select(Push)).one()
        push.expires_at = utcnow() - timedelta(seconds=1)
        db.add(push)
    gone = api.get(f"/api/v2/pushes/{token}").json()
    assert gone["expired"] is True and gone["payload"] is None and gone["days_remaining"] == 0


@pytest.mark.parametrize("path", ["/api/v2/pushes/{t}", "/p/{t}.json"])
def test_viewer_may_delete_when_allowed(api, path):
    token = create(api, deletable_by_viewer=True)["url_token"]
    response = api.delete(path.format(t=token))
    assert response.status_code == 200
    body = response.json()
    assert body["expired"] is True and body["deleted"] is True and "payload" not in body
    assert api.get(path.format(t=token)).json()["payload"] is None
    again = api.delete(path.format(t=token))
    assert again.status_code == 422 and "already expired" in again.json()["error"]


@pytest.mark.parametrize("path", ["/api/v2/pushes/{t}", "/p/{t}.json"])
def test_a_viewer_deletes_a_passphrase_push_only_with_the_passphrase(api, bob, path):
    # Outside review, finding 2: a DELETE by anyone with the link took it without one.
    token = create(api, passphrase="correct horse", deletable_by_viewer=True, expire_after_views=2)["url_token"]
    url = path.format(t=token)
    for headers, params in (({}, {}), (bob, {}), ({}, {"passphrase": "wrong guess"})):
        refused = api.delete(url, headers=headers, params=params)
        assert refused.status_code == 401 and "passphrase" in refused.json()["error"]
    deleted = api.delete(url, params={"passphrase": "correct horse"})
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True


def test_deleting_with_wrong_passphrases_shares_the_reveals_limit(api):
    token = create(api, passphrase="correct horse", deletable_by_viewer=True)["url_token"]
    for i in range(3):
        assert api.delete(f"/api/v2/pushes/{token}", params={"passphrase": f"g{i}"}).status_code == 401
    for i in range(2):
        assert api.get(f"/api/v2/pushes/{token}", params={"passphrase": f"h{i}"}).status_code == 401
    locked = api.delete(f"/api/v2/pushes/{token}", params={"passphrase": "correct horse"})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    locked = api.get(f"/api/v2/pushes/{token}", params={"passphrase": "correct horse"})
    assert locked.status_code == 429


def test_viewer_may_not_delete_when_not_allowed(api, bob):
    token = create(api, deletable_by_viewer=False)["url_token"]
    for headers in ({}, bob):
        response = api.delete(f"/api/v2/pushes/{token}", headers=headers)
        assert response.status_code == 401  # as Password Pusher answers it
        assert "did not allow" in response.json()["error"]
    assert api.get(f"/api/v2/pushes/{token}").json()["payload"] == "s3cret-payload"


def test_owner_may_delete_even_when_viewers_may_not(api, alice):
    token = create(api, headers=alice, deletable_by_viewer=False)["url_token"]
    response = api.delete(f"/api/v2/pushes/{token}", headers=alice)
    assert response.status_code == 200 and response.json()["deleted"] is True
    assert "note" not in response.json()  # as Password Pusher: name and note in creates and lists only
    audit = api.get(f"/api/v2/pushes/{token}/audit", headers=alice).json()["logs"]
    assert [row["kind"] for row in audit][:2] == ["creation", "expire"]


def test_the_owners_own_look_takes_no_view_and_shows_no_name_or_note(api, alice, bob):
    token = create(api, headers=alice, name="label", note="ticket 7", expire_after_views=1)["url_token"]
    for _ in range(2):
        as_owner = api.get(f"/api/v2/pushes/{token}", headers=alice).json()
        assert as_owner["payload"] == "s3cret-payload" and as_owner["views_remaining"] == 1
        assert "note" not in as_owner and "name" not in as_owner  # as Password Pusher's show
    other = api.get(f"/api/v2/pushes/{token}", headers=bob).json()
    assert other["payload"] == "s3cret-payload" and other["views_remaining"] == 0
    assert "note" not in other and "name" not in other
    kinds = [row["kind"] for row in api.get(f"/api/v2/pushes/{token}/audit", headers=alice).json()["logs"]]
    assert kinds == ["creation", "owner_view", "owner_view", "view", "expire_auto"]


def test_forwarded_for_is_honoured_only_with_trusted_hops(make_api):
    api, runtime = make_api(PWP__TRUSTED_PROXIES="1")
    _, token_text = issue_api_token(runtime, "o@example.com")
    owner = {"Authorization": f"Bearer {token_text}"}
    token = create(api, headers=owner)["url_token"]
    api.get(f"/api/v2/pushes/{token}", headers={"X-Forwarded-For": "192.0.2.99"})
    logs = api.get(f"/api/v2/pushes/{token}/audit", headers=owner).json()["logs"]
    assert [row["ip"] for row in logs if row["kind"] == "view"] == ["192.0.2.99"]


def test_forged_forwarded_for_is_ignored_by_default(api, alice):
    token = create(api, headers=alice)["url_token"]
    api.get(f"/api/v2/pushes/{token}", headers={"X-Forwarded-For": "192.0.2.99"})
    logs = api.get(f"/api/v2/pushes/{token}/audit", headers=alice).json()["logs"]
    assert [row["ip"] for row in logs if row["kind"] == "view"] == [PEER]


def test_anonymous_off_refuses_anonymous_show_and_preview(make_api):
    api, runtime = make_api(PWP__ALLOW_ANONYMOUS="false")
    _, token_text = issue_api_token(runtime, "o@example.com")
    owner = {"Authorization": f"Bearer {token_text}"}
    token = create(api, headers=owner)["url_token"]
    assert api.get(f"/api/v2/pushes/{token}").status_code == 401
    assert api.get(f"/api/v2/pushes/{token}/preview").status_code == 401
    assert api.get(f"/api/v2/pushes/{token}", headers=owner).status_code == 200


def test_when_hashing_is_saturated_passphrase_checks_get_503_and_plain_reveals_still_work(api, runtime):
    from pwpush_app.core.hashing import SlowHashes
    from tests.core.test_hashing import Held

    guarded = create(api, passphrase="right one")["url_token"]
    plain = create(api)["url_token"]
    runtime.hashing = SlowHashes(slots=1, waiters_per_slot=0)
    held = Held(runtime.hashing, 1)
    held.wait_running(1)
    try:
        busy = api.get(f"/api/v2/pushes/{guarded}", params={"passphrase": "right one"})
        assert busy.status_code == 503 and int(busy.headers["retry-after"]) > 0
        assert "busy" in busy.json()["error"] and "nothing was changed" in busy.json()["error"]
        assert api.get(f"/api/v2/pushes/{plain}").json()["payload"] == "s3cret-payload"
    finally:
        held.done()
    shown = api.get(f"/api/v2/pushes/{guarded}", params={"passphrase": "right one"}).json()
    assert shown["payload"] == "s3cret-payload" and shown["views_remaining"] == shown["expire_after_views"] - 1


def test_a_made_up_api_token_costs_no_write(api, runtime):
    from tests.core.test_accounts import _writes_during

    def call():
        answer = api.get("/api/v2/pushes/active", headers={"Authorization": "Bearer made-up-token-0123456789"})
        assert answer.status_code == 401

    # Every Bearer header took SQLite's write lock and a sync to disk before the lookup.
    assert _writes_during(runtime, call) == 0
