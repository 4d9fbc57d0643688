"""The reference client for end-to-end pushes (issue 20): encrypt for the API, decrypt from it.

    python -m pwpush_app.e2e_client push https://secrets.example.com [--passphrase P] [--token T] < secret.txt
    python -m pwpush_app.e2e_client get 'https://secrets.example.com/p/<token>#<key>' [--passphrase P]

`push` encrypts standard input in this process (core/e2e.py: AES-256-GCM under a random key,
with a passphrase also PBKDF2-SHA-256), sends only the envelope (`end_to_end: true`) and
prints the link with the key after '#': the server never sees the key or the passphrase.
`get` sends the link without its fragment, takes a view and prints the text.  The
envelope is documented in docs/api.md, for clients in other languages.
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit, urlunsplit

import httpx

from pwpush_app.core import e2e
from pwpush_app.core.crypto import DecryptionError


def push(client: httpx.Client, base_url: str, text: str, passphrase: str = "", **fields) -> str:
    """Encrypt `text`, create the push, return its full link (key in the fragment)."""
    envelope, key = e2e.encrypt(text, passphrase)
    answer = client.post(base_url.rstrip("/") + "/api/v2/pushes",
                         json={"push": {**fields, "payload": envelope, "end_to_end": True}})
    if answer.status_code != 201:
        raise RuntimeError(f"The server refused the push ({answer.status_code}): {answer.text}")
    return f"{answer.json()['html_url']}#{key}"


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
    for sub in (send, fetch):
        sub.add_argument("--passphrase", default="", help="the passphrase (never sent to the server)")
    args = parser.parse_args(argv)
    headers = {"Authorization": f"Bearer {args.token}"} if getattr(args, "token", "") else {}
    with httpx.Client(headers=headers, timeout=30) as client:
        try:
            if args.command == "push":
                extra = {"expire_after_views": args.views} if args.views else {}
                print(push(client, args.base_url, sys.stdin.read(), args.passphrase, **extra))
            else:
                sys.stdout.write(get(client, args.link, args.passphrase))
        except (RuntimeError, ValueError, e2e.BadEnvelope) as problem:
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
