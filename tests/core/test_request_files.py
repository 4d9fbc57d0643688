"""Requests answered with files (core/request_files.py), and the requester's mail opt-out:
the answer is a file push only the requester opens, under the file limits, one answer only,
and an upload that fails, is refused or loses the race leaves no blob behind and the
request as it was.  On SQLite and PostgreSQL, local disk and S3."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from pwpush_app.core import accounts
from pwpush_app.core.errors import InvalidPush, PushUnavailable
from pwpush_app.core.owners import audit_trail, owned_push
from pwpush_app.core.records import open_link_token
from pwpush_app.core.request_files import FileAnswerDraft, answer_with_chunks
from pwpush_app.core.requests import NewRequest, answer_request, create_request, request_landing, requests_of
from pwpush_app.core.reveal import reveal_push

from .common import ALICE, MALLORY, SENDER, T0, run_at_once
from .files_support import blob_files, download, row_counts, sha256
from .test_files import UploadChunk
from .test_plaintext_canary import assert_absent, encodings, files_under, pieces

pytestmark = pytest.mark.blob_backends
PASSWORD = "correct horse battery staple"


@pytest.fixture
def requester(runtime):
    user = accounts.sign_up(runtime, "asks-for-files@example.com", PASSWORD, now=T0)
    return SENDER.__class__(ip=SENDER.ip, user_agent=SENDER.user_agent, user_id=user.id)


def ask(runtime, requester, **fields):
    return create_request(runtime, NewRequest(message="Send me the key file", **fields), requester, now=T0)


def answer_files(runtime, token, files, payload="", passphrase="", client=ALICE, now=T0):
    with FileAnswerDraft(runtime, token, client, now=now) as draft:
        for name, data in files:
            draft.start_file(name, "application/octet-stream")
            for start in range(0, len(data), 50_000):
                draft.write(data[start:start + 50_000])
            draft.end_file()
        draft.commit_answer(payload, passphrase)


def the_answer(runtime, requester, now=T0):
    [listed] = requests_of(runtime, requester.user_id, now=now)
    assert listed.state == "answered"
    push = owned_push(runtime, requester.user_id, listed.answer_push_id)
    assert listed.answer_kind == push.kind  # the list says what the answer holds
    return owned_push(runtime, requester.user_id, listed.answer_push_id)


def test_a_file_answer_is_a_file_push_only_the_requester_opens(runtime, requester):
    made = ask(runtime, requester, answer_views=2, answer_minutes=120)
    key, notes = os.urandom(200_000), b"line one\n"
    answer_files(runtime, made.token, [("id_ed25519", key), ("notes.txt", notes)], payload="The key and its notes",
                 now=T0 + timedelta(minutes=3))

    push = the_answer(runtime, requester)
    assert (push.kind, push.owner_id, push.name) == ("file", requester.user_id, "Answer to your request")
    assert (push.expire_after_views, push.expires_at) == (2, T0 + timedelta(minutes=123))
    [creation] = audit_trail(runtime, push)
    assert (creation.kind, creation.ip, creation.user_id) == ("creation", ALICE.ip, None)
    revealed = reveal_push(runtime, open_link_token(runtime, push), requester, now=T0 + timedelta(minutes=4))
    assert revealed.payload == "The key and its notes"
    assert [(f.name, f.size) for f in revealed.downloads.files] == [("id_ed25519", len(key)), ("notes.txt", len(notes))]
    assert sha256(download(runtime, revealed.downloads.grant, 0)[2]) == sha256(key)
    assert download(runtime, revealed.downloads.grant, 1)[2] == notes

    # One answer: the link is used, for files and for text alike, and nothing more is stored.
    before = (row_counts(runtime), len(blob_files(runtime)))
    with pytest.raises(PushUnavailable):
        answer_files(runtime, made.token, [("again.txt", b"again")], client=MALLORY)
    with pytest.raises(PushUnavailable):
        answer_request(runtime, made.token, "text after files", MALLORY, now=T0)
    assert (row_counts(runtime), len(blob_files(runtime))) == before


def test_files_alone_are_an_answer_and_reflex_chunks_work(runtime, requester):
    made = ask(runtime, requester)
    data = os.urandom(250_000)

    async def chunks():
        for offset in range(0, len(data), 100_000):
            yield UploadChunk("backup.tar", offset, "application/x-tar", data[offset:offset + 100_000])

    asyncio.run(answer_with_chunks(runtime, made.token, chunks(), ALICE, now=T0))
    push = the_answer(runtime, requester)
    revealed = reveal_push(runtime, open_link_token(runtime, push), requester, now=T0)
    assert revealed.payload == "" and [f.name for f in revealed.downloads.files] == ["backup.tar"]
    assert download(runtime, revealed.downloads.grant, 0)[1:] == ("application/x-tar", data)


def _nothing_stored_and_still_open(runtime, made, before):
    assert row_counts(runtime) == before and blob_files(runtime) == []
    assert request_landing(runtime, made.token, now=T0).message == "Send me the key file"


def test_the_file_limits_hold_and_a_refused_upload_leaves_nothing(make_runtime):
    runtime = make_runtime(PWP__FILES__MAX_FILE_UPLOADS="2", PWPUSH_FILES_MAX_BYTES="100000")
    requester = SENDER.__class__(ip=SENDER.ip, user_id=accounts.sign_up(runtime, "limits@example.com", PASSWORD,
                                                                         now=T0).id)
    made = ask(runtime, requester)
    before = row_counts(runtime)
    for files, refusal in (
        ([("big.bin", os.urandom(100_001))], "too large"),
        ([("a", b"1"), ("b", b"2"), ("c", b"3")], "Too many files"),
        ([("a", b"1"), ("empty.txt", b"")], "is empty"),
        ([("ok.bin", b"fine"), ("big.bin", os.urandom(99_999))], "too large"),
    ):
        with pytest.raises(InvalidPush, match=refusal):
            answer_files(runtime, made.token, files)
        _nothing_stored_and_still_open(runtime, made, before)
    # A draft with no file, or an answer text the file kind refuses: nothing either.
    with pytest.raises(InvalidPush, match="at least one file"):
        answer_files(runtime, made.token, [])
    with pytest.raises(InvalidPush) as bad_text:
        answer_files(runtime, made.token, [("a.txt", b"a")], payload="\x00")
    assert "payload" in bad_text.value.errors
    _nothing_stored_and_still_open(runtime, made, before)
    # Exactly at the limits is fine.
    answer_files(runtime, made.token, [("a.bin", os.urandom(50_000)), ("b.bin", os.urandom(50_000))])
    assert the_answer(runtime, requester).kind == "file"


def test_a_broken_upload_leaves_nothing_and_the_request_open(runtime, requester):
    made = ask(runtime, requester)
    before = row_counts(runtime)
    with pytest.raises(ConnectionResetError):
        with FileAnswerDraft(runtime, made.token, ALICE, now=T0) as draft:
            draft.start_file("first.bin")
            draft.write(os.urandom(300_000))
            draft.end_file()
            draft.start_file("second.bin")
            draft.write(os.urandom(100_000))
            raise ConnectionResetError("the answerer's connection dropped")
    _nothing_stored_and_still_open(runtime, made, before)
    answer_files(runtime, made.token, [("retry.bin", b"the second try works")])
    assert the_answer(runtime, requester).kind == "file"


def test_wrong_expired_and_switched_off_links_take_no_upload(make_runtime):
    runtime = make_runtime()
    requester = SENDER.__class__(ip=SENDER.ip, user_id=accounts.sign_up(runtime, "late@example.com", PASSWORD,
                                                                         now=T0).id)
    made = ask(runtime, requester, expire_after_minutes=30)
    for token, now in (("AAAAAAAAAAAAAAAAAAAAAA", T0), ("../../etc/passwd", T0), (made.token, T0 + timedelta(minutes=30))):
        with pytest.raises(PushUnavailable):
            FileAnswerDraft(runtime, token, ALICE, now=now)
    assert blob_files(runtime) == [] and row_counts(runtime)["push"] == 0


def test_where_file_pushes_are_off_an_answer_is_text(make_runtime):
    off = make_runtime(PWP__ENABLE_FILE_PUSHES="false")
    requester = SENDER.__class__(ip=SENDER.ip, user_id=accounts.sign_up(off, "text@example.com", PASSWORD, now=T0).id)
    made = ask(off, requester)
    with pytest.raises(InvalidPush, match="doesn't take files"):
        FileAnswerDraft(off, made.token, ALICE, now=T0)
    answer_request(off, made.token, "text is fine", ALICE, now=T0)
    assert the_answer(off, requester).kind == "text"


def test_of_uploads_at_once_exactly_one_lands_and_the_others_leave_no_blob(runtime, requester):
    made = ask(runtime, requester)
    outcomes = []

    def answer(number: int) -> None:
        try:
            answer_files(runtime, made.token, [(f"file-{number}.bin", os.urandom(70_000) + bytes([number]))])
            outcomes.append(("won", number))
        except PushUnavailable:
            outcomes.append(("refused", number))

    run_at_once(answer, range(6))
    assert sorted(o[0] for o in outcomes) == ["refused"] * 5 + ["won"]
    [winner] = [number for outcome, number in outcomes if outcome == "won"]
    assert row_counts(runtime)["push"] == 1 and row_counts(runtime)["push_file"] == 1
    assert len(blob_files(runtime)) == 1
    revealed = reveal_push(runtime, open_link_token(runtime, the_answer(runtime, requester)), requester, now=T0)
    assert [f.name for f in revealed.downloads.files] == [f"file-{winner}.bin"]


def test_a_file_answers_plaintext_is_nowhere_at_rest(runtime, requester):
    started = time.time() - 1
    made = ask(runtime, requester)
    canary = f"CANARY-file-answer-{secrets.token_hex(16)}"
    name = f"CANARY-name-{secrets.token_hex(8)}.txt"
    text_canary = f"CANARY-text-{secrets.token_hex(16)}"
    content = (canary + "\n").encode() * 2000 + os.urandom(64_000)
    answer_files(runtime, made.token, [(name, content)], payload=text_canary)
    needles = {f"{what} {i}": blob for what, value in (("content", canary), ("name", name), ("text", text_canary))
               for i, blob in enumerate(encodings(value))}
    needles.update({f"random content {i}": piece for i, piece in enumerate(pieces(content[-64_000:]))})
    haystacks = files_under(runtime.settings.data_dir, started)
    haystacks.update({f"blob {blob}": blob.read_bytes() for blob in blob_files(runtime)})
    with runtime.engine.connect() as connection:
        for table in ("push", "push_file", "secret_request", "audit_event"):
            haystacks[table] = repr([tuple(r) for r in connection.execute(text(f"SELECT * FROM {table}"))]).encode()
    assert_absent(needles, haystacks)
    # And yet it is all there for the requester.
    revealed = reveal_push(runtime, open_link_token(runtime, the_answer(runtime, requester)), requester, now=T0)
    assert revealed.payload == text_canary and download(runtime, revealed.downloads.grant, 0)[2] == content


def test_the_mail_opt_out_is_kept_per_request_and_checked(runtime, requester):
    assert ask(runtime, requester).request.notify_by_email is True
    assert ask(runtime, requester, notify_by_email=False).request.notify_by_email is False
    with pytest.raises(InvalidPush) as refused:
        ask(runtime, requester, notify_by_email="no")
    assert refused.value.errors == {"notify_by_email": "notify_by_email must be true or false."}
    assert sorted(view.notify_by_email for view in requests_of(runtime, requester.user_id, now=T0)) == [False, True]
