"""The requests API (api/requests_api.py): create, list and fetch one's requests with an API
token; read and answer a request with its link's token alone; one answer; refusals read
like unknown links.  In-process on both engines, and once over real HTTP."""

from __future__ import annotations

import httpx

from tests.api.test_live import issue_token


def ask(api, headers, **fields):
    return api.post("/api/v2/requests", json={"request": {"message": "Send me the VPN password", **fields}},
                    headers=headers)


def test_a_request_is_answered_once_and_only_its_requester_sees_the_answer(api, alice, bob):
    created = ask(api, alice, expire_after_minutes=60, answer_views=2, answer_minutes=90)
    assert created.status_code == 201, created.text
    made = created.json()
    assert made["state"] == "open" and made["url"] == f"http://testserver/ask/{made['url_token']}"
    assert (made["answer_views"], made["answer_minutes"], made["answer"]) == (2, 90, None)
    token = made["url_token"]

    shown = api.get(f"/api/v2/ask/{token}")
    assert shown.status_code == 200 and shown.json()["message"] == "Send me the VPN password"
    answered = api.post(f"/api/v2/ask/{token}", json={"answer": {"payload": "vpn-Secret-9"}})
    assert answered.status_code == 201 and answered.json()["answered"] is True
    assert "vpn-Secret-9" not in answered.text
    for again in (api.post(f"/api/v2/ask/{token}", json={"answer": {"payload": "second"}}), api.get(f"/api/v2/ask/{token}")):
        assert again.status_code == 404 and again.json() == {"error": "not-found"}

    [listed] = api.get("/api/v2/requests", headers=alice).json()
    assert listed["state"] == "answered" and listed["url"] is None and listed["answer"]["expired"] is False
    one = api.get(f"/api/v2/requests/{made['id']}", headers=alice).json()
    assert one == listed
    revealed = api.get(f"/api/v2/pushes/{listed['answer']['url_token']}", headers=alice).json()
    assert revealed["payload"] == "vpn-Secret-9" and revealed["views_remaining"] == 2  # the owner's own look takes no view

    # Bob sees neither the request nor its answer; the API needs a token for the requester's side.
    assert api.get("/api/v2/requests", headers=bob).json() == []
    assert api.get(f"/api/v2/requests/{made['id']}", headers=bob).status_code == 404
    assert api.get(f"/api/v2/pushes/{listed['answer']['url_token']}/audit", headers=bob).status_code in (403, 404)
    for call in (api.get("/api/v2/requests"), api.post("/api/v2/requests", json={"request": {"message": "x"}}),
                 api.get(f"/api/v2/requests/{made['id']}")):
        assert call.status_code == 401


def test_bad_requests_and_answers_are_422_and_change_nothing(api, alice):
    refused = api.post("/api/v2/requests", json={"request": {"message": "", "answer_views": "many"}}, headers=alice)
    assert refused.status_code == 422 and "answer_views" in refused.json()
    refused = ask(api, alice, expire_after_minutes=0)
    assert refused.status_code == 422 and "lifetime" in refused.json()["expire_after_minutes"][0]
    assert api.get("/api/v2/requests", headers=alice).json() == []
    token = ask(api, alice).json()["url_token"]
    empty = api.post(f"/api/v2/ask/{token}", json={"answer": {"payload": " "}})
    assert empty.status_code == 422 and empty.json()["payload"] == ["Enter the secret to share."]
    assert api.post(f"/api/v2/ask/{token}", json={"answer": {"payload": 5}}).status_code == 422
    assert api.post(f"/api/v2/ask/{token}", content=b"<xml/>", headers={"Content-Type": "text/xml"}).status_code == 415
    assert api.get(f"/api/v2/ask/{token}").status_code == 200  # still open
    assert api.post("/api/v2/ask/AAAAAAAAAAAAAAAAAAAAAA", json={"answer": {"payload": "s"}}).status_code == 404


def test_answers_are_rate_limited_like_creates(make_api):
    api, runtime = make_api(PWP__THROTTLING__MINUTE="3")
    from pwpush_app.core.accounts import issue_api_token
    _user, token = issue_api_token(runtime, "limits@example.com")
    made = api.post("/api/v2/requests", json={"request": {"message": "m"}},
                    headers={"Authorization": f"Bearer {token}"}).json()
    statuses = [api.post(f"/api/v2/ask/{made['url_token']}", json={"answer": {"payload": ""}}).status_code
                for _ in range(4)]
    assert statuses[-1] == 429 and 422 in statuses


def test_requests_over_real_http(live_server):
    base = live_server.url
    owner = {"Authorization": f"Bearer {issue_token(live_server, 'requests-live@example.com')}"}
    made = httpx.post(f"{base}/api/v2/requests", json={"request": {"message": "Live request"}}, headers=owner).json()
    assert made["url"] == f"{base}/ask/{made['url_token']}"
    assert httpx.get(f"{base}/api/v2/ask/{made['url_token']}").json()["message"] == "Live request"
    assert httpx.post(f"{base}/api/v2/ask/{made['url_token']}", json={"answer": {"payload": "live answer"}}).status_code == 201
    assert httpx.post(f"{base}/api/v2/ask/{made['url_token']}", json={"answer": {"payload": "x"}}).status_code == 404
    one = httpx.get(f"{base}/api/v2/requests/{made['id']}", headers=owner).json()
    assert one["state"] == "answered"
    assert httpx.get(f"{base}/api/v2/pushes/{one['answer']['url_token']}", headers=owner).json()["payload"] == "live answer"
    # The server's log names the request link's path with the token masked, never the answer.
    log = live_server.log_path.read_text()
    assert made["url_token"] not in log and one["answer"]["url_token"] not in log and "live answer" not in log
