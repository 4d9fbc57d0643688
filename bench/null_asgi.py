"""The HTTP ceiling for file transfers: a bare ASGI app under Granian, as Reflex runs ours.

POST: reads the body and throws it away; GET /<n>: streams n MiB of zeros in 1 MiB pieces
(our download's batch size).  No framework, no parsing, no crypto, no disk: what loopback
HTTP, Granian and asyncio cost with no work.  Run by bench/files.py:

    python -m granian --interface asgi --workers 1 --host 127.0.0.1 --port N bench.null_asgi:app
"""

from __future__ import annotations

MIB = 1024 * 1024
_BLOCK = bytes(MIB)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["method"] == "POST":
        received = 0
        while True:
            message = await receive()
            received += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = str(received).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return
    size = scope["path"].strip("/")
    mib = int(size) if size.isdigit() else 1
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(mib * MIB).encode())]})
    for _ in range(mib):
        await send({"type": "http.response.body", "body": _BLOCK, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
