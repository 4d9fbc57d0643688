"""Creating pushes: every body form, every dialect, every bad input a clear 4xx that changes nothing."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from pwpush_app.core.db import transaction
from pwpush_app.core.models import Push

from .conftest import PUSH_FIELDS, create


def push_count(runtime) -> int:
    with transaction(runtime.engine) as db:
        return len(db.exec(select(Push)).all())


def test_v2_create_answers_201_with_the_push_json(api):
    response = api.post("/api/v2/pushes", json={"push": {
        "payload": "hunter2", "name": "db", "note": "ticket 42", "passphrase": "open sesame",
        "expire_after_views": 3, "expire_after_days": 2, "deletable_by_viewer": False, "retrieval_step": False,
    }})
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == PUSH_FIELDS | {"name", "note", "manage_url"}
    token = body["url_token"]
    assert isinstance(token, str) and len(token) >= 22
    assert body["html_url"] == f"http://testserver/p/{token}"  # the address the request was sent to
    assert body["json_url"] == f"http://testserver/p/{token}.json"
    assert body["manage_url"].startswith("http://testserver/manage/")
    assert body["manage_url"].rsplit("/", 1)[1] != token
    assert body["expired"] is False and body["deleted"] is False and body["expired_on"] is None
    assert body["expire_after_views"] == 3 and body["views_remaining"] == 3
    assert body["expire_after_days"] == 2 and body["days_remaining"] == 2
    assert body["expire_after_minutes"] == 2 * 24 * 60
    assert body["deletable_by_viewer"] is False and body["retrieval_step"] is False
    # Password Pusher's type (text), never the passphrase: a mask while one is set.
    assert body["passphrase"] == "********"
    assert "open sesame" not in response.text and "hunter2" not in response.text
    assert body["kind"] == "text" and body["name"] == "db" and body["note"] == "ticket 42"
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")


def test_defaults_come_from_the_kind_policy(make_api):
    api, _ = make_api(PWP__PW__EXPIRE_AFTER_VIEWS_DEFAULT="7", PWP__PW__EXPIRE_AFTER_DAYS_DEFAULT="3",
                      PWP__PW__RETRIEVAL_STEP_DEFAULT="false")
    body = create(api)
    assert (body["expire_after_views"], body["expire_after_days"], body["retrieval_step"]) == (7, 3, False)


def test_legacy_form_body_as_old_scripts_send_it(api):
    # curl --data "password[payload]=...&password[expire_after_views]=2"
    response = api.post("/p.json", content=b"password[payload]=my%20secret&password[expire_after_days]=1"
                        b"&password[expire_after_views]=2&password[deletable_by_viewer]=on",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["expire_after_views"], body["expire_after_days"]) == ("text", 2, 1)
    assert body["deletable_by_viewer"] is True
    shown = api.get(f"/p/{body['url_token']}.json").json()
    assert shown["payload"] == "my secret"


def test_legacy_json_body_and_kind(api):
    response = api.post("/p.json", json={"password": {"payload": "some QR text", "kind": "qr"}})
    assert response.status_code == 201
    assert response.json()["kind"] == "qr"


def test_form_body_without_content_type_is_read_as_a_form(api):
    response = api.post("/p.json", content=b"password[payload]=x1")
    assert response.status_code == 201, response.text


def test_query_parameters_work_like_rails_params(api):
    response = api.post("/p.json?password[payload]=from-query&password[expire_after_views]=4")
    assert response.status_code == 201, response.text
    assert response.json()["expire_after_views"] == 4


def test_v2_form_and_multipart_bodies(api):
    form = api.post("/api/v2/pushes", data={"push[payload]": "form", "push[expire_after_duration]": "6"})
    assert form.status_code == 201 and form.json()["expire_after_minutes"] == 24 * 60
    multipart = api.post("/api/v2/pushes", files={"push[payload]": (None, "multi"), "push[kind]": (None, "text")})
    assert multipart.status_code == 201, multipart.text
    assert api.get(f"/api/v2/pushes/{multipart.json()['url_token']}").json()["payload"] == "multi"


def test_url_pushes_through_r_json(api, alice):
    # As in Password Pusher, /r.json takes no anonymous pushes (v2 with kind url does).
    anonymous = api.post("/r.json", json={"url": {"payload": "https://example.com/reset"}})
    assert anonymous.status_code == 401
    response = api.post("/r.json", json={"url": {"payload": "https://example.com/reset", "deletable_by_viewer": True}},
                        headers=alice)
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "url"
    # A URL push redirects after the reveal: never deletable by its viewer (null, as there).
    assert body["deletable_by_viewer"] is None
    bad = api.post("/r.json", json={"url": {"payload": "javascript:alert(1)"}}, headers=alice)
    assert bad.status_code == 422 and "payload" in bad.json()
    wrong_kind = api.post("/r.json", json={"url": {"payload": "https://example.com", "kind": "text"}}, headers=alice)
    assert wrong_kind.status_code == 422 and "kind" in wrong_kind.json()


@pytest.mark.parametrize("index, minutes", [
    (0, 5), (1, 15), (2, 30), (3, 60), (4, 240), (5, 720),
    (6, 1440), (7, 2 * 1440), (8, 3 * 1440), (9, 4 * 1440), (10, 5 * 1440), (11, 6 * 1440), (12, 7 * 1440),
    (13, 14 * 1440), (14, 21 * 1440), (15, 30 * 1440), (16, 60 * 1440), (17, 90 * 1440),
])
def test_expire_after_duration_follows_the_cli_mapping(api, index, minutes):
    body = create(api, expire_after_duration=index)
    assert body["expire_after_minutes"] == minutes
    assert body["expire_after_days"] == max(1, minutes // 1440)


def test_expire_after_minutes_is_our_extension(api):
    body = create(api, expire_after_minutes=90)
    assert body["expire_after_minutes"] == 90 and body["expire_after_days"] == 1


@pytest.mark.parametrize("fields, field", [
    ({"expire_after_duration": 18}, "expire_after_duration"),
    ({"expire_after_duration": -1}, "expire_after_duration"),
    ({"expire_after_days": 91}, "expire_after_days"),
    ({"expire_after_days": 0}, "expire_after_days"),
    ({"expire_after_minutes": 4}, "expire_after_minutes"),
    ({"expire_after_minutes": 10**30}, "expire_after_minutes"),
    ({"expire_after_views": 0}, "expire_after_views"),
    ({"expire_after_views": 101}, "expire_after_views"),
    ({"expire_after_views": "many"}, "expire_after_views"),
    ({"expire_after_views": 2.5}, "expire_after_views"),
    ({"expire_after_views": True}, "expire_after_views"),
    ({"deletable_by_viewer": "maybe"}, "deletable_by_viewer"),
    ({"retrieval_step": 2}, "retrieval_step"),
    ({"payload": 12345}, "payload"),
    ({"payload": ["a"]}, "payload"),
    ({"payload": "   "}, "payload"),
    ({"name": {"a": 1}}, "name"),
    ({"name": "n" * 256}, "name"),
    ({"kind": "video"}, "kind"),
    ({"expire_after_days": 1, "expire_after_minutes": 60}, "expire_after_minutes"),
    ({"colour": "red"}, "push.colour"),
])
def test_out_of_range_and_wrong_types_are_422_and_create_nothing(api, runtime, fields, field):
    body = {"payload": "s3cret", **fields}
    response = api.post("/api/v2/pushes", json={"push": body})
    assert response.status_code == 422, response.text
    error = response.json()
    assert field in error, error
    assert isinstance(error["error"], str) and error["error"]
    assert all(isinstance(m, str) and m for m in error[field])
    assert push_count(runtime) == 0


def test_range_message_names_the_limits(api):
    error = api.post("/api/v2/pushes", json={"push": {"payload": "x", "expire_after_views": 500}}).json()
    assert error["expire_after_views"] == ["Views must be a whole number from 1 to 100."]
    error = api.post("/api/v2/pushes", json={"push": {"payload": "x", "expire_after_days": 365}}).json()
    assert error["expire_after_days"] == ["The lifetime must be from 5 minutes to 90 days."]


def test_strings_for_numbers_and_booleans_are_accepted_as_rails_does(api):
    # The CLI copies its config values (strings) into the JSON body.
    body = create(api, expire_after_views="3", deletable_by_viewer="false", retrieval_step="true")
    assert (body["expire_after_views"], body["deletable_by_viewer"], body["retrieval_step"]) == (3, False, True)


def test_missing_root_key_is_400(api, runtime, alice):
    for path, body in (("/api/v2/pushes", {"password": {"payload": "x"}}), ("/p.json", {"push": {"payload": "x"}}),
                       ("/r.json", {"password": {"payload": "https://e.com"}}), ("/p.json", {}),
                       ("/p.json", {"password": {}})):
        response = api.post(path, json=body, headers=alice)
        assert response.status_code == 400, (path, response.text)
        root = {"/api/v2/pushes": "push", "/p.json": "password", "/r.json": "url"}[path]
        # Password Pusher's words, then ours.
        assert response.json()["error"] == f"param is missing or the value is empty or invalid: {root}"
        assert root in response.json()["message"]
    assert api.post("/p.json", data={"payload": "x"}).status_code == 400
    assert push_count(runtime) == 0


@pytest.mark.parametrize("content, content_type", [
    (b'{"push": {"payload": "x"', "application/json"),
    (b"not json", "application/json"),
    (b'["push"]', "application/json"),
    (b'"just a string"', "application/json"),
    (b'{"push": "x"}', "application/json"),
    (b'{"push": {"payload": "\xff\xfe"}}', "application/json"),
    (b"password[payload]=%FF%FE", "application/x-www-form-urlencoded"),
    (b"password[payload=x", "application/x-www-form-urlencoded"),
    (b"password[payload]=x&password=y", "application/x-www-form-urlencoded"),
    (b'{"push": {"payload": 1' + b"1" * 5000 + b"}}", "application/json"),
    (b"[" * 100000 + b"]" * 100000, "application/json"),
    (b"--nope\r\n", "multipart/form-data"),
    (b"--b\r\nContent-Disposition: form-data; name=\"push[payload]\"\r\n\r\nx\r\n--b", "multipart/form-data; boundary=b"),
])
def test_malformed_bodies_are_400_not_500(api, runtime, content, content_type):
    response = api.post("/api/v2/pushes" if b"push" in content or b"[" in content[:1] else "/p.json",
                        content=content, headers={"Content-Type": content_type})
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.json()["error"]
    assert push_count(runtime) == 0


def test_other_content_types_are_415(api):
    response = api.post("/api/v2/pushes", content=b"push[payload]=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_huge_bodies_are_413_before_reading_them_whole(make_api):
    api, runtime = make_api(PWPUSH_MAX_PAYLOAD_BYTES="1000")
    response = api.post("/api/v2/pushes", json={"push": {"payload": "x" * 300_000}})
    assert response.status_code == 413
    assert "too large" in response.json()["error"]
    # Within the body limit but over the payload limit: the core's 422.
    response = api.post("/api/v2/pushes", json={"push": {"payload": "x" * 1001}})
    assert response.status_code == 422 and "payload" in response.json()
    assert push_count(runtime) == 0


def test_payload_of_exactly_the_limit_is_accepted(api):
    body = create(api, payload="é" * (512 * 1024))  # 1 MiB of UTF-8
    assert body["kind"] == "text"


def test_unicode_payload_round_trips(api):
    secret = "pässwörd 🔑 \u202e 漢字"
    body = create(api, payload=secret)
    assert api.get(f"/api/v2/pushes/{body['url_token']}").json()["payload"] == secret


def test_nul_and_lone_surrogates_are_refused(api, runtime):
    for raw in (b'{"push": {"payload": "a\\u0000b"}}', b'{"push": {"payload": "\\ud800"}}'):
        response = api.post("/api/v2/pushes", content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, response.text
    assert push_count(runtime) == 0


def test_a_name_with_a_line_break_is_refused_with_a_message_and_creates_nothing(api, runtime, alice):
    # A name reaches a mail's Subject: a line break there once stopped all of the site's mail.
    response = api.post("/api/v2/pushes", json={"push": {"payload": "x", "name": "evil\nname"}}, headers=alice)
    assert response.status_code == 422, response.text
    assert "remove line breaks" in " ".join(response.json()["name"])
    assert push_count(runtime) == 0


def test_disabled_kinds_and_anonymous_off(make_api):
    api, _ = make_api(PWP__ENABLE_QR_PUSHES="false", PWP__ALLOW_ANONYMOUS="false")
    response = api.post("/api/v2/pushes", json={"push": {"payload": "x"}})
    assert response.status_code == 401


def test_tolerated_and_unknown_root_keys(api):
    assert api.post("/api/v2/pushes", json={"push": {"payload": "x"}, "account_id": "1"}).status_code == 201
    response = api.post("/api/v2/pushes", json={"push": {"payload": "x"}, "extra": 1})
    assert response.status_code == 422 and "extra" in response.json()


def test_json_numbers_that_are_too_long_are_400(api):
    raw = json.dumps({"push": {"payload": "x"}})[:-2] + ', "expire_after_views": ' + "9" * 5000 + "}}"
    response = api.post("/api/v2/pushes", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_multipart_field_names_are_read_from_the_disposition(api, runtime):
    # A field whose *name* contains "filename" is still a text field, and still unknown.
    response = api.post("/api/v2/pushes", files={"push[payload]": (None, "x"), "push[filename]": (None, "y")})
    assert response.status_code == 422 and "push.filename" in response.json()
    bad_utf8 = api.post("/api/v2/pushes", files={"push[payload]": (None, b"\xff\xfe")})
    assert bad_utf8.status_code == 400 and "UTF-8" in bad_utf8.json()["error"]
    assert push_count(runtime) == 0


def test_multipart_file_bytes_never_reach_the_disk(api, alice, tmp_path, monkeypatch):
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    big = b"F" * (3 * 1024 * 1024)
    response = api.post("/api/v2/pushes", files={"push[payload]": (None, "x"), "push[files][]": ("big.bin", big)},
                        headers=alice)
    assert response.status_code == 201, response.text
    # Starlette's form parser would have spooled the 3 MiB file there, in plaintext.
    assert list(spool.iterdir()) == []
