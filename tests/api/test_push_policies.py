"""Issue 21's sender policies through the JSON API: on the production server over real HTTP
(`live_server`, reached from loopback, no trusted proxy), and in-process where a test needs
clients at other addresses (ASGI's peer address) or trusted proxy hops."""

from __future__ import annotations

import httpx
import pytest

from .conftest import asgi_client, create
from .test_live import issue_token

LOOPBACK = "127.0.0.1 ::1"
ELSEWHERE = "203.0.113.0/24 2001:db8::/32"
PASSPHRASE = "correct horse"


@pytest.fixture(scope="module")
def owner(live_server):
    return {"Authorization": f"Bearer {issue_token(live_server, 'policies@example.com')}"}


def _create(base: str, headers: dict | None = None, **fields) -> httpx.Response:
    fields.setdefault("payload", "policy secret")
    return httpx.post(f"{base}/api/v2/pushes", json={"push": fields}, headers=headers or {})


def test_the_owner_sees_the_list_and_the_recipient_never_does(live_server, owner):
    base = live_server.url
    created = _create(base, owner, allowed_ips=["127.0.0.1", "::1"], passphrase=PASSPHRASE,
                      burn_after_failed_passphrases=3, expire_after_views=2)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["allowed_ips"] == ["127.0.0.1", "::1"] and body["burn_after_failed_passphrases"] == 3
    token = body["url_token"]
    listed = httpx.get(f"{base}/api/v2/pushes/active", headers=owner).json()
    assert [p["allowed_ips"] for p in listed if p["url_token"] == token] == [["127.0.0.1", "::1"]]

    shown = httpx.get(f"{base}/api/v2/pushes/{token}", params={"passphrase": PASSPHRASE})
    assert shown.status_code == 200 and shown.json()["payload"] == "policy secret"
    assert "allowed_ips" not in shown.json() and "burn_after_failed_passphrases" not in shown.json()


def test_outside_the_list_the_answer_is_exactly_an_unknown_tokens(live_server, owner):
    base = live_server.url
    token = _create(base, owner, allowed_ips=ELSEWHERE, expire_after_views=3).json()["url_token"]
    unknown = "A" * 22

    for path in ("/api/v2/pushes/{}", "/p/{}.json", "/api/v2/pushes/{}/preview", "/p/{}/preview.json"):
        refused = httpx.get(base + path.format(token))
        never_was = httpx.get(base + path.format(unknown))
        assert (refused.status_code, refused.json()) == (never_was.status_code, never_was.json()) == (404, {"error": "not-found"}), path
        assert refused.headers["content-type"] == never_was.headers["content-type"]
    # A recipient's delete too (an unknown token's answer, not "already expired").
    deleted = httpx.delete(f"{base}/api/v2/pushes/{token}")
    assert (deleted.status_code, deleted.json()) == (404, {"error": "not-found"})

    # Naming an allowed address in X-Forwarded-For changes nothing: no proxy is trusted here.
    for header in ("203.0.113.9", "203.0.113.9, 203.0.113.10", "2001:db8::5"):
        spoofed = httpx.get(f"{base}/api/v2/pushes/{token}", headers={"X-Forwarded-For": header, "X-Real-IP": header})
        assert spoofed.status_code == 404

    trail = httpx.get(f"{base}/api/v2/pushes/{token}/audit", headers=owner).json()["logs"]
    refusals = [row for row in trail if row["kind"] == "refused_address"]
    assert len(refusals) == 6  # 2 reveals, the delete, 3 spoofed (previews read only)
    assert {row["ip"] for row in refusals} <= {"127.0.0.1", "::1"}
    assert httpx.get(f"{base}/api/v2/pushes/{token}", headers=owner).status_code == 404  # the owner too, by the link
    still = [p for p in httpx.get(f"{base}/api/v2/pushes/active", headers=owner).json() if p["url_token"] == token]
    assert still and still[0]["views_remaining"] == 3


@pytest.mark.parametrize("fields, field, words", [
    ({"allowed_ips": "203.0.113.5/24"}, "allowed_ips", "write 203.0.113.0/24 for the network"),
    ({"allowed_ips": ["10.0.0.1", "intranet"]}, "allowed_ips", "is not an IPv4 or IPv6 address"),
    ({"allowed_ips": [f"10.0.0.{n}" for n in range(25)]}, "allowed_ips", "At most 20"),
    ({"allowed_ips": {"a": 1}}, "allowed_ips", "must be text or a list of texts"),
    ({"allowed_ips": 7}, "allowed_ips", "must be text or a list of texts"),
    ({"burn_after_failed_passphrases": 3}, "burn_after_failed_passphrases", "needs a passphrase"),
    ({"burn_after_failed_passphrases": 11, "passphrase": "p"}, "burn_after_failed_passphrases", "from 1 to 10"),
    ({"burn_after_failed_passphrases": "many", "passphrase": "p"}, "burn_after_failed_passphrases", "a whole number"),
])
def test_bad_policies_are_422_with_the_field_and_what_to_do(live_server, fields, field, words):
    refused = _create(live_server.url, **fields)
    assert refused.status_code == 422, refused.text
    messages = refused.json()[field]
    assert any(words in message for message in (messages if isinstance(messages, list) else [messages]))


def test_policies_cannot_change_in_an_edit(live_server, owner):
    base = live_server.url
    token = _create(base, owner, allowed_ips=LOOPBACK).json()["url_token"]
    for fields in ({"allowed_ips": ""}, {"burn_after_failed_passphrases": 2}):
        edited = httpx.patch(f"{base}/api/v2/pushes/{token}", json={"push": fields}, headers=owner)
        assert edited.status_code == 422 and "cannot change after creation" in edited.text


def test_the_nth_wrong_passphrase_burns_the_push(live_server, owner):
    base = live_server.url
    token = _create(base, owner, passphrase=PASSPHRASE, burn_after_failed_passphrases=2, name="burn over http",
                    expire_after_views=5).json()["url_token"]
    first = httpx.get(f"{base}/api/v2/pushes/{token}", params={"passphrase": "nope"})
    assert first.status_code == 401 and "One more wrong passphrase deletes the secret" in first.json()["message"]
    second = httpx.get(f"{base}/api/v2/pushes/{token}", params={"passphrase": "nope again"})
    assert second.status_code == 401 and "the secret is now deleted" in second.json()["message"]

    gone = httpx.get(f"{base}/api/v2/pushes/{token}", params={"passphrase": PASSPHRASE}).json()
    assert gone["expired"] is True and gone["payload"] is None
    # (An expired push's link is deleted with it: found by its name.)
    mine = [p for p in httpx.get(f"{base}/api/v2/pushes/expired", headers=owner).json() if p["name"] == "burn over http"]
    assert mine[0]["expired"] is True and mine[0]["burn_after_failed_passphrases"] == 2
    kinds = [row["kind"] for row in httpx.get(f"{base}/api/v2/pushes/{token}/audit", headers=owner).json()["logs"]]
    assert kinds[-4:] == ["failed_passphrase", "passphrase_burn", "expire_auto", "failed_view"]


def test_each_viewer_sees_how_often_and_when_it_was_opened_before(live_server):
    base = live_server.url
    token = _create(base, expire_after_views=3).json()["url_token"]
    first = httpx.get(f"{base}/api/v2/pushes/{token}").json()
    assert first["opened_before"] == {"count": 0, "first_at": None, "last_at": None}
    second = httpx.get(f"{base}/p/{token}.json").json()  # the legacy route too
    assert second["opened_before"]["count"] == 1
    assert second["opened_before"]["first_at"] == second["opened_before"]["last_at"] is not None
    third = httpx.get(f"{base}/api/v2/pushes/{token}").json()
    assert third["opened_before"]["count"] == 2 and third["opened_before"]["last_at"] >= third["opened_before"]["first_at"]
    single = _create(base, expire_after_views=1).json()["url_token"]
    assert "opened_before" not in httpx.get(f"{base}/api/v2/pushes/{single}").json()


# --- in-process: other peer addresses, trusted proxies, file downloads ------------------------------

def test_behind_a_trusted_proxy_the_forwarded_address_decides(make_runtime):
    runtime = make_runtime(PWP__TRUSTED_PROXIES="1")
    api = asgi_client(runtime, peer="10.0.0.5")  # the proxy
    try:
        token = create(api, allowed_ips=ELSEWHERE, expire_after_views=3)["url_token"]
        assert api.get(f"/api/v2/pushes/{token}", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 404
        shown = api.get(f"/api/v2/pushes/{token}", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.8"})
        assert shown.status_code == 200 and shown.json()["payload"] == "s3cret-payload"
    finally:
        api.close()


def test_file_downloads_from_outside_are_an_unknown_download(make_runtime):
    runtime = make_runtime(PWP__FILES__REQUIRE_LOGIN="false")
    inside, outside = asgi_client(runtime, peer="203.0.113.8"), asgi_client(runtime, peer="198.51.100.1")
    try:
        created = inside.post("/api/v2/pushes", files={"push[files][]": ("a.txt", b"alpha", "text/plain")},
                              data={"push[allowed_ips]": ELSEWHERE, "push[expire_after_views]": "2"})
        assert created.status_code == 201, created.text
        token = created.json()["url_token"]
        [entry] = inside.get(f"/api/v2/pushes/{token}").json()["files"]
        path = entry["url"].split("://", 1)[1].split("/", 1)[1]
        unknown = "/d/" + "B" * 22 + "/0"
        for url in (f"/{path}", f"/{path.rsplit('/', 1)[0]}/all.zip"):
            refused, never_was = outside.get(url), outside.get(unknown)
            assert (refused.status_code, refused.json()) == (never_was.status_code, never_was.json()), url
            assert refused.status_code == 404
        assert inside.get(f"/{path}").content == b"alpha"
    finally:
        inside.close()
        outside.close()
