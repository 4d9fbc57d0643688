"""File pushes through the core: create, reveal, download, limits, names, login, storage at rest."""

from __future__ import annotations

import asyncio
import gc
import os
from dataclasses import dataclass

import pytest

from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.crypto import STREAM_CHUNK_BYTES
from pwpush_app.core.errors import InvalidPush, LoginRequired
from pwpush_app.core.file_names import content_disposition, sanitize_content_type, sanitize_file_name
from pwpush_app.core.file_uploads import (
    FilePushDraft,
    IncomingFile,
    create_file_push_async,
    create_file_push_from_chunks,
)
from pwpush_app.core.reveal import reveal_push
from tests.core.files_support import (
    ANONYMOUS,
    RECIPIENT,
    T0,
    blob_files,
    download,
    file_rows,
    incoming,
    push_files,
    row_counts,
    sha256,
    signed_in_sender,
)

CHUNK = STREAM_CHUNK_BYTES


def test_files_of_several_sizes_come_back_byte_for_byte(runtime):
    sender = signed_in_sender(runtime)
    contents = {
        "one-byte.bin": b"\x7f",
        "exactly-a-chunk.bin": os.urandom(CHUNK),
        "chunk-and-one.bin": os.urandom(CHUNK + 1),
        "a-few-mib.bin": os.urandom(3 * 1024 * 1024 + 5),
    }
    created = push_files(runtime, sender, list(contents.items()), payload="the key is in the second file")

    revealed = reveal_push(runtime, created.url_token, RECIPIENT, now=T0)
    assert revealed.payload == "the key is in the second file"
    listed = revealed.downloads.files
    assert [(f.index, f.name, f.size) for f in listed] == [
        (i, name, len(data)) for i, (name, data) in enumerate(contents.items())
    ]
    for entry, (name, data) in zip(listed, contents.items(), strict=True):
        got_name, content_type, body = download(runtime, revealed.downloads.grant, entry.index)
        assert (got_name, content_type) == (name, "application/octet-stream")
        assert sha256(body) == sha256(data)


def test_an_empty_file_is_refused_and_nothing_is_kept(runtime):
    sender = signed_in_sender(runtime)
    before = row_counts(runtime)
    with pytest.raises(InvalidPush) as refused:
        push_files(runtime, sender, [("notes.txt", b"hello"), ("empty.txt", b"")])
    assert refused.value.errors == {"files": "empty.txt is empty: choose a file with something in it."}
    assert row_counts(runtime) == before
    assert blob_files(runtime) == []


def test_file_pushes_need_an_account_by_default(runtime):
    before = row_counts(runtime)
    with pytest.raises(LoginRequired, match="log in to send files"):
        push_files(runtime, ANONYMOUS, [("id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----")])
    assert row_counts(runtime) == before and blob_files(runtime) == []


def test_anonymous_file_pushes_when_the_setting_allows_them(make_runtime):
    runtime = make_runtime(PWP__FILES__REQUIRE_LOGIN="false")
    created = push_files(runtime, ANONYMOUS, [("id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----")])
    revealed = reveal_push(runtime, created.url_token, RECIPIENT, now=T0)
    assert download(runtime, revealed.downloads.grant, 0)[2] == b"-----BEGIN OPENSSH PRIVATE KEY-----"


def test_file_pushes_switched_off(make_runtime):
    runtime = make_runtime(PWP__ENABLE_FILE_PUSHES="false")
    with pytest.raises(InvalidPush, match="turned off"):
        push_files(runtime, signed_in_sender(runtime), [("a.txt", b"a")])


def test_too_many_files_are_refused_before_reading_any(make_runtime):
    runtime = make_runtime(PWP__FILES__MAX_FILE_UPLOADS="3")
    sender = signed_in_sender(runtime)
    before = row_counts(runtime)
    read = []

    def watched(data):
        read.append(len(data))
        yield data

    files = [IncomingFile(f"f{i}.txt", "text/plain", watched(b"x")) for i in range(4)]
    with pytest.raises(InvalidPush) as refused:
        push_files(runtime, sender, files)
    assert refused.value.errors == {"files": "Too many files: at most 3 per push."}
    assert read == [] and row_counts(runtime) == before and blob_files(runtime) == []


def test_too_many_files_through_a_draft_stop_at_the_extra_file(make_runtime):
    runtime = make_runtime(PWP__FILES__MAX_FILE_UPLOADS="2")
    sender = signed_in_sender(runtime)
    before = row_counts(runtime)
    with FilePushDraft(runtime, sender, NewPush(kind="file")) as draft:
        for name in ("a.txt", "b.txt"):
            draft.start_file(name, "text/plain")
            draft.write(b"content of " + name.encode())
            draft.end_file()
        assert len(blob_files(runtime)) == 2
        with pytest.raises(InvalidPush, match="at most 2 per push"):
            draft.start_file("c.txt", "text/plain")
    assert row_counts(runtime) == before and blob_files(runtime) == []


def test_an_empty_file_list_is_refused(runtime):
    sender = signed_in_sender(runtime)
    before = row_counts(runtime)
    with pytest.raises(InvalidPush) as refused:
        push_files(runtime, sender, [])
    assert refused.value.errors == {"files": "Attach at least one file."}
    with FilePushDraft(runtime, sender, NewPush(kind="file")) as draft:
        with pytest.raises(InvalidPush, match="at least one file"):
            draft.commit()
    assert row_counts(runtime) == before and blob_files(runtime) == []


def test_a_file_push_cannot_be_made_without_files(runtime):
    with pytest.raises(InvalidPush, match="at least one file"):
        create_push(runtime, NewPush(kind="file", payload="text only"), signed_in_sender(runtime))


def test_the_size_limit_stops_the_upload_early_and_removes_the_partial_blobs(make_runtime):
    limit = 1024 * 1024
    runtime = make_runtime(PWPUSH_FILES_MAX_BYTES=str(limit))
    sender = signed_in_sender(runtime)
    before = row_counts(runtime)
    consumed = []

    def endless(block=32 * 1024):
        for _ in range(10_000):  # 312 MiB if nobody stopped reading
            consumed.append(block)
            yield os.urandom(block)

    files = [incoming("first.bin", os.urandom(600 * 1024)), IncomingFile("second.bin", "", endless())]
    with pytest.raises(InvalidPush) as refused:
        push_files(runtime, sender, files)
    assert refused.value.errors == {"files": "The files are too large: at most 1 MiB per push in total."}
    # It stopped at the first chunk over the limit.
    assert sum(consumed) <= limit - 600 * 1024 + 32 * 1024
    assert row_counts(runtime) == before
    assert blob_files(runtime) == []


def test_exactly_the_size_limit_is_accepted(make_runtime):
    runtime = make_runtime(PWPUSH_FILES_MAX_BYTES="100000")
    created = push_files(runtime, signed_in_sender(runtime), [("a", b"a" * 60_000), ("b", b"b" * 40_000)])
    assert [r["size"] for r in file_rows(runtime, created.push.id)] == [60_000, 40_000]
    with pytest.raises(InvalidPush, match="too large"):
        push_files(runtime, signed_in_sender(runtime), [("a", b"a" * 60_000), ("b", b"b" * 40_001)])


def test_bad_push_fields_are_refused_before_the_upload(runtime):
    with pytest.raises(InvalidPush) as refused:
        FilePushDraft(runtime, signed_in_sender(runtime), NewPush(kind="file", expire_after_views=0))
    assert "expire_after_views" in refused.value.errors
    assert blob_files(runtime) == []


def test_fields_sent_after_the_files_are_checked_at_commit(runtime):
    sender = signed_in_sender(runtime)
    before = row_counts(runtime)
    with FilePushDraft(runtime, sender) as draft:
        draft.start_file("a.txt", "text/plain")
        draft.write(b"abc")
        draft.end_file()
        with pytest.raises(InvalidPush, match="Views must be"):
            draft.commit(NewPush(kind="file", expire_after_views=1000))
    assert row_counts(runtime) == before and blob_files(runtime) == []
    with FilePushDraft(runtime, sender) as draft:
        draft.start_file("a.txt", "text/plain")
        draft.write(b"abc")
        draft.end_file()
        created = draft.commit(NewPush(kind="file", expire_after_views=2, name="deploy keys"))
    assert created.push.expire_after_views == 2 and created.push.name == "deploy keys"


def test_an_error_in_the_middle_of_an_upload_leaves_nothing(runtime):
    sender = signed_in_sender(runtime)
    before = row_counts(runtime)

    def broken():
        yield b"x" * 100_000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        push_files(runtime, sender, [("a.bin", b"a" * 10), IncomingFile("b.bin", "", broken())])
    assert row_counts(runtime) == before and blob_files(runtime) == []


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\bob\\.ssh\\id_rsa", "id_rsa"),
        ("/etc/", "file"),
        ("..", "file"),
        ("...", "file"),
        ("", "file"),
        ("evil\x00name\n.txt", "evilname.txt"),
        ("line\r\nbreak.pdf", "linebreak.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override that disguised ".exe"
        ("a<b>c:d|e?f*g\".txt", "a_b_c_d_e_f_g_.txt"),
        ("  spaced   out  .txt  ", "spaced out.txt"),
        ("trailing dots...", "trailing dots"),
        (".env", ".env"),
        ("con.txt", "_con.txt"),
        ("NUL", "_NUL"),
        ("résumé.pdf", "résumé.pdf"),
        ("archive.tar.gz", "archive.tar.gz"),
    ],
)
def test_file_names_are_sanitised(raw, safe):
    assert sanitize_file_name(raw) == safe


def test_a_long_name_is_cut_keeping_its_extension():
    name = sanitize_file_name("x" * 1000 + ".txt")
    assert name.endswith(".txt") and len(name.encode()) == 200
    wide = sanitize_file_name("é" * 1000 + ".pdf")
    assert wide.endswith(".pdf") and len(wide.encode()) <= 200
    assert sanitize_file_name("y" * 1000).startswith("yyy") and len(sanitize_file_name("y" * 1000)) == 200


def test_unsafe_names_are_stored_sanitised_and_never_touch_the_storage_path(runtime):
    sender = signed_in_sender(runtime)
    created = push_files(
        runtime, sender, [("../../etc/passwd", b"root:x:0:0"), ("a\x00b\nc.txt", b"abc"), ("n" * 1000 + ".key", b"k")]
    )
    revealed = reveal_push(runtime, created.url_token, RECIPIENT, now=T0)
    names = [f.name for f in revealed.downloads.files]
    assert names[:2] == ["passwd", "abc.txt"]
    assert names[2].endswith(".key") and len(names[2].encode()) == 200
    root = runtime.settings.data_dir / "files"
    assert sorted(p.relative_to(root).as_posix() for p in blob_files(runtime)) == [
        f"{created.push.id}/{i}" for i in range(3)
    ]
    assert not (runtime.settings.data_dir.parent / "etc").exists()


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("text/plain; charset=utf-8", "text/plain"),
        ("Application/PDF", "application/pdf"),
        ("", "application/octet-stream"),
        (None, "application/octet-stream"),
        ("text/html\r\nX-Injected: 1", "application/octet-stream"),
        ("not a type", "application/octet-stream"),
        ("image/svg+xml", "image/svg+xml"),
    ],
)
def test_content_types_are_checked(raw, stored):
    assert sanitize_content_type(raw) == stored


def test_names_and_contents_are_not_on_disk_in_plaintext(runtime):
    name_canary = "CANARY-name-4b1d0e.txt"
    content_canary = b"CANARY-content-9c2f71-" * 5_000
    sender = signed_in_sender(runtime)
    created = push_files(runtime, sender, [(name_canary, content_canary)], payload="CANARY-text-77aa01")
    revealed = reveal_push(runtime, created.url_token, RECIPIENT, now=T0)
    assert revealed.downloads.files[0].name == name_canary
    scanned = 0
    for path in runtime.settings.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            scanned += 1
            for canary in (name_canary.encode(), content_canary[:22], b"CANARY-text-77aa01"):
                assert canary not in data, f"{canary!r} found in {path}"
    assert scanned >= 1
    rows = file_rows(runtime, created.push.id)
    assert name_canary.encode() not in bytes(rows[0]["name_sealed"])


def test_blobs_live_in_the_data_folder_with_private_modes(runtime):
    created = push_files(runtime, signed_in_sender(runtime), [("a.txt", b"abc")])
    (blob,) = blob_files(runtime)
    assert blob.parent == runtime.settings.data_dir / "files" / created.push.id
    assert blob.stat().st_mode & 0o077 == 0
    assert blob.parent.stat().st_mode & 0o077 == 0


def test_async_uploads_from_async_chunks(runtime):
    sender = signed_in_sender(runtime)
    first, second = os.urandom(2 * 1024 * 1024 + 3), b"plain text file\n"

    async def stream(data):
        for start in range(0, len(data), 64 * 1024):
            await asyncio.sleep(0)
            yield data[start : start + 64 * 1024]

    created = asyncio.run(
        create_file_push_async(
            runtime,
            NewPush(kind="file"),
            [IncomingFile("big.bin", "application/octet-stream", stream(first)), IncomingFile("t.txt", "text/plain", [second])],
            sender,
            now=T0,
        )
    )
    revealed = reveal_push(runtime, created.url_token, RECIPIENT, now=T0)
    assert sha256(download(runtime, revealed.downloads.grant, 0)[2]) == sha256(first)
    assert download(runtime, revealed.downloads.grant, 1) == ("t.txt", "text/plain", second)


def test_async_upload_over_the_limit_leaves_nothing(make_runtime):
    runtime = make_runtime(PWPUSH_FILES_MAX_BYTES="500000")
    sender = signed_in_sender(runtime)
    before = row_counts(runtime)

    consumed = []

    async def stream():
        for _ in range(1000):
            consumed.append(100_000)
            yield b"z" * 100_000

    with pytest.raises(InvalidPush, match="too large"):
        asyncio.run(create_file_push_async(runtime, NewPush(kind="file"), [IncomingFile("z", "", stream())], sender))
    assert sum(consumed) == 600_000  # stopped at the first piece over the limit
    assert row_counts(runtime) == before and blob_files(runtime) == []


def test_an_upload_that_breaks_while_a_batch_is_being_written_leaves_nothing(runtime):
    """One batch is sealed and written in a thread while the next is read: a stream that
    fails meanwhile must still leave no blob, no partial file and no row behind."""
    sender = signed_in_sender(runtime)
    before = row_counts(runtime)

    async def stream():
        for _ in range(5):
            yield os.urandom(1024 * 1024)  # a whole batch each: one is in flight as the next comes
        raise ConnectionResetError("the client went away")

    unfinished = []  # work left running behind the abort (a write in a thread, its error unseen)

    async def upload():
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: unfinished.append(context))
        await create_file_push_async(runtime, NewPush(kind="file"), [IncomingFile("big.bin", "", stream())], sender)

    with pytest.raises(ConnectionResetError):
        asyncio.run(upload())
    gc.collect()
    assert unfinished == []
    assert row_counts(runtime) == before and blob_files(runtime) == []
    assert [p for p in (runtime.settings.data_dir / "files").rglob("*") if p.is_file()] == []


def test_async_doors_refuse_anonymous_senders_before_reading(runtime):
    read = []

    async def stream():
        read.append(1)
        yield b"data"

    with pytest.raises(LoginRequired):
        asyncio.run(create_file_push_async(runtime, NewPush(kind="file"), [IncomingFile("a", "", stream())], ANONYMOUS))
    with pytest.raises(LoginRequired):
        asyncio.run(create_file_push_from_chunks(runtime, NewPush(kind="file"), stream(), ANONYMOUS))
    assert read == [] and blob_files(runtime) == []


@dataclass(frozen=True)
class UploadChunk:
    """The shape of Reflex's rx.UploadChunk (filename, offset, content_type, data)."""

    filename: str
    offset: int
    content_type: str
    data: bytes


def test_uploads_in_reflex_chunk_form(runtime):
    sender = signed_in_sender(runtime)
    a, b = os.urandom(300_000), b"second"

    async def chunks():
        for name, data, ctype in (("a.bin", a, "application/octet-stream"), ("a.bin", b, "text/plain")):
            for offset in range(0, len(data), 100_000):
                yield UploadChunk(name, offset, ctype, data[offset : offset + 100_000])

    created = asyncio.run(create_file_push_from_chunks(runtime, NewPush(kind="file"), chunks(), sender, now=T0))
    revealed = reveal_push(runtime, created.url_token, RECIPIENT, now=T0)
    assert [(f.name, f.size) for f in revealed.downloads.files] == [("a.bin", 300_000), ("a.bin", 6)]
    assert download(runtime, revealed.downloads.grant, 0)[2] == a
    assert download(runtime, revealed.downloads.grant, 1)[2] == b


@pytest.mark.parametrize(
    "name, header",
    [
        ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
        ("résumé 2026.pdf", "attachment; filename=\"r_sum_ 2026.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.pdf"),
        ('a"b\r\nSet-Cookie: x=1', "attachment; filename=\"a_bSet-Cookie_ x=1\"; filename*=UTF-8''a_bSet-Cookie_%20x%3D1"),
        ("100%.txt", "attachment; filename=\"100_.txt\"; filename*=UTF-8''100%25.txt"),
    ],
)
def test_download_names_make_safe_headers(name, header):
    assert content_disposition(name) == header
