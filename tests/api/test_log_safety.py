"""Credentials stay out of logs: the passphrase can travel in the `X-Passphrase` header
instead of the URL, and a path the app logs has its tokens masked and no query string."""

from __future__ import annotations

import logging

import httpx
import pytest

from pwpush_app.api import actions
from pwpush_app.api.app import build_api
from pwpush_app.log_redaction import loggable_path

from .conftest import _SyncOverAsync, create

TOKEN = "AbCdEfGhIjKlMnOpQrStUv"  # the shape of ours: 22 URL-safe characters


def test_the_passphrase_in_the_header_retrieves_in_both_dialects(api):
    passphrase = "correct horse ✓ grüße"  # sent as the UTF-8 bytes a client puts on the wire
    token = create(api, passphrase=passphrase, expire_after_views=3)["url_token"]
    header = {"X-Passphrase": passphrase.encode("utf-8")}

    for path in (f"/api/v2/pushes/{token}", f"/p/{token}.json"):
        shown = api.get(path, headers=header)
        assert shown.status_code == 200 and shown.json()["payload"] == "s3cret-payload", shown.text
    assert api.get(f"/api/v2/pushes/{token}", params={"passphrase": passphrase}).json()["views_remaining"] == 0


def test_a_wrong_or_missing_header_passphrase_is_refused_like_the_query_one(api):
    token = create(api, passphrase="correct horse", expire_after_views=1)["url_token"]

    wrong = api.get(f"/api/v2/pushes/{token}", headers={"X-Passphrase": "nope"})
    assert wrong.status_code == 401 and "passphrase" in wrong.json()["error"]
    assert api.get(f"/api/v2/pushes/{token}").status_code == 401
    right = api.get(f"/api/v2/pushes/{token}", headers={"X-Passphrase": "correct horse"})
    assert right.status_code == 200 and right.json()["views_remaining"] == 0  # the wrong one used no view


@pytest.mark.parametrize("headers, params, says", [
    ({"X-Passphrase": "a"}, {"passphrase": "a"}, "not both"),
    ({"X-Passphrase": b"\xff\xfe"}, {}, "UTF-8"),
    ({"X-Passphrase": "x" * 1025}, {}, "at most 1024"),
])
def test_a_bad_header_passphrase_is_a_clear_422_that_changes_nothing(api, headers, params, says):
    token = create(api, passphrase="a", expire_after_views=1)["url_token"]

    refused = api.get(f"/api/v2/pushes/{token}", headers=headers, params=params)

    assert refused.status_code == 422 and says in refused.json()["passphrase"][0], refused.text
    assert api.get(f"/p/{token}/preview.json").status_code == 200
    assert api.get(f"/api/v2/pushes/{token}", headers={"X-Passphrase": "a"}).json()["views_remaining"] == 0


def test_an_unexpected_error_is_logged_with_the_token_masked_and_without_the_query(runtime, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(actions, "show", broken)
    caplog.set_level(logging.ERROR, logger="pwpush.api")
    # As a server would: the 500 is answered, not raised into the client.
    client = _SyncOverAsync(httpx.ASGITransport(app=build_api(lambda: runtime), raise_app_exceptions=False))
    try:
        answer = client.get(f"/p/{TOKEN}.json", params={"passphrase": "passphrase-canary"})
    finally:
        client.close()

    assert answer.status_code == 500
    assert "unexpected RuntimeError on GET /p/<token>.json" in caplog.text
    assert TOKEN not in caplog.text and "passphrase-canary" not in caplog.text


@pytest.mark.parametrize("path, logged", [
    (f"/p/{TOKEN}", "/p/<token>"),
    (f"/p/{TOKEN}.json?passphrase=x", "/p/<token>.json"),
    (f"/p/{TOKEN}/preview.json", "/p/<token>/preview.json"),
    (f"/p/{TOKEN}/audit.json", "/p/<token>/audit.json"),
    (f"/manage/{TOKEN}", "/manage/<token>"),
    (f"/d/{TOKEN}/3", "/d/<token>/3"),
    (f"/api/v2/pushes/{TOKEN}", "/api/v2/pushes/<token>"),
    (f"/api/v2/pushes/{TOKEN}/audit?page=2", "/api/v2/pushes/<token>/audit"),
    (f"/api/v2/pushes/{TOKEN}/preview", "/api/v2/pushes/<token>/preview"),
    ("/p/short", "/p/<token>"),  # a malformed token is masked all the same
    (f"/p/{TOKEN}/{TOKEN}", "/p/<token>/..."),  # a tail that isn't ours is cut
    (f"/en/p/{TOKEN}", "/en/p/<token>"),  # Password Pusher's localised links
    (f"/x/{TOKEN}/y/{TOKEN}", "/x/<token>/..."),
    (f"/f/{TOKEN}.json", "/f/<token>"),
    ("/p/active.json", "/p/active.json"),
    ("/api/v2/pushes/expired", "/api/v2/pushes/expired"),
    ("/api/v2/pushes", "/api/v2/pushes"),
    ("/assets/_p_.__token_._index-C-k3RLAK.js", "/assets/_p_.__token_._index-C-k3RLAK.js"),
    (f"/assets/{TOKEN}", "/assets/<token>"),
    ("/my-pushes", "/my-pushes"),
    ("/_event/", "/_event/"),
])
def test_loggable_paths_keep_the_shape_and_lose_the_tokens(path, logged):
    assert loggable_path(path) == logged
