"""The local blob store: whole blobs or nothing, safe keys, idempotent deletes."""

from __future__ import annotations

import pytest

from pwpush_app.core.blobs import BlobNotFound, LocalBlobStore


@pytest.fixture
def store(tmp_path):
    return LocalBlobStore(tmp_path / "files")


def test_a_blob_is_visible_only_after_commit(store):
    writer = store.open_writer("abc123/0")
    writer.write(b"part one, ")
    writer.write(b"part two")
    assert not store.exists("abc123/0") and list(store.list()) == []
    writer.commit()
    assert store.exists("abc123/0") and store.size("abc123/0") == 18
    assert b"".join(store.read("abc123/0")) == b"part one, part two"
    assert [(b.key, b.size) for b in store.list()] == [("abc123/0", 18)]
    assert [b.key for b in store.list("zzz")] == []


def test_an_aborted_writer_leaves_nothing(store):
    writer = store.open_writer("abc123/1")
    writer.write(b"x" * 1000)
    writer.abort()
    writer.abort()
    assert not store.exists("abc123/1")
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_delete_is_idempotent_and_tidies_the_folder(store):
    writer = store.open_writer("abc123/0")
    writer.write(b"x")
    writer.commit()
    store.delete("abc123/0")
    store.delete("abc123/0")
    assert not (store.root / "abc123").exists()
    with pytest.raises(BlobNotFound):
        store.read("abc123/0")
    with pytest.raises(BlobNotFound):
        store.size("abc123/0")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/0", "a//b", "a/../b", "A/0", "a/0 ", "", "a\x00b", "a/.hidden", "x" * 201])
def test_unsafe_keys_are_refused(store, key):
    with pytest.raises(ValueError):
        store.open_writer(key)
    with pytest.raises(ValueError):
        store.delete(key)


def test_files_and_folders_are_private(store):
    writer = store.open_writer("abc123/0")
    writer.write(b"x")
    writer.commit()
    assert (store.root / "abc123" / "0").stat().st_mode & 0o077 == 0
    assert (store.root / "abc123").stat().st_mode & 0o077 == 0
    assert store.root.stat().st_mode & 0o077 == 0


def test_a_reader_keeps_reading_after_a_concurrent_delete(store):
    writer = store.open_writer("abc123/0")
    writer.write(b"y" * 600_000)
    writer.commit()
    chunks = store.read("abc123/0")
    store.delete("abc123/0")
    assert len(b"".join(chunks)) == 600_000
