"""The reference client for end-to-end pushes (issue 20): encrypt for the API, decrypt from it.

    python -m pwpush_app.e2e_client push https://secrets.example.com [--passphrase P] [--token T] < secret.txt
    python -m pwpush_app.e2e_client get 'https://secrets.example.com/p/<token>#<key>' [--passphrase P]
    python -m pwpush_app.e2e_client push-files https://secrets.example.com FILE... [--message M] [--passphrase P] [--token T]
    python -m pwpush_app.e2e_client get-files 'https://secrets.example.com/p/<token>#<key>' --to FOLDER [--passphrase P]

`push` encrypts standard input in this process (core/e2e.py: AES-256-GCM under a random key,
with a passphrase also PBKDF2-SHA-256), sends only the envelope (`end_to_end: true`) and
prints the link with the key after '#': the server never sees the key or the passphrase.
`get` sends the link without its fragment, takes a view and prints the text.
`push-files` encrypts each file, its name and type included, while it streams up
(core/e2e_files.py); `get-files` takes a view, downloads and decrypts each file as it
streams into FOLDER under its real name (made safe), and prints the message if there is one.
The formats are documented in docs/api.md, for clients in other languages.
"""

from __future__ import annotations

import argparse
import mimetypes
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from pwpush_app.core import e2e, e2e_files
from pwpush_app.core.crypto import DecryptionError
from pwpush_app.core.file_names import sanitize_file_name


def push(client: httpx.Client, base_url: str, text: str, passphrase: str = "", **fields) -> str:
    """Encrypt `text`, create the push, return its full link (key in the fragment)."""
    envelope, key = e2e.encrypt(text, passphrase)
    answer = client.post(base_url.rstrip("/") + "/api/v2/pushes",
                         json={"push": {**fields, "payload": envelope, "end_to_end": True}})
    if answer.status_code != 201:
        raise RuntimeError(f"The server refused the push ({answer.status_code}): {answer.text}")
    return f"{answer.json()['html_url']}#{key}"


class _Stream:
    """A generator of bytes as the file-like object httpx's multipart reads (never whole in memory)."""

    def __init__(self, pieces):
        self._pieces, self._buffer = iter(pieces), b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._buffer += piece
        size = len(self._buffer) if size < 0 else size
        taken, self._buffer = self._buffer[:size], self._buffer[size:]
        return taken


def _read_in_pieces(path: Path):
    with open(path, "rb") as source:
        while piece := source.read(e2e_files.CHUNK_BYTES):
            yield piece


def push_files(client: httpx.Client, base_url: str, paths: list[str | Path], message: str = "", passphrase: str = "",
               **fields) -> str:
    """Encrypt the files (and the message) under one new key, create the push, return its full link."""
    key = os.urandom(e2e.KEY_BYTES)
    passphrase = passphrase.strip()
    salt = os.urandom(e2e.SALT_BYTES) if passphrase else None
    iterations = e2e.ITERATIONS if passphrase else None
    aes_key = e2e.derive_key(key, salt, iterations, passphrase)
    form = [(f"push[{name}]", (None, str(value))) for name, value in {**fields, "end_to_end": "true"}.items()]
    if message:
        envelope = e2e.encrypt_with(aes_key, salt, iterations, message)
        form.append(("push[payload]", (None, envelope)))
    for position, path in enumerate(map(Path, paths)):
        if path.stat().st_size == 0:  # as the pages and plain file pushes refuse them
            raise RuntimeError(f"{path.name} is empty: choose a file with something in it.")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        sealed = e2e_files.encrypt_file(aes_key, salt, iterations, path.name, content_type, _read_in_pieces(path))
        form.append(("push[files][]", (e2e_files.stored_name(position), _Stream(sealed), e2e_files.STORED_CONTENT_TYPE)))
    answer = client.post(base_url.rstrip("/") + "/api/v2/pushes", files=form)
    if answer.status_code != 201:
        raise RuntimeError(f"The server refused the push ({answer.status_code}): {answer.text}")
    return f"{answer.json()['html_url']}#{e2e.b64u(key)}"


def get_files(client: httpx.Client, link: str, folder: str | Path, passphrase: str = "") -> tuple[list[Path], str]:
    """Take a view of the file push behind `link`, decrypt each file into `folder` as it
    streams: (the files written, the message).  A file that fails to decrypt is removed."""
    json_url, key = split_link(link)
    answer = client.get(json_url)
    if answer.status_code != 200:
        raise RuntimeError(f"The server answered {answer.status_code}: {answer.text}")
    body = answer.json()
    if not body.get("end_to_end") or not body.get("files"):
        raise RuntimeError("This is not an end-to-end file push, or it has expired.")
    message = e2e.decrypt(body["payload"], key, passphrase) if body.get("payload") else ""
    folder, written, keys = Path(folder), [], {}
    for entry in body["files"]:
        with client.stream("GET", entry["url"]) as download:
            if download.status_code != 200:
                raise RuntimeError(f"The download answered {download.status_code}.")
            opened = e2e_files.open_file(download.iter_bytes(), key, passphrase, keys)
            target = _free_name(folder, sanitize_file_name(opened.name))
            try:
                with open(target, "xb") as out:
                    for piece in opened.chunks:
                        out.write(piece)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
        written.append(target)
    return written, message


def _free_name(folder: Path, name: str) -> Path:
    stem, dot, extension = name.rpartition(".") if "." in name.strip(".") else (name, "", "")
    target, number = folder / name, 1
    while target.exists():
        number += 1
        target = folder / f"{stem} ({number}){dot}{extension}"
    return target


def split_link(link: str) -> tuple[str, str]:
    """(the JSON URL to fetch, without the fragment; the key from the fragment)."""
    parts = urlsplit(link)
    if not parts.fragment:
        raise ValueError("This link has no key after '#': copy the whole link.")
    path = parts.path.rstrip("/")
    json_url = urlunsplit((parts.scheme, parts.netloc, path + ".json", parts.query, ""))
    return json_url, parts.fragment


def get(client: httpx.Client, link: str, passphrase: str = "") -> str:
    """Take a view of the push behind `link` and decrypt it (the fragment never leaves here)."""
    json_url, key = split_link(link)
    answer = client.get(json_url)
    if answer.status_code != 200:
        raise RuntimeError(f"The server answered {answer.status_code}: {answer.text}")
    body = answer.json()
    if not body.get("end_to_end") or body.get("payload") is None:
        raise RuntimeError("This push is not end-to-end encrypted, or it has expired.")
    return e2e.decrypt(body["payload"], key, passphrase)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pwpush_app.e2e_client", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("push", help="encrypt standard input and print the link (with its key)")
    send.add_argument("base_url")
    send.add_argument("--views", type=int, default=None, help="views before it expires")
    send.add_argument("--token", default="", help="an API token (Bearer), where the site wants one")
    fetch = commands.add_parser("get", help="take a view of a link and print the decrypted text")
    fetch.add_argument("link")
    send_files = commands.add_parser("push-files", help="encrypt files and print the link (with its key)")
    send_files.add_argument("base_url")
    send_files.add_argument("files", nargs="+")
    send_files.add_argument("--message", default="", help="a message beside the files (encrypted too)")
    send_files.add_argument("--views", type=int, default=None, help="views before it expires")
    send_files.add_argument("--token", default="", help="an API token (Bearer), where the site wants one")
    fetch_files = commands.add_parser("get-files", help="take a view of a link and decrypt its files into a folder")
    fetch_files.add_argument("link")
    fetch_files.add_argument("--to", default=".", help="the folder to write the files into (default: here)")
    for sub in (send, fetch, send_files, fetch_files):
        sub.add_argument("--passphrase", default="", help="the passphrase (never sent to the server)")
    args = parser.parse_args(argv)
    headers = {"Authorization": f"Bearer {args.token}"} if getattr(args, "token", "") else {}
    with httpx.Client(headers=headers, timeout=30) as client:
        try:
            extra = {"expire_after_views": args.views} if getattr(args, "views", None) else {}
            if args.command == "push":
                print(push(client, args.base_url, sys.stdin.read(), args.passphrase, **extra))
            elif args.command == "push-files":
                print(push_files(client, args.base_url, args.files, args.message, args.passphrase, **extra))
            elif args.command == "get-files":
                written, message = get_files(client, args.link, args.to, args.passphrase)
                for path in written:
                    print(path)
                if message:
                    print(f"Message: {message}")
            else:
                sys.stdout.write(get(client, args.link, args.passphrase))
        except (RuntimeError, ValueError, OSError, e2e.BadEnvelope) as problem:
            print(problem, file=sys.stderr)
            return 1
        except httpx.HTTPError as problem:
            print(f"Could not reach the server: {problem}", file=sys.stderr)
            return 1
        except DecryptionError as problem:
            print(f"Could not decrypt ({problem}): check the whole link and the passphrase.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
