"""Download all (issue 24, item 6): every file in one zip streamed as it is built, and how a
last view's "once each" counts it; a download cut short gives the file back."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import timedelta

import pytest

from pwpush_app.core.errors import AlreadyDownloaded, DownloadUnavailable
from pwpush_app.core.file_downloads import open_file_download
from pwpush_app.core.file_zip import BATCH_BYTES, open_zip_download
from pwpush_app.core.reveal import reveal_push
from tests.core.files_support import RECIPIENT, T0, blob_files, download, push_files, signed_in_sender

pytestmark = pytest.mark.blob_backends

FILES = [("report.pdf", os.urandom(300_000)), ("notes.txt", b"the notes\n"), ("report.pdf", b"same name, other file")]


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_every_file_in_one_zip_while_views_are_left(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=3)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    zipped = open_zip_download(runtime, grant, now=T0)
    assert zipped.file_count == 3 and zipped.name == "files.zip"
    assert unzip(b"".join(zipped.chunks)) == {"report.pdf": FILES[0][1], "notes.txt": FILES[1][1],
                                              "report (2).pdf": FILES[2][1]}
    # Not a last view: as often as the window allows, and single files still work.
    assert len(unzip(b"".join(open_zip_download(runtime, grant, now=T0).chunks))) == 3
    assert download(runtime, grant, 1, now=T0)[2] == FILES[1][1]
    with pytest.raises(DownloadUnavailable):
        open_zip_download(runtime, grant, now=T0 + timedelta(minutes=10))
    with pytest.raises(DownloadUnavailable):
        open_zip_download(runtime, "not-a-real-grant-AAAAAAAAAA", now=T0)


def test_the_zip_is_never_whole_in_memory(runtime):
    big = [("big.bin", os.urandom(5 * BATCH_BYTES))]
    created = push_files(runtime, signed_in_sender(runtime), big)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    pieces = list(open_zip_download(runtime, grant, now=T0).chunks)
    assert len(pieces) >= 5 and max(len(p) for p in pieces) < 2 * BATCH_BYTES
    assert unzip(b"".join(pieces)) == {"big.bin": big[0][1]}


def test_after_the_last_view_the_zip_is_each_file_s_one_download(runtime):
    created = push_files(runtime, signed_in_sender(runtime), FILES, expire_after_views=1)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    # One file taken on its own first: the zip holds the others.
    assert download(runtime, grant, 1, now=T0)[2] == FILES[1][1]
    assert set(unzip(b"".join(open_zip_download(runtime, grant, now=T0).chunks))) == {"report.pdf", "report (2).pdf"}
    with pytest.raises(AlreadyDownloaded):
        open_zip_download(runtime, grant, now=T0)
    for index in (0, 2):
        with pytest.raises(AlreadyDownloaded):
            open_file_download(runtime, grant, index, RECIPIENT, now=T0)
    assert blob_files(runtime) == []  # each deleted once its download completed


def test_a_zip_cut_short_gives_every_file_back(runtime):
    created = push_files(runtime, signed_in_sender(runtime), [("a.bin", os.urandom(3 * BATCH_BYTES)), ("b.txt", b"b")],
                         expire_after_views=1)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    zipped = open_zip_download(runtime, grant, now=T0)
    next(zipped.chunks)  # the connection drops after the first batch
    zipped.close()
    # Nothing was lost: the zip again, whole.
    assert set(unzip(b"".join(open_zip_download(runtime, grant, now=T0).chunks))) == {"a.bin", "b.txt"}


def test_a_single_download_cut_short_can_be_tried_again(runtime):
    data = os.urandom(3 * 1024 * 1024)
    created = push_files(runtime, signed_in_sender(runtime), [("key.bin", data)], expire_after_views=1)
    grant = reveal_push(runtime, created.url_token, RECIPIENT, now=T0).downloads.grant
    opened = open_file_download(runtime, grant, 0, RECIPIENT, now=T0)
    next(opened.chunks)
    opened.close()  # a phone's download interrupted
    assert len(blob_files(runtime)) == 1
    assert download(runtime, grant, 0, now=T0)[2] == data  # the one complete download
    with pytest.raises(AlreadyDownloaded):
        download(runtime, grant, 0, now=T0)
    assert blob_files(runtime) == []
