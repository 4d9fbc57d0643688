"""One canary scan over everything the production server writes, after a scenario of every
kind of push; then, after expiry and `python -m pwpush_app purge`, no ciphertext is left.

Scanned: the data folder (database, -wal, -shm, files/, the server's log), Reflex's
`.states/` and `uploaded_files/` in the project folder if they exist, and the server's
temp folder (the server runs with TMPDIR pointing at a folder of the test).  Every value
is looked for in UTF-8 and UTF-16, in 32-byte slices (SQLite splits big values).
"""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
import sys

import httpx
import pytest

from tests.api.test_live import issue_token
from tests.servers import ROOT, LiveServer, free_port

from .support import encodings, files_in, hits, pieces


def canary(what: str) -> str:
    return f"CANARY-{what}-{secrets.token_hex(16)}"


@pytest.fixture
def scanned_server(tmp_path):
    temp = tmp_path / "server-tmp"
    temp.mkdir()
    server = LiveServer(tmp_path / "data", free_port(), {"TMPDIR": str(temp), "PWP__FILES__REQUIRE_LOGIN": "true"})
    server.start()
    server.temp_dir = temp
    yield server
    server.stop()


def everything_written(server) -> dict[str, bytes]:
    return files_in(server.data_dir, server.temp_dir, server.app_dir / ".states", server.app_dir / "uploaded_files")


def needles_for(values: dict[str, str | bytes]) -> dict[str, bytes]:
    needles = {}
    for what, value in values.items():
        blobs = encodings(value) if isinstance(value, str) else {"raw": value}
        for encoding, blob in blobs.items():
            for n, piece in enumerate(pieces(blob)):
                needles[f"{what} ({encoding}) [{n}]"] = piece
    return needles


def sealed_values(db_path) -> dict[str, bytes]:
    """The ciphertext the database holds now (read before expiry), and the blob files."""
    found = {}
    with sqlite3.connect(db_path) as db:
        for push_id, *columns in db.execute(
            "SELECT id, wrapped_key, payload_sealed, note_sealed, link_sealed, passphrase_hash FROM push"
        ):
            for name, value in zip(("wrapped_key", "payload", "note", "link", "passphrase_hash"), columns):
                if value:
                    found[f"{push_id} {name}"] = value.encode() if isinstance(value, str) else value
        for file_id, name_sealed in db.execute("SELECT id, name_sealed FROM push_file"):
            found[f"file {file_id} name"] = name_sealed
    return found


def test_no_plaintext_anywhere_and_no_ciphertext_after_expiry_and_purge(scanned_server):
    server = scanned_server
    owner = {"Authorization": f"Bearer {issue_token(server, 'canary-owner@example.com')}"}
    secret = {
        "text": canary("text"), "text note": canary("note"), "passphrase": canary("passphrase"),
        "wrong passphrase": canary("wrong-passphrase"), "url": f"https://example.com/{canary('url')}",
        "qr": canary("qr"), "file text": canary("file-text"), "file note": canary("file-note"),
        "file name": canary("file-name") + ".txt", "file contents": canary("file-contents") * 8000,  # ~400 KB
    }
    links: dict[str, str] = {}
    with httpx.Client(base_url=server.url, timeout=60, headers=owner) as api:
        def create(**push):
            response = api.post("/api/v2/pushes", json={"push": {"expire_after_views": 3, **push}})
            assert response.status_code == 201, response.text
            return response.json()

        text = create(payload=secret["text"], note=secret["text note"], passphrase=secret["passphrase"])
        url = create(payload=secret["url"], kind="url")
        qr = create(payload=secret["qr"], kind="qr")
        uploaded = api.post("/api/v2/pushes", data={"push[payload]": secret["file text"], "push[note]": secret["file note"],
                                                    "push[expire_after_views]": "3"},
                            files={"push[files][]": (secret["file name"], secret["file contents"].encode(), "text/plain")})
        assert uploaded.status_code == 201, uploaded.text
        pushes = {"text": text, "url": url, "qr": qr, "file": uploaded.json()}
        for kind, push in pushes.items():
            links[f"{kind} link"] = push["url_token"]
            links[f"{kind} manage link"] = push["manage_url"].rsplit("/", 1)[-1]

        # Every kind revealed once; a wrong passphrase first; the file downloaded.
        assert api.get(f"/api/v2/pushes/{text['url_token']}", params={"passphrase": secret["wrong passphrase"]}).status_code == 401
        assert api.get(f"/api/v2/pushes/{text['url_token']}", params={"passphrase": secret["passphrase"]}).json()["payload"] == secret["text"]
        assert api.get(f"/api/v2/pushes/{url['url_token']}").json()["payload"] == secret["url"]
        assert api.get(f"/api/v2/pushes/{qr['url_token']}").json()["payload"] == secret["qr"]
        shown = api.get(f"/api/v2/pushes/{pushes['file']['url_token']}").json()
        assert shown["payload"] == secret["file text"]
        (download,) = shown["files"]
        assert download["filename"] == secret["file name"]
        assert httpx.get(download["url"], timeout=60).content == secret["file contents"].encode()
        # The owner reads the notes back (the audit page shows them).
        assert api.get(f"/api/v2/pushes/{text['url_token']}/audit").status_code == 200

        written = everything_written(server)
        assert any("pwpush.db" in name for name in written) and any("/files/" in name for name in written)
        assert "server.log" in " ".join(written)
        # Plaintext: zero hits.  Links are credentials too: not in the log, not on disk.
        plain_hits = hits(needles_for({**secret, **links}), written)
        assert plain_hits == []

        # Controls: the scan does find what is there (the sealed values), and a planted canary.
        sealed = sealed_values(server.data_dir / "pwpush.db")
        sealed |= {f"blob {p.name}": p.read_bytes() for p in (server.data_dir / "files").rglob("*") if p.is_file()}
        assert len(sealed) >= 4 * 4 and any(k.startswith("blob ") for k in sealed)
        assert all(hits({k: pieces(v)[0]}, written) for k, v in sealed.items())
        planted = canary("planted")
        (server.temp_dir / "planted.txt").write_text(f"log line with {planted} inside", encoding="utf-16-le")
        assert hits(needles_for({"planted": planted}), everything_written(server))

        # Expire everything (the owner), then the admin's purge command.
        for push in pushes.values():
            assert api.delete(f"/api/v2/pushes/{push['url_token']}").status_code == 200
    purge = subprocess.run([sys.executable, "-m", "pwpush_app", "purge"], cwd=ROOT, env=server.env,
                           capture_output=True, text=True, timeout=120)
    assert purge.returncode == 0, purge.stderr
    assert purge.stdout.startswith("Purged:")

    after = everything_written(server)
    assert hits(needles_for(sealed), after) == []
    assert hits(needles_for({**secret, **links}), after) == []
    assert not [p for p in (server.data_dir / "files").rglob("*") if p.is_file()]
    print(f"canary scan: {len(written)} files, {len(needles_for({**secret, **links}))} plaintext needles, "
          f"{len(sealed)} sealed values: 0 hits before expiry, 0 after purge")
