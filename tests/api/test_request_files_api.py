"""Answering a request with files through the API (POST /api/v2/ask/{token} as multipart),
and the requester's mail opt-out (notify_by_email): no API token for the answerer even where
file pushes need one, the file push limits, one answer, and every refusal a clear 4xx that
leaves no blob, no push and the request still open.  In-process, and once over real HTTP."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.api.test_files import path_of, raw_multipart, rows, stored_blobs
from tests.api.test_live import issue_token


@pytest.fixture
def fuzz_request(api, alice, runtime):
    """[api, runtime, an open request's token, the requester's headers] (the token renewed when answered)."""
    return [api, runtime, ask(api, alice)["url_token"], alice]


def ask(api, headers, **fields):
    made = api.post("/api/v2/requests", json={"request": {"message": "Send me the key file", **fields}},
                    headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


def answer(api, token, files, **fields):
    parts = [(f"answer[{k}]", (None, v)) for k, v in fields.items()] + [("answer[files][]", f) for f in files]
    return api.post(f"/api/v2/ask/{token}", files=parts)


def still_open(api, runtime, token, before):
    assert api.get(f"/api/v2/ask/{token}").status_code == 200
    assert rows(runtime) == before and stored_blobs(runtime) == []


def test_files_answer_a_request_without_a_token_and_only_the_requester_gets_them(api, alice, bob, runtime):
    made = ask(api, alice, answer_views=2)
    key, notes = os.urandom(300 * 1024), "naïve café 🔑\n".encode() * 50
    sent = answer(api, made["url_token"], [("id_ed25519", key, "application/octet-stream"),
                                          ("notes.txt", notes, "text/plain")], payload="the key and its notes")
    assert sent.status_code == 201, sent.text
    assert sent.json()["answered"] is True and "the key" not in sent.text and "id_ed25519" not in sent.text
    # One answer: again with files, or with text, is a 404 like an unknown link.
    again = answer(api, made["url_token"], [("again.txt", b"again", "text/plain")])
    assert again.status_code == 404 and again.json() == {"error": "not-found"}
    assert api.post(f"/api/v2/ask/{made['url_token']}", json={"answer": {"payload": "x"}}).status_code == 404
    assert rows(runtime) == (1, 2)

    one = api.get(f"/api/v2/requests/{made['id']}", headers=alice).json()
    assert one["state"] == "answered" and one["answer"]["kind"] == "file"
    shown = api.get(f"/api/v2/pushes/{one['answer']['url_token']}", headers=alice).json()
    assert shown["kind"] == "file" and shown["payload"] == "the key and its notes" and shown["views_remaining"] == 2
    assert [(f["filename"], f["size"]) for f in shown["files"]] == [("id_ed25519", len(key)), ("notes.txt", len(notes))]
    for entry, data in zip(shown["files"], (key, notes), strict=True):
        got = api.get(path_of(entry["url"]))
        assert got.status_code == 200 and hashlib.sha256(got.content).digest() == hashlib.sha256(data).digest()
    assert api.get(f"/api/v2/requests/{made['id']}", headers=bob).status_code == 404
    assert api.get(f"/api/v2/pushes/{one['answer']['url_token']}/audit", headers=bob).status_code in (403, 404)


def test_oversized_too_many_empty_and_misnamed_files_are_refused_and_leave_nothing(make_api):
    api, runtime = make_api(PWP__FILES__MAX_FILE_UPLOADS="2", PWPUSH_FILES_MAX_BYTES=str(200 * 1024))
    from pwpush_app.core.accounts import issue_api_token

    _user, api_token = issue_api_token(runtime, "limits@example.com")
    token = ask(api, {"Authorization": f"Bearer {api_token}"})["url_token"]
    before = rows(runtime)

    too_big = answer(api, token, [("a.bin", os.urandom(150 * 1024), "application/octet-stream"),
                                  ("b.bin", os.urandom(60 * 1024), "application/octet-stream")])
    assert too_big.status_code == 413 and "200 KiB" in too_big.json()["error"]
    still_open(api, runtime, token, before)
    many = answer(api, token, [(f"{n}.txt", b"x", "text/plain") for n in range(3)])
    assert many.status_code == 422 and many.json()["files"] == ["Too many files: at most 2 per push."]
    still_open(api, runtime, token, before)
    empty = answer(api, token, [("empty.txt", b"", "text/plain")])
    assert empty.status_code == 422 and "is empty" in empty.json()["files"][0]
    still_open(api, runtime, token, before)
    misnamed = api.post(f"/api/v2/ask/{token}", files=[("push[files][]", ("a.txt", b"a", "text/plain"))])
    assert misnamed.status_code in (400, 422)
    unknown = answer(api, token, [("a.txt", b"a", "text/plain")], note="not an answer field")
    assert unknown.status_code == 422 and "answer.note" in unknown.json()
    as_text = api.post(f"/api/v2/ask/{token}", files=[("answer[files][]", (None, "not a file"))])
    assert as_text.status_code == 422 and "file part" in as_text.json()["files"][0]
    body, headers = raw_multipart([("answer[files][]", "a.txt", b"a")])
    cut = api.post(f"/api/v2/ask/{token}", content=body[:-20], headers=headers)  # the upload breaks off
    assert cut.status_code in (400, 422)
    no_boundary = api.post(f"/api/v2/ask/{token}", content=b"x", headers={"Content-Type": "multipart/form-data"})
    assert no_boundary.status_code == 400
    still_open(api, runtime, token, before)
    # Text fields alone in a multipart body are a text answer (and an empty one is refused).
    blank = api.post(f"/api/v2/ask/{token}", files=[("answer[payload]", (None, " "))])
    assert blank.status_code == 422 and blank.json()["payload"] == ["Enter the secret to share."]
    assert api.post(f"/api/v2/ask/{token}", files=[("answer[payload]", (None, "text"))]).status_code == 201


def test_wrong_used_and_expired_links_take_no_file(api, alice, runtime):
    assert answer(api, "AAAAAAAAAAAAAAAAAAAAAA", [("a.txt", b"a", "text/plain")]).status_code == 404
    assert answer(api, "..%2F..%2Fetc", [("a.txt", b"a", "text/plain")]).status_code == 404
    made = ask(api, alice)
    with runtime.engine.begin() as connection:
        connection.execute(text("UPDATE secret_request SET expires_at = :past WHERE id = :id"),
                           {"past": "2020-01-01 00:00:00", "id": made["id"]})
    late = answer(api, made["url_token"], [("a.txt", b"a", "text/plain")])
    assert late.status_code == 404 and late.json() == {"error": "not-found"}
    assert rows(runtime) == (0, 0) and stored_blobs(runtime) == []


def test_files_answers_where_file_pushes_are_off_are_422(make_api):
    api, runtime = make_api(PWP__ENABLE_FILE_PUSHES="false")
    from pwpush_app.core.accounts import issue_api_token

    _user, api_token = issue_api_token(runtime, "nofiles@example.com")
    token = ask(api, {"Authorization": f"Bearer {api_token}"})["url_token"]
    refused = answer(api, token, [("a.txt", b"a", "text/plain")])
    assert refused.status_code == 422 and refused.json()["files"] == ["This site doesn't take files: answer with text."]
    assert api.get(f"/api/v2/ask/{token}").status_code == 200


def test_the_requester_turns_the_mail_off_per_request(api, alice):
    assert ask(api, alice)["notify_by_email"] is True
    quiet = ask(api, alice, notify_by_email=False)
    assert quiet["notify_by_email"] is False
    form = api.post("/api/v2/requests", data={"request[message]": "m", "request[notify_by_email]": "false"},
                    headers=alice)
    assert form.status_code == 201 and form.json()["notify_by_email"] is False
    refused = api.post("/api/v2/requests", json={"request": {"message": "m", "notify_by_email": "maybe"}}, headers=alice)
    assert refused.status_code == 422 and refused.json()["notify_by_email"] == ["notify_by_email must be true or false."]
    assert sorted(r["notify_by_email"] for r in api.get("/api/v2/requests", headers=alice).json()) == [False, False, True]


def test_a_file_answer_over_real_http(live_server):
    base = live_server.url
    owner = {"Authorization": f"Bearer {issue_token(live_server, 'files-answer-live@example.com')}"}
    made = httpx.post(f"{base}/api/v2/requests", json={"request": {"message": "Live file request"}}, headers=owner).json()
    canary = b"Live-file-canary-" + os.urandom(8).hex().encode()
    data = canary + os.urandom(512 * 1024)
    sent = httpx.post(f"{base}/api/v2/ask/{made['url_token']}",
                      files=[("answer[files][]", ("live.bin", data, "application/octet-stream"))])
    assert sent.status_code == 201, sent.text
    assert httpx.post(f"{base}/api/v2/ask/{made['url_token']}",
                      files=[("answer[files][]", ("again.bin", b"again", "application/octet-stream"))]).status_code == 404
    one = httpx.get(f"{base}/api/v2/requests/{made['id']}", headers=owner).json()
    shown = httpx.get(f"{base}/api/v2/pushes/{one['answer']['url_token']}", headers=owner).json()
    [entry] = shown["files"]
    assert entry["filename"] == "live.bin" and httpx.get(entry["url"]).content == data
    assert canary.decode() not in live_server.log_path.read_text()


NAMES = st.sampled_from(["answer[files][]", "answer[payload]", "answer[passphrase]", "answer[note]", "answer[files]",
                         "answer", "files[]", "answer[files][][x]", "push[files][]", "answer[[", ""])


@given(parts=st.lists(st.tuples(NAMES, st.one_of(st.none(), st.text(max_size=20)), st.binary(max_size=300)),
                      max_size=5))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_multipart_answer_is_answered_or_refused_cleanly(fuzz_request, parts):
    api, runtime, token, _owner = fuzz_request
    body, headers = raw_multipart([(name, filename, data) for name, filename, data in parts])
    response = api.post(f"/api/v2/ask/{token}", content=body, headers=headers)
    assert response.status_code in (201, 400, 404, 413, 422), response.text
    event(f"status {response.status_code}")
    stored = rows(runtime)
    if response.status_code == 201:
        fuzz_request[2] = ask(api, fuzz_request[3])["url_token"]  # a fresh request for the next example
    else:
        assert len(stored_blobs(runtime)) == stored[1]  # a refusal leaves no blob beside the stored answers
