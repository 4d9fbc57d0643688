"""File, URL and QR pushes through the API (in-process): upload as a stream, download by
grant, the limits, and every refusal a clear 4xx that leaves nothing behind."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlmodel import select

from pwpush_app.api.downloads import DownloadAborted
from pwpush_app.core.db import transaction
from pwpush_app.core.models import Push, PushFile

BASE = "http://testserver"  # no base URL configured: links use the address the request was sent to


def rows(runtime) -> tuple[int, int]:
    with transaction(runtime.engine) as db:
        return len(db.exec(select(Push)).all()), len(db.exec(select(PushFile)).all())


def stored_blobs(runtime) -> list[Path]:
    folder = runtime.settings.data_dir / "files"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def path_of(url: str) -> str:
    assert url.startswith(BASE + "/d/"), url
    return url[len(BASE):]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(api, headers, files, endpoint="/api/v2/pushes", root="push", **fields):
    form = {f"{root}[{k}]": (None, str(v)) for k, v in fields.items()}
    parts = list(form.items()) + [(f"{root}[files][]", f) for f in files]
    return api.post(endpoint, files=parts, headers=headers)


def raw_multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "rawb0undary") -> tuple[bytes, dict]:
    """A multipart body exactly as given (httpx drops `filename=""`, which browsers send)."""
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        kind = "Content-Type: application/octet-stream\r\n" if filename is not None else ""
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_several_files_upload_and_download_byte_for_byte(api, alice, runtime):
    contents = {
        "tiny.bin": b"\x00",
        "notes.txt": "naïve café 🔑\n".encode() * 100,
        "random.bin": os.urandom(200 * 1024 + 17),
        "big.bin": os.urandom(3 * 1024 * 1024 + 1),
    }
    files = [(name, data, "application/octet-stream" if name.endswith(".bin") else "text/plain; charset=utf-8")
             for name, data in contents.items()]
    created = upload(api, alice, files, payload="the text beside the files", name="for bob", expire_after_views=2)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "file" and body["name"] == "for bob" and body["expire_after_views"] == 2
    token = body["url_token"]

    shown = api.get(f"/api/v2/pushes/{token}")
    assert shown.status_code == 200
    shown = shown.json()
    assert shown["payload"] == "the text beside the files"
    assert [(f["filename"], f["content_type"], f["size"]) for f in shown["files"]] == [
        ("tiny.bin", "application/octet-stream", 1), ("notes.txt", "text/plain", len(contents["notes.txt"])),
        ("random.bin", "application/octet-stream", len(contents["random.bin"])),
        ("big.bin", "application/octet-stream", len(contents["big.bin"])),
    ]
    for entry in shown["files"]:
        got = api.get(path_of(entry["url"]))
        assert got.status_code == 200
        assert sha(got.content) == sha(contents[entry["filename"]])
        assert got.headers["content-length"] == str(len(contents[entry["filename"]]))
        assert got.headers["content-type"] == entry["content_type"]
        assert got.headers["content-disposition"].startswith(f'attachment; filename="{entry["filename"]}"')
        assert got.headers["cache-control"] == "no-store"
        assert got.headers["x-content-type-options"] == "nosniff"
    # Not the last view: the grant downloads again; a download consumed no view.
    again = api.get(path_of(shown["files"][2]["url"]))
    assert sha(again.content) == sha(contents["random.bin"])
    assert api.get(f"/api/v2/pushes/{token}/preview").status_code == 200
    assert shown["views_remaining"] == 1


def test_legacy_file_push_and_fields_after_the_files(api, alice):
    secret = os.urandom(70_000)
    boundary = "b0undary"
    raw = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file_push[files][]\"; filename=\"key.pem\"\r\n"
        f"Content-Type: application/x-pem-file\r\n\r\n"
    ).encode() + secret + (
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file_push[expire_after_views]\"\r\n\r\n1"
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file_push[payload]\"\r\n\r\n"
        f"\r\n--{boundary}--\r\n"
    ).encode()
    created = api.post("/f.json", content=raw, headers={**alice, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "file" and created.json()["expire_after_views"] == 1
    shown = api.get(f"/p/{created.json()['url_token']}.json").json()
    # The last view: expired in the same transaction, answered as Password Pusher does (not yet).
    assert shown["payload"] == "" and shown["expired"] is False and shown["views_remaining"] == 0
    [entry] = shown["files"]
    assert (entry["filename"], entry["content_type"]) == ("key.pem", "application/x-pem-file")
    assert api.get(path_of(entry["url"])).content == secret


def test_last_viewer_downloads_each_file_once_then_410(api, alice, runtime):
    created = upload(api, alice, [("a.txt", b"first", "text/plain"), ("b.txt", b"second", "text/plain")],
                     expire_after_views=1).json()
    shown = api.get(f"/api/v2/pushes/{created['url_token']}").json()
    assert shown["expired"] is False and shown["views_remaining"] == 0  # the last view
    assert api.get(f"/api/v2/pushes/{created['url_token']}").json()["expired"] is True
    first, second = (path_of(f["url"]) for f in shown["files"])
    # HEAD tells the size and name without using the one download up.
    head = api.head(first)
    assert head.status_code == 200 and head.headers["content-length"] == "5" and head.content == b""
    assert api.get(first).content == b"first"
    gone = api.get(first)
    assert gone.status_code == 410
    assert gone.json()["error"].startswith("This file was already downloaded.")
    assert api.get(second).content == b"second"
    assert api.get(second).status_code == 410
    assert stored_blobs(runtime) == []  # each deleted as its download completed


def test_unknown_grants_and_indexes_are_404_json(api, alice):
    created = upload(api, alice, [("a.txt", b"abc", "text/plain")]).json()
    url = path_of(api.get(f"/api/v2/pushes/{created['url_token']}").json()["files"][0]["url"])
    grant = url.split("/")[2]
    for path in (f"/d/{'A' * 43}/0", f"/d/{grant}/1", f"/d/{grant}/-1", f"/d/{grant}/x", f"/d/{grant}/99999",
                 f"/d/{grant}", "/d/", f"/d/{grant}/0/extra", "/d/..%2f..%2fetc/0",
                 f"/d/{grant}/%C2%B9"):  # "¹" passes str.isdigit() but not int()
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/json; charset=utf-8", path
        assert "error" in response.json()
    assert api.get(url).content == b"abc"
    # The grant is the capability: no token needed, and a bad one does not matter.
    assert api.get(url, headers={"Authorization": "Bearer nonsense"}).status_code == 200


def test_owner_expiry_deletes_the_blobs_and_the_links_go_404(api, alice, runtime):
    created = upload(api, alice, [("a.bin", os.urandom(1000), "application/octet-stream")],
                     expire_after_views=3).json()
    shown = api.get(f"/api/v2/pushes/{created['url_token']}").json()
    link = path_of(shown["files"][0]["url"])
    assert api.get(link).status_code == 200
    assert len(stored_blobs(runtime)) == 1
    assert api.delete(f"/api/v2/pushes/{created['url_token']}", headers=alice).json()["expired"] is True
    assert api.get(link).status_code == 404
    assert api.head(link).status_code == 404
    assert stored_blobs(runtime) == []
    after = api.get(f"/api/v2/pushes/{created['url_token']}").json()
    assert after["payload"] is None and after["files"] == []


def test_over_the_size_limit_is_413_early_and_leaves_nothing(make_api):
    api, runtime = make_api(PWPUSH_FILES_MAX_BYTES=str(1024 * 1024))
    from pwpush_app.core.accounts import issue_api_token

    headers = {"Authorization": f"Bearer {issue_api_token(runtime, 'carol@example.com')[1]}"}
    sent = 0

    async def body():
        # A 64 MiB multipart body, streamed without a Content-Length: the server must stop reading.
        nonlocal sent
        yield (b"--zz\r\nContent-Disposition: form-data; name=\"push[files][]\"; filename=\"first.bin\"\r\n\r\n"
               + b"1" * 1000 + b"\r\n--zz\r\n"
               b"Content-Disposition: form-data; name=\"push[files][]\"; filename=\"huge.bin\"\r\n\r\n")
        for _ in range(1024):
            sent += 64 * 1024
            yield b"\xab" * (64 * 1024)
        yield b"\r\n--zz--\r\n"

    response = api.post("/api/v2/pushes", content=body(),
                        headers={**headers, "Content-Type": "multipart/form-data; boundary=zz"})
    assert response.status_code == 413
    assert response.json()["error"] == "The files are too large: at most 1 MiB per push in total."
    assert sent <= 3 * 1024 * 1024, sent
    assert rows(runtime) == (0, 0) and stored_blobs(runtime) == []
    assert [p for p in (runtime.settings.data_dir / "files").rglob("*") if p.is_file()] == []

    # A declared Content-Length over the limit is refused before a byte is read.
    declared = api.post("/api/v2/pushes", content=b"x" * (2 * 1024 * 1024 + 8 * 1024 * 1024),
                        headers={**headers, "Content-Type": "multipart/form-data; boundary=zz"})
    assert declared.status_code == 413
    assert rows(runtime) == (0, 0)


def test_too_many_files_is_422_and_leaves_nothing(make_api):
    api, runtime = make_api(PWP__FILES__MAX_FILE_UPLOADS="2")
    from pwpush_app.core.accounts import issue_api_token

    headers = {"Authorization": f"Bearer {issue_api_token(runtime, 'carol@example.com')[1]}"}
    response = upload(api, headers, [(f"{i}.txt", b"data", "text/plain") for i in range(3)])
    assert response.status_code == 422
    assert response.json()["files"] == ["Too many files: at most 2 per push."]
    assert rows(runtime) == (0, 0) and stored_blobs(runtime) == []


def test_a_file_push_without_files_is_422(api, alice, runtime):
    for response in (
        api.post("/f.json", files={"file_push[payload]": (None, "only text")}, headers=alice),
        api.post("/f.json", data={"file_push[payload]": "only text"}, headers=alice),
        api.post("/api/v2/pushes", json={"push": {"payload": "x", "kind": "file"}}, headers=alice),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["files"][0].startswith("Attach at least one file")
    # A browser's empty file input: a part with filename="" and no bytes, skipped.
    body, content_type = raw_multipart([("file_push[payload]", None, b"x"), ("file_push[files][]", "", b"")])
    browser = api.post("/f.json", content=body, headers={**alice, **content_type})
    assert browser.status_code == 422 and browser.json()["files"][0].startswith("Attach at least one file")
    empty_file = upload(api, alice, [("empty.txt", b"", "text/plain")])
    assert empty_file.status_code == 422
    assert empty_file.json()["files"] == ["empty.txt is empty: choose a file with something in it."]
    json_files = api.post("/api/v2/pushes", json={"push": {"payload": "x", "files": ["a"]}}, headers=alice)
    assert json_files.status_code == 422 and "multipart" in json_files.json()["files"][0]
    assert rows(runtime) == (0, 0) and stored_blobs(runtime) == []


def test_an_empty_file_input_beside_a_real_file_is_skipped(api, alice):
    body, content_type = raw_multipart([("push[files][]", "", b""), ("push[files][]", "real.txt", b"real")])
    created = api.post("/api/v2/pushes", content=body, headers={**alice, **content_type})
    assert created.status_code == 201, created.text
    shown = api.get(f"/api/v2/pushes/{created.json()['url_token']}").json()
    assert [f["filename"] for f in shown["files"]] == ["real.txt"]


def test_anonymous_file_pushes_are_refused(api, runtime):
    for response in (
        upload(api, {}, [("a.txt", b"data", "text/plain")]),
        upload(api, {}, [("a.txt", b"data", "text/plain")], endpoint="/f.json", root="file_push"),
        api.post("/api/v2/pushes", json={"push": {"payload": "x", "kind": "file"}}),
    ):
        assert response.status_code == 401
        assert response.json()["error"].startswith("File pushes need an account on this server")
    assert rows(runtime) == (0, 0) and stored_blobs(runtime) == []


def test_anonymous_file_pushes_when_the_server_allows_them(make_api):
    api, _ = make_api(PWP__FILES__REQUIRE_LOGIN="false")
    assert upload(api, {}, [("a.txt", b"data", "text/plain")]).status_code == 201
    assert api.get("/api/v2/version").json()["features"]["pushes"]["file_attachments"] == {
        "enabled": True, "requires_authentication": False}


@pytest.mark.parametrize("raw, fallback", [
    ("../../etc/passwd", "passwd"),
    ("C:\\\\Users\\\\me\\\\secret.txt", "secret.txt"),
    ('evil\\"; filename=\\"x.exe', "evil_; filename=_x.exe"),
    ("report\x01\x7f.txt", "report.txt"),
    ("invoice\u202etxt.exe", "invoicetxt.exe"),
    ("résumé.pdf", "r_sum_.pdf"),
    ("con.txt", "_con.txt"),
])
def test_unsafe_names_are_sanitised_in_the_content_disposition(api, alice, raw, fallback):
    # The filename goes into the part's header verbatim (escaped quotes included).
    body, content_type = raw_multipart([("push[files][]", raw, b"content")])
    created = api.post("/api/v2/pushes", content=body, headers={**alice, **content_type})
    assert created.status_code == 201, created.text
    entry = api.get(f"/api/v2/pushes/{created.json()['url_token']}").json()["files"][0]
    got = api.get(path_of(entry["url"]))
    disposition = got.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="{fallback}"; filename*=UTF-8\'\'')
    assert disposition.count('"') == 2 and "/" not in disposition and "\\" not in disposition
    assert got.content == b"content"


def test_odd_content_types_become_octet_stream(api, alice):
    created = upload(api, alice, [("page.html", b"<script>alert(1)</script>", "text/html\r\nX-Evil: 1")])
    assert created.status_code == 201
    entry = api.get(f"/api/v2/pushes/{created.json()['url_token']}").json()["files"][0]
    got = api.get(path_of(entry["url"]))
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in got.headers["content-security-policy"]


def test_file_parts_must_be_files_of_a_file_push(api, alice, runtime):
    misplaced = api.post("/api/v2/pushes", files={"push[payload]": ("a.txt", b"data")}, headers=alice)
    assert misplaced.status_code == 422
    wrong_kind = upload(api, alice, [("a.txt", b"data", "text/plain")], payload="https://example.com", kind="url")
    assert wrong_kind.status_code == 422 and "file pushes" in wrong_kind.json()["files"][0]
    on_r = upload(api, alice, [("a.txt", b"data", "text/plain")], endpoint="/r.json", root="url",
                  payload="https://example.com")
    assert on_r.status_code == 422
    wrong_root = upload(api, alice, [("a.txt", b"data", "text/plain")], root="file_push")
    assert wrong_root.status_code == 422
    assert wrong_root.json()["file_push[files][]"] == ["Send files as push[files][] (one part per file)."]
    text_as_files = api.post("/api/v2/pushes", files={"push[payload]": (None, "x"), "push[files][]": (None, "a")},
                             headers=alice)
    assert text_as_files.status_code == 422
    assert rows(runtime) == (0, 0) and stored_blobs(runtime) == []


def test_the_plaintext_never_lands_in_the_data_dir(api, alice, runtime):
    canary = b"CANARY-" + os.urandom(12).hex().encode()
    name_canary = "name-canary-" + os.urandom(6).hex() + ".txt"
    created = upload(api, alice, [(name_canary, canary * 3000, "text/plain")], payload="t", expire_after_views=2)
    token = created.json()["url_token"]
    entry = api.get(f"/api/v2/pushes/{token}").json()["files"][0]
    assert api.get(path_of(entry["url"])).content == canary * 3000
    files = [p for p in runtime.settings.data_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert canary not in data and name_canary.encode() not in data, path


def test_a_tampered_blob_aborts_the_download_mid_stream(api, alice, runtime):
    created = upload(api, alice, [("big.bin", os.urandom(3 * 1024 * 1024), "application/octet-stream")]).json()
    entry = api.get(f"/api/v2/pushes/{created['url_token']}").json()["files"][0]
    [blob] = stored_blobs(runtime)
    data = bytearray(blob.read_bytes())
    data[2 * 1024 * 1024] ^= 1  # deep inside: the first MiB streams before the damage shows
    blob.write_bytes(bytes(data))
    with pytest.raises(DownloadAborted):
        api.get(path_of(entry["url"]))


def test_kinds_switched_off(make_api):
    api, runtime = make_api(PWP__ENABLE_FILE_PUSHES="false", PWP__ENABLE_URL_PUSHES="false",
                          PWP__ENABLE_QR_PUSHES="false")
    from pwpush_app.core.accounts import issue_api_token

    headers = {"Authorization": f"Bearer {issue_api_token(runtime, 'carol@example.com')[1]}"}
    for kind, response in (
        ("file", upload(api, headers, [("a.txt", b"data", "text/plain")])),
        ("file", upload(api, headers, [("a.txt", b"data", "text/plain")], endpoint="/f.json", root="file_push")),
        ("url", api.post("/r.json", json={"url": {"payload": "https://example.com"}}, headers=headers)),
        ("url", api.post("/api/v2/pushes", json={"push": {"payload": "https://example.com", "kind": "url"}})),
        ("qr", api.post("/api/v2/pushes", json={"push": {"payload": "hello", "kind": "qr"}})),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["kind"] == [f"{kind} pushes are turned off on this server."]
    assert rows(runtime) == (0, 0) and stored_blobs(runtime) == []
    features = api.get("/api/v2/version").json()["features"]["pushes"]
    assert features["file_attachments"]["enabled"] is False
    assert features["url_pushes"] == features["qr_code_pushes"] == {"enabled": False}


def test_version_announces_files_urls_and_qr(api):
    features = api.get("/api/v2/version").json()["features"]["pushes"]
    assert features["file_attachments"] == {"enabled": True, "requires_authentication": True}
    assert features["url_pushes"] == features["qr_code_pushes"] == {"enabled": True}


def test_url_pushes(api, runtime, alice):
    created = api.post("/r.json", data={"url[payload]": "https://example.com/reset?code=123",
                                        "url[deletable_by_viewer]": "true"}, headers=alice)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "url" and body["deletable_by_viewer"] is None  # never for a URL
    shown = api.get(f"/api/v2/pushes/{body['url_token']}").json()
    assert shown["payload"] == "https://example.com/reset?code=123" and shown["files"] == []
    assert api.delete(f"/api/v2/pushes/{body['url_token']}").status_code == 401
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>x</b>", "ftp://example.com",
                "example.com", "https:///nohost", "https://exa mple.com"):
        for response in (api.post("/r.json", json={"url": {"payload": bad}}, headers=alice),
                         api.post("/api/v2/pushes", json={"push": {"payload": bad, "kind": "url"}})):
            assert response.status_code == 422, bad
            assert response.json()["payload"] == ["Enter a full web address starting with http:// or https://."]
    assert rows(runtime)[0] == 1


def test_qr_pushes(api, runtime):
    text = "WIFI:T:WPA;S:office;P:hunter2;;"
    created = api.post("/api/v2/pushes", json={"push": {"payload": text, "kind": "qr"}})
    assert created.status_code == 201 and created.json()["kind"] == "qr"
    assert api.get(f"/api/v2/pushes/{created.json()['url_token']}").json()["payload"] == text
    at_limit = api.post("/api/v2/pushes", json={"push": {"payload": "q" * 1024, "kind": "qr"}})
    assert at_limit.status_code == 201
    too_long = api.post("/api/v2/pushes", json={"push": {"payload": "q" * 1025, "kind": "qr"}})
    assert too_long.status_code == 422
    assert too_long.json()["payload"] == ["QR code content is too long: at most 1,024 characters."]
    assert rows(runtime)[0] == 2


def test_bad_fields_after_the_files_refuse_the_push_and_delete_the_files(api, alice, runtime):
    body, content_type = raw_multipart([("push[files][]", "a.bin", os.urandom(300_000)),
                                        ("push[expire_after_views]", None, b"1000")])
    response = api.post("/api/v2/pushes", content=body, headers={**alice, **content_type})
    assert response.status_code == 422
    assert "expire_after_views" in response.json()
    assert rows(runtime) == (0, 0) and stored_blobs(runtime) == []
    days = upload(api, alice, [("a.txt", b"data", "text/plain")], expire_after_days=365)
    assert days.status_code == 422 and "expire_after_days" in days.json()
    assert rows(runtime) == (0, 0) and stored_blobs(runtime) == []


def test_a_passphrase_guards_the_file_links(api, alice):
    created = upload(api, alice, [("a.txt", b"guarded", "text/plain")], passphrase="open sesame").json()
    token = created["url_token"]
    refused = api.get(f"/api/v2/pushes/{token}")
    assert refused.status_code == 401 and "files" not in refused.json()
    wrong = api.get(f"/api/v2/pushes/{token}", params={"passphrase": "nope"})
    assert wrong.status_code == 401
    shown = api.get(f"/api/v2/pushes/{token}", params={"passphrase": "open sesame"}).json()
    assert api.get(path_of(shown["files"][0]["url"])).content == b"guarded"


def test_a_body_that_ends_inside_a_file_is_400_and_leaves_nothing(api, alice, runtime):
    body, headers = raw_multipart([("push[payload]", None, b"text"), ("push[files][]", "a.bin", os.urandom(4096))])
    cut = api.post("/api/v2/pushes", content=body[:-40], headers={**headers, **alice})
    assert cut.status_code == 400 and "ended in the middle of a file" in cut.json()["error"]
    assert rows(runtime) == (0, 0) and stored_blobs(runtime) == []
