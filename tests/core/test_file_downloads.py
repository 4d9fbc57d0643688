"""Downloading a file push: grants from reveals, the last viewer's window, expiry deletes blobs."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.crypto import DecryptionError, new_token
from pwpush_app.core.errors import AlreadyDownloaded, DownloadUnavailable, PushUnavailable
from pwpush_app.core.file_downloads import delete_released_blobs, open_file_download, sweep_orphan_blobs
from pwpush_app.core.owners import expire_by_owner
from pwpush_app.core.purge import purge_expired
from pwpush_app.core.reveal import expire_by_viewer, reveal_push
from tests.core.common import run_at_once
from tests.core.files_support import (
    RECIPIENT,
    T0,
    blob_files,
    download,
    file_rows,
    push_files,
    row_counts,
    sha256,
    signed_in_sender,
)

# Every test here runs on the local store and on S3 (moto_server), except those that
# reach into the data folder.
pytestmark = pytest.mark.blob_backends

GRACE = timedelta(minutes=10)  # the default PWPUSH_FILES_GRACE_MINUTES
FILES = [("id_ed25519", b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n"), ("config", b"Host prod\n")]


def views_remaining(runtime, push_id):
    with runtime.engine.connect() as connection:
        return connection.execute(text("SELECT views_remaining FROM push WHERE id = :id"), {"id": push_id}).scalar_one()


def test_downloading_consumes_no_view_and_a_view_can_download_again(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=3)
    revealed = reveal_push(runtime, created.url_token, RECIPIENT, now=T0)
    assert not revealed.downloads.once_each
    assert revealed.downloads.until == T0 + GRACE
    for attempt in range(3):
        assert download(runtime, revealed.downloads.grant, 0, now=T0 + timedelta(minutes=attempt))[2] == FILES[0][1]
    assert views_remaining(runtime, created.push.id) == 2


def test_a_view_s_grant_ends_with_its_window(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=3)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    with pytest.raises(DownloadUnavailable):
        download(runtime, grant, 0, now=T0 + GRACE)
    # The files are still there for the next view.
    again = reveal_push(runtime, created.url_token, RECIPIENT, now=T0 + GRACE)
    assert download(runtime, again.downloads.grant, 1, now=T0 + GRACE)[2] == FILES[1][1]


def test_a_grant_ends_when_the_push_s_time_runs_out_before_any_purge(runtime):
    # Two guards, each covering for the other: the grant never outlives the push, and a
    # download checks that the push is still live.  (A mutation run removed both: nothing failed.)
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=3, expire_after_minutes=5)
    revealed = reveal_push(runtime, created.url_token, RECIPIENT, now=T0 + timedelta(minutes=1))
    assert revealed.downloads.until == T0 + timedelta(minutes=5)  # not the 10-minute window
    assert download(runtime, revealed.downloads.grant, 0, now=T0 + timedelta(minutes=4))[2] == FILES[0][1]
    # Past the push's time, the purge not yet run: the blobs are still stored, but refused.
    assert len(blob_files(runtime)) == 2
    with pytest.raises(DownloadUnavailable):
        download(runtime, revealed.downloads.grant, 0, now=T0 + timedelta(minutes=6))


def test_no_download_without_a_real_grant(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    for bad_grant in (new_token(), created.url_token, created.manage_token, "", "../../etc", "x" * 500, None):
        with pytest.raises(DownloadUnavailable):
            open_file_download(runtime, bad_grant, 0, RECIPIENT, now=T0)
    for bad_index in (2, -1, 99, "0", None, True, 0.0):
        with pytest.raises(DownloadUnavailable):
            open_file_download(runtime, grant, bad_index, RECIPIENT, now=T0)


def test_the_last_viewer_downloads_each_file_once_within_the_window(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=1)
    revealed = reveal_push(runtime, created.url_token, RECIPIENT, now=T0)
    assert revealed.push.expired and revealed.push.expired_reason == "views"
    assert revealed.downloads.once_each and revealed.downloads.until == T0 + GRACE
    assert [f.name for f in revealed.downloads.files] == ["id_ed25519", "config"]
    grant = revealed.downloads.grant

    with pytest.raises(PushUnavailable):
        reveal_push(runtime, created.url_token, RECIPIENT, now=T0)

    later = T0 + timedelta(minutes=3)
    assert download(runtime, grant, 0, now=later) == ("id_ed25519", "application/octet-stream", FILES[0][1])
    with pytest.raises(AlreadyDownloaded, match="already downloaded"):
        download(runtime, grant, 0, now=later)
    # A completed last download deletes its blob at once; the other file waits for its download.
    assert [r["blob_deleted"] for r in file_rows(runtime, created.push.id)] == [True, False]
    assert len(blob_files(runtime)) == 1

    # Not downloaded in time: after the window the grant is dead and the purge deletes the blob.
    after = T0 + GRACE + timedelta(seconds=1)
    with pytest.raises(DownloadUnavailable):
        download(runtime, grant, 1, now=after)
    purge_expired(runtime, now=after)
    assert blob_files(runtime) == []
    rows = file_rows(runtime, created.push.id)
    assert all(r["blob_deleted"] and r["name_sealed"] is None for r in rows)
    assert row_counts(runtime)["download_grant"] == 0


def test_the_purge_keeps_the_last_viewer_s_files_until_the_window_ends(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=1)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    purge_expired(runtime, now=T0 + timedelta(minutes=9))
    assert len(blob_files(runtime)) == 2
    assert download(runtime, grant, 1, now=T0 + timedelta(minutes=9, seconds=59))[2] == FILES[1][1]


def test_an_interrupted_last_download_is_given_back_until_the_window_ends(runtime):
    # Issue 24, item 6: "once" means one complete download; a phone losing its connection
    # half-way may try again within the window (tests/core/test_file_zip.py has the retry).
    created = push_files(runtime, signed_in_sender(runtime), [("big.bin", os.urandom(1024 * 1024))], expire_after_views=1)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    opened = open_file_download(runtime, grant, 0, RECIPIENT, now=T0)
    next(opened.chunks)
    opened.close()  # the connection dropped
    retry = open_file_download(runtime, grant, 0, RECIPIENT, now=T0)
    retry.close()
    # Nobody finished it: the purge still deletes it when the window ends.
    purge_expired(runtime, now=T0 + GRACE)
    assert blob_files(runtime) == []
    with pytest.raises(DownloadUnavailable):
        open_file_download(runtime, grant, 0, RECIPIENT, now=T0 + GRACE)


def test_parallel_last_downloads_of_one_file_succeed_once(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=1)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    outcomes = []
    barrier = threading.Barrier(8)

    def attempt(_attempt):
        barrier.wait()
        try:
            outcomes.append(download(runtime, grant, 0, now=T0)[2])
        except AlreadyDownloaded:
            outcomes.append("refused")

    run_at_once(attempt, range(8))
    assert sorted(outcomes, key=str) == [FILES[0][1]] + ["refused"] * 7


def test_an_earlier_viewer_s_grant_ends_when_the_last_view_is_taken(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=2)
    first = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    last = reveal_push(runtime, created.url_token, Client(ip="198.51.100.2"), now=T0).downloads.grant
    with pytest.raises(DownloadUnavailable):
        download(runtime, first, 0, now=T0)
    assert download(runtime, last, 0, now=T0)[2] == FILES[0][1]


def test_expiry_by_the_owner_deletes_the_blobs_at_once(runtime):
    sender = signed_in_sender(runtime)
    created = push_files(runtime, sender, FILES, expire_after_views=5)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    assert len(blob_files(runtime)) == 2
    expire_by_owner(runtime, created.push, sender, now=T0 + timedelta(minutes=1))
    assert blob_files(runtime) == []
    assert all(r["blob_deleted"] and r["name_sealed"] is None for r in file_rows(runtime, created.push.id))
    assert row_counts(runtime)["download_grant"] == 0
    with pytest.raises(DownloadUnavailable):
        download(runtime, grant, 0, now=T0 + timedelta(minutes=1))


def test_expiry_by_the_viewer_deletes_the_blobs_at_once(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=5)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    expire_by_viewer(runtime, created.url_token, RECIPIENT, now=T0)
    assert blob_files(runtime) == []
    with pytest.raises(DownloadUnavailable):
        download(runtime, grant, 1, now=T0)


def test_expiry_by_time_deletes_the_blobs_at_the_next_access_or_purge(runtime):
    sender = signed_in_sender(runtime)
    at_access = push_files(runtime, sender, FILES, expire_after_minutes=60)
    by_purge = push_files(runtime, sender, FILES, expire_after_minutes=60)
    assert len(blob_files(runtime)) == 4
    late = T0 + timedelta(minutes=61)
    with pytest.raises(PushUnavailable):
        reveal_push(runtime, at_access.url_token, RECIPIENT, now=late)
    assert {p.parent.name for p in blob_files(runtime)} == {by_purge.push.id}
    assert purge_expired(runtime, now=late) == 1
    assert blob_files(runtime) == []


def test_deleting_released_blobs_is_idempotent_across_workers(make_runtime):
    runtime = make_runtime()
    sender = signed_in_sender(runtime)
    for _ in range(6):
        created = push_files(runtime, sender, FILES, expire_after_views=1)
        reveal_push(runtime, created.url_token, RECIPIENT, now=T0)  # the last view: files kept for the window
    assert len(blob_files(runtime)) == 12
    after = T0 + GRACE
    # Several workers (each with its own engine over the same data) delete at once.
    workers = [make_runtime() for _ in range(2)] + [runtime] * 2
    errors, deleted = [], []
    barrier = threading.Barrier(len(workers))

    def run(worker_runtime):
        barrier.wait()
        try:
            deleted.append(delete_released_blobs(worker_runtime, now=after))
        except Exception as error:  # noqa: BLE001 - the assertion below reports it
            errors.append(error)

    run_at_once(run, workers)
    assert errors == [] and blob_files(runtime) == []
    assert sum(deleted) >= 12
    assert delete_released_blobs(runtime, now=after) == 0
    assert row_counts(runtime)["download_grant"] == 0


def test_a_flipped_byte_in_a_stored_blob_fails_to_download(runtime):
    data = os.urandom(200_000)
    created = push_files(runtime, signed_in_sender(runtime), [("a.bin", data)], expire_after_views=5)
    (blob,) = blob_files(runtime)
    damaged = bytearray(blob.read_bytes())
    damaged[-5] ^= 0x01  # inside the last record
    blob.write_bytes(bytes(damaged))
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    opened = open_file_download(runtime, grant, 0, RECIPIENT, now=T0)
    received = bytearray()
    with pytest.raises(DecryptionError):
        for chunk in opened.chunks:
            received += chunk
    assert len(received) < len(data) and data.startswith(bytes(received))


def test_a_truncated_blob_is_refused_before_any_byte(runtime):
    data = os.urandom(3 * 64 * 1024)
    created = push_files(runtime, signed_in_sender(runtime), [("a.bin", data)], expire_after_views=5)
    (blob,) = blob_files(runtime)
    blob.write_bytes(blob.read_bytes()[: 1 + 2 * (64 * 1024 + 28)])  # the last record dropped
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    with pytest.raises(DecryptionError, match="wrong size"):
        open_file_download(runtime, grant, 0, RECIPIENT, now=T0)


def test_swapped_records_in_a_stored_blob_fail(runtime):
    data = os.urandom(3 * 64 * 1024)
    created = push_files(runtime, signed_in_sender(runtime), [("a.bin", data)], expire_after_views=5)
    (blob,) = blob_files(runtime)
    sealed = blob.read_bytes()
    record = 64 * 1024 + 28
    parts = [sealed[1 + i * record : 1 + (i + 1) * record] for i in range(3)]
    blob.write_bytes(sealed[:1] + parts[1] + parts[0] + parts[2])
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    opened = open_file_download(runtime, grant, 0, RECIPIENT, now=T0)
    with pytest.raises(DecryptionError):
        next(opened.chunks)


@pytest.mark.local_blobs_only
def test_a_blob_copied_from_another_push_or_file_fails(runtime):
    sender = signed_in_sender(runtime)
    victim = push_files(runtime, sender, [("secret.txt", b"victim's secret")], expire_after_views=5)
    attacker = push_files(runtime, sender, [("one.txt", b"attacker 1"), ("two.txt", b"attacker 2")], expire_after_views=5)
    root = runtime.settings.data_dir / "files"
    # Someone with write access to the storage moves the victim's blob into their own push
    # (same size, so only the cryptography can tell) ...
    victim_blob = root / victim.push.id / "0"
    shutil.copyfile(victim_blob, root / attacker.push.id / "0")
    grant = reveal_push(runtime, attacker.url_token, RECIPIENT, now=T0).downloads.grant
    with pytest.raises(DecryptionError):
        b"".join(open_file_download(runtime, grant, 0, RECIPIENT, now=T0).chunks)
    # ... or swaps two files of one push.
    second = root / attacker.push.id / "1"
    shutil.copyfile(second, root / attacker.push.id / "0")
    with pytest.raises(DecryptionError):
        b"".join(open_file_download(runtime, grant, 0, RECIPIENT, now=T0).chunks)
    # The victim's file is untouched.
    victim_grant = reveal_push(runtime, victim.url_token, RECIPIENT, now=T0).downloads.grant
    assert download(runtime, victim_grant, 0)[2] == b"victim's secret"


def test_a_deleted_blob_answers_download_unavailable(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=5)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    runtime.blobs.delete(f"{created.push.id}/1")
    with pytest.raises(DownloadUnavailable):
        download(runtime, grant, 1, now=T0)


@pytest.mark.local_blobs_only
def test_orphan_blobs_from_dead_uploads_are_swept_and_live_ones_kept(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=5)
    writer = runtime.blobs.open_writer("deadbeef" * 4 + "/0")
    writer.write(b"\x02sealed bytes of an upload whose push was never stored")
    writer.commit()
    dying = runtime.blobs.open_writer("cafebabe" * 4 + "/0")
    dying.write(b"half an upload")  # never committed nor aborted: the process died
    assert len(blob_files(runtime)) == 4
    # Too young: an upload may still be in progress.
    assert sweep_orphan_blobs(runtime) == 0
    assert sweep_orphan_blobs(runtime, older_than=timedelta(seconds=-1)) == 2
    assert sorted(p.name for p in blob_files(runtime)) == ["0", "1"]
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    assert sha256(download(runtime, grant, 1, now=T0)[2]) == sha256(FILES[1][1])


@pytest.mark.local_blobs_only
def test_the_purge_job_sweeps_old_orphan_blobs(runtime):
    from pwpush_app.jobs import purge_once

    # The job reads the real clock: a push made now is live for it.
    created = push_files(runtime, signed_in_sender(runtime), FILES, now=utcnow(), expire_after_views=5)
    writer = runtime.blobs.open_writer("0123abcd" * 4 + "/0")
    writer.write(b"\x02left by a crash")
    writer.commit()
    orphan = runtime.settings.data_dir / "files" / ("0123abcd" * 4) / "0"
    two_days_ago = orphan.stat().st_mtime - 2 * 24 * 3600
    os.utime(orphan, (two_days_ago, two_days_ago))
    assert purge_once(runtime, "worker-1") == 0
    assert not orphan.exists()
    assert {p.parent.name for p in blob_files(runtime)} == {created.push.id}


def test_the_retention_purge_removes_file_records_after_their_blobs(make_runtime):
    runtime = make_runtime(PWP__PURGE_AFTER_DAYS="1")
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=1)
    reveal_push(runtime, created.url_token, RECIPIENT, now=T0)  # the last view; files kept for the window
    purge_expired(runtime, now=T0 + timedelta(days=2))
    assert blob_files(runtime) == []
    counts = row_counts(runtime)
    assert (counts["push"], counts["push_file"], counts["download_grant"]) == (0, 0, 0)


def test_a_passphrase_guards_the_file_list_and_the_grant(runtime):
    from pwpush_app.core.errors import PassphraseRequired, WrongPassphrase
    from pwpush_app.core.reveal import landing

    created = push_files(runtime, signed_in_sender(runtime), FILES, passphrase="open sesame", expire_after_views=2)
    seen = landing(runtime, created.url_token, now=T0)
    assert (seen.kind, seen.needs_passphrase) == ("file", True)
    assert not hasattr(seen, "downloads")
    with pytest.raises(PassphraseRequired):
        reveal_push(runtime, created.url_token, RECIPIENT, now=T0)
    with pytest.raises(WrongPassphrase):
        reveal_push(runtime, created.url_token, RECIPIENT, passphrase="guess", now=T0)
    assert row_counts(runtime)["download_grant"] == 0
    revealed = reveal_push(runtime, created.url_token, RECIPIENT, passphrase="open sesame", now=T0)
    assert download(runtime, revealed.downloads.grant, 0)[2] == FILES[0][1]


def test_text_and_url_pushes_have_no_downloads(runtime):
    from pwpush_app.core.create import NewPush, create_push

    created = create_push(runtime, NewPush(payload="just text"), signed_in_sender(runtime), now=T0)
    assert reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads is None
