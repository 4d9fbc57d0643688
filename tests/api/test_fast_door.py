"""The fast door (api/hot.py) answers create and retrieve itself, exactly as FastAPI would.

Every other API test goes through the door too (build_api returns it); these check that
it really answers the hot routes, that its answers equal FastAPI's own for the same
requests, and that what it can't solve goes to FastAPI."""

from __future__ import annotations

import asyncio
import os
import threading

import httpx
import pytest
from sqlalchemy import event

from pwpush_app.api.app import build_api
from pwpush_app.api.hot import HOT_ROUTES, FastDoor, run_core
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from tests.reliability.support import counts
from tests.servers import make_env

from .conftest import AGENT, PEER, _SyncOverAsync, async_asgi_client

# What differs from one push to the next (tokens, links, clocks), not in shape.
PER_PUSH = {"url_token", "html_url", "json_url", "manage_url", "created_at", "updated_at", "expires_at",
            "expired_on", "url", "download_url", "first_at", "last_at"}


async def _refuse(scope, receive, send):
    """Stands in for FastAPI behind the door: any request that reaches it is answered 599."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b"reached the app behind the door"})


def _client(app) -> httpx.Client:
    return _SyncOverAsync(httpx.ASGITransport(app=app, client=(PEER, 40000), raise_app_exceptions=False))


def test_build_api_puts_the_door_in_front_and_it_keeps_every_hot_route(runtime):
    door = build_api(lambda: runtime)
    assert isinstance(door, FastDoor)
    assert door.hot_paths == HOT_ROUTES
    # The rest of the FastAPI app is reachable through it (tests, schemathesis, Reflex's mount).
    assert door.openapi()["paths"]["/api/v2/pushes"]["post"]["responses"]["201"]


def test_the_door_answers_create_and_retrieve_itself_and_hands_on_the_rest(runtime):
    door = build_api(lambda: runtime).in_front_of(_refuse)
    api = _client(door)
    created = api.post("/api/v2/pushes", json={"push": {"payload": "through the door", "expire_after_views": 2}})
    assert created.status_code == 201, created.text
    token = created.json()["url_token"]
    assert api.get(f"/api/v2/pushes/{token}").json()["payload"] == "through the door"
    legacy = api.post("/p.json", data={"password[payload]": "legacy door"})
    assert legacy.status_code == 201
    assert api.get(f"/p/{legacy.json()['url_token']}.json").json()["payload"] == "legacy door"
    # Refusals too: the app's own handlers answer them, at the door.
    assert api.get("/api/v2/pushes/unknown-token-0123456789").status_code == 404
    assert api.post("/api/v2/pushes", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    # Not hot, or with something to validate that only FastAPI does: handed on.
    assert api.get("/api/v2/version").status_code == 599
    assert api.get("/api/v2/pushes/active").status_code == 599
    assert api.get("/p/active.json").status_code == 599  # a route before /p/{token}.json matches first
    # Served under a root path, the routes match the path below it, and so does the door.
    under = _SyncOverAsync(httpx.ASGITransport(app=door, root_path="/p", client=(PEER, 40000)))
    assert under.get("/p/p/active.json").status_code == 599
    assert under.get("/p/api/v2/pushes/active").status_code == 599
    created = under.post("/p/api/v2/pushes", json={"push": {"payload": "under a root path"}})
    assert created.status_code == 201, created.text
    assert under.get(f"/p/p/{created.json()['url_token']}.json").json()["payload"] == "under a root path"
    under.close()
    assert api.get(f"/api/v2/pushes/{token}", params={"passphrase": "x"}).status_code == 599
    assert api.get(f"/api/v2/pushes/{token}", headers={"X-Passphrase": "x"}).status_code == 599
    assert api.delete(f"/api/v2/pushes/{token}").status_code == 599
    api.close()


def _per_push_out(value):
    """`value` with what differs from one push to the next replaced by its type, at any depth."""
    if isinstance(value, dict):
        return {k: (type(v).__name__ if k in PER_PUSH and v is not None else _per_push_out(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_per_push_out(v) for v in value]
    return value


def _normalized(response: httpx.Response):
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "date")}
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return response.status_code, headers, _per_push_out(body)


def _both(runtime, requests) -> list[tuple]:
    """Each request sent through the door and to the FastAPI app alone (in that order)."""
    door = _client(build_api(lambda: runtime))
    bare = _client(build_api(lambda: runtime).fastapi)
    answers = []
    for make in requests:
        answers.append((_normalized(make(door)), _normalized(make(bare))))
    door.close()
    bare.close()
    return answers


def test_the_doors_answers_equal_fastapis(runtime, alice):
    token_of = {}

    def create(client, path="/api/v2/pushes", **kwargs):
        response = client.post(path, **kwargs)
        if response.status_code == 201:
            token_of.setdefault(id(client), []).append(response.json()["url_token"])
        return response

    def last(client):
        return token_of[id(client)][-1]

    requests = [
        lambda c: create(c, json={"push": {"payload": "same answer", "expire_after_views": 2, "note": "n"}}),
        lambda c: c.get(f"/api/v2/pushes/{last(c)}"),
        lambda c: c.get(f"/p/{last(c)}.json"),  # the last view: expires it
        lambda c: c.get(f"/api/v2/pushes/{last(c)}"),  # expired: the record without the payload
        lambda c: create(c, "/p.json", data={"password[payload]": "form", "password[expire_after_days]": "2"}),
        lambda c: create(c, "/p.json?password[expire_after_views]=3", json={"password": {"payload": "q"}}),
        lambda c: create(c, json={"push": {"payload": "owned", "note": "mine"}}, headers=alice),
        lambda c: c.get(f"/api/v2/pushes/{last(c)}", headers=alice),  # the owner sees name and note
        lambda c: create(c, json={"push": {"payload": "locked", "passphrase": "open sesame"}}),
        lambda c: c.get(f"/api/v2/pushes/{last(c)}"),  # 401: a passphrase is needed
        lambda c: c.get("/api/v2/pushes/AAAAAAAAAAAAAAAAAAAAAA"),  # 404
        lambda c: c.get("/p/AAAAAAAAAAAAAAAAAAAAAA.json"),  # 404
        lambda c: c.post("/api/v2/pushes", content=b"[1,", headers={"Content-Type": "application/json"}),  # 400
        lambda c: c.post("/api/v2/pushes", json={"push": {"payload": "x", "colour": "red"}}),  # 422
        lambda c: c.post("/api/v2/pushes", json={"push": {"payload": "x", "expire_after_views": 0}}),  # 422
        lambda c: c.post("/api/v2/pushes", content=b"payload", headers={"Content-Type": "text/plain"}),  # 415
        lambda c: c.post("/api/v2/pushes", json={"push": {"payload": "x"}}, headers={"Authorization": "Bearer nope"}),
        lambda c: c.post("/api/v2/pushes", json={"push": {"payload": "x"}}, headers={"X-User-Email": "a@b.c"}),
        lambda c: c.post("/api/v2/pushes", json={"push": {"payload": "x"}}, headers={"Origin": "https://elsewhere.example"}),
    ]
    for through_door, through_fastapi in _both(runtime, requests):
        assert through_door == through_fastapi


def test_the_doors_answers_equal_fastapis_in_password_pushers_shapes(runtime, alice):
    """Issue 16's shapes through the door as through FastAPI: the last view answers expired
    false, the owner's look takes no view, a bare Authorization token and the legacy header
    pair (which wins), URL and file pushes, per-kind switches, 422 fields at the top level,
    `application/json; charset=utf-8` and the security headers of every answer."""
    from pwpush_app.core.accounts import issue_api_token

    _, bare_token = issue_api_token(runtime, "carol@example.com")
    legacy_pair = {"X-User-Email": "carol@example.com", "X-User-Token": bare_token}
    token_of = {}

    def create(client, path="/api/v2/pushes", **kwargs):
        response = client.post(path, **kwargs)
        if response.status_code == 201:
            token_of.setdefault(id(client), []).append(response.json()["url_token"])
        return response

    def last(client):
        return token_of[id(client)][-1]

    one_file = [("push[files][]", ("a.txt", b"file body", "text/plain")), ("push[kind]", (None, "file"))]
    requests = [
        lambda c: create(c, json={"push": {"payload": "once", "expire_after_views": 1}}),
        lambda c: c.get(f"/api/v2/pushes/{last(c)}"),  # the last view: expired false, as there
        lambda c: c.get(f"/api/v2/pushes/{last(c)}"),  # then expired: the record, no payload
        lambda c: create(c, json={"push": {"payload": "mine", "expire_after_views": 1}},
                         headers={"Authorization": bare_token}),  # a bare token counts
        lambda c: c.get(f"/api/v2/pushes/{last(c)}", headers={"Authorization": bare_token}),  # owner: no view
        lambda c: c.get(f"/p/{last(c)}.json"),  # so the recipient still has it
        lambda c: create(c, "/p.json", json={"password": {"payload": "pair"}},
                         headers={**legacy_pair, "Authorization": "Bearer wrong"}),  # the pair wins
        lambda c: c.get(f"/p/{last(c)}.json", headers={"Authorization": "Basic dXNlcjpwYXNz"}),  # a proxy's login
        lambda c: create(c, json={"push": {"payload": "step", "retrieval_step": True, "deletable_by_viewer": True}}),
        lambda c: c.get(f"/api/v2/pushes/{last(c)}"),
        lambda c: create(c, json={"push": {"kind": "url", "payload": "https://example.com/x"}}),
        lambda c: c.get(f"/api/v2/pushes/{last(c)}"),
        lambda c: create(c, files=one_file, headers=alice),
        lambda c: c.get(f"/api/v2/pushes/{last(c)}"),  # a file push: its downloads
        lambda c: create(c, json={"push": {"payload": "p", "passphrase": "letmein"}}),  # masked passphrase
        lambda c: c.get(f"/p/{last(c)}.json"),  # 401 without it
        lambda c: c.post("/api/v2/pushes", json={"push": {}}),  # 400: Password Pusher's missing parameter
        lambda c: c.post("/p.json", json={"password": {"payload": ""}}),  # 422, fields at the top level
        lambda c: c.post("/api/v2/pushes", json={"push": {"payload": "x"}}, headers={"Authorization": "Bearer"}),
    ]
    answers = _both(runtime, requests)
    for through_door, through_fastapi in answers:
        assert through_door == through_fastapi
    statuses = [status for (status, _, _), _ in answers]
    assert statuses == [201, 200, 200, 201, 200, 200, 201, 200, 201, 200, 201, 200, 201, 200, 201, 401, 400, 422, 401], statuses
    (_, headers, last_view), _ = answers[1]
    assert last_view["expired"] is False and last_view["payload"] == "once"
    assert headers["content-type"] == "application/json; charset=utf-8"
    (_, _, after), _ = answers[2]
    assert after["expired"] is True and after["payload"] is None
    assert headers["cache-control"].startswith("no-store")


def test_rate_limits_count_at_the_door_as_in_fastapi(make_runtime):
    runtime = make_runtime(PWP__THROTTLING__MINUTE="2")
    door = _client(build_api(lambda: runtime))
    statuses = [door.post("/api/v2/pushes", json={"push": {"payload": f"s{i}"}}).status_code for i in range(3)]
    assert statuses == [201, 201, 429]
    refused = door.post("/api/v2/pushes", json={"push": {"payload": "again"}})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    door.close()


def test_audit_rows_of_door_requests_name_the_client(runtime, alice):
    api = _client(build_api(lambda: runtime))
    token = api.post("/api/v2/pushes", json={"push": {"payload": "audited", "expire_after_views": 3}},
                     headers={**alice, "User-Agent": AGENT}).json()["url_token"]
    api.get(f"/api/v2/pushes/{token}", headers={"User-Agent": "viewer/2", "Referer": "https://ref.example/"})
    logs = api.get(f"/api/v2/pushes/{token}/audit", headers=alice).json()["logs"]
    assert [(e["kind"], e["ip"], e["user_agent"], e["referrer"]) for e in logs][:2] == [
        ("creation", PEER, AGENT, ""), ("view", PEER, "viewer/2", "https://ref.example/")]
    api.close()


@pytest.mark.sqlite_only
def test_answers_leave_only_after_their_commit_is_on_disk(runtime, monkeypatch):
    """With FULL durability the door's answers (many at once, on one event loop) leave only
    after an fsync of the WAL that began after their commit; concurrent ones share fsyncs."""
    import contextvars
    import itertools
    import os
    import threading

    from pwpush_app.core import db as database

    clock, lock = itertools.count(1), threading.Lock()
    request = contextvars.ContextVar("request", default=None)
    fsyncs, commits, answers = [], {}, {}
    real_fsync, real_ticket = os.fsync, database.WalFlusher.ticket

    def fsync(descriptor):
        with lock:
            start = next(clock)
        real_fsync(descriptor)
        with lock:
            fsyncs.append((start, next(clock)))

    def ticket(flusher):  # asked right after each COMMIT, in the request's own context
        with lock:
            commits[request.get()] = next(clock)
        return real_ticket(flusher)

    monkeypatch.setattr(database.os, "fsync", fsync)
    monkeypatch.setattr(database.WalFlusher, "ticket", ticket)
    door = build_api(lambda: runtime)

    async def one(client: httpx.AsyncClient, i: int) -> None:
        request.set(("create", i))
        created = await client.post("/api/v2/pushes", json={"push": {"payload": f"durable {i}", "expire_after_views": 1}})
        with lock:
            answers[("create", i)] = next(clock)
        assert created.status_code == 201
        request.set(("show", i))
        shown = await client.get(f"/api/v2/pushes/{created.json()['url_token']}")
        with lock:
            answers[("show", i)] = next(clock)
        assert shown.json()["payload"] == f"durable {i}"

    async def run():
        transport = httpx.ASGITransport(app=door, client=(PEER, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await asyncio.gather(*(one(client, i) for i in range(16)))

    asyncio.run(run())
    assert set(answers) == set(commits) and len(answers) == 32
    for name, answered in answers.items():
        assert any(commits[name] < start and end < answered for start, end in fsyncs), name
    assert len(fsyncs) < 32  # shared


@pytest.mark.sqlite_only
def test_the_event_loop_goes_on_while_a_request_waits_for_the_writer(runtime):
    """run_core takes SQLite's writer turn without blocking the loop: while another thread
    writes, the loop's other tasks keep running, and the request goes once it is free."""
    from pwpush_app.core import db as database
    from pwpush_app.core.audit import Client
    from pwpush_app.core.create import NewPush, create_push

    lock = database.sqlite_writers[runtime.engine]
    assert lock.acquire()
    threading.Timer(0.4, lock.release).start()

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        created = await run_core(runtime, create_push, runtime, NewPush(payload="waited"), Client())
        task.cancel()
        return created, ticks

    created, ticks = asyncio.run(main())
    assert created.url_token and ticks >= 10


def test_the_production_servers_door_answers_carry_the_security_headers(live_server):
    """On the production server the door sits inside the security headers: its answers
    (create, retrieve, v2 and legacy, refusals) carry them as every other answer does."""
    from tests.reliability.test_headers import assert_security_headers

    base = live_server.url
    with httpx.Client(base_url=base, timeout=30) as client:
        created = client.post("/api/v2/pushes", json={"push": {"payload": "headers", "expire_after_views": 2}})
        legacy = client.post("/p.json", json={"password": {"payload": "legacy headers"}})
        token = created.json()["url_token"]
        answers = [
            created, legacy,
            client.get(f"/api/v2/pushes/{token}"),
            client.get(f"/p/{legacy.json()['url_token']}.json"),
            client.get("/api/v2/pushes/AAAAAAAAAAAAAAAAAAAAAA"),  # 404
            client.post("/p.json", json={"password": {"payload": ""}}),  # 422
        ]
    assert [a.status_code for a in answers] == [201, 201, 200, 200, 404, 422]
    for answer in answers:
        assert_security_headers(answer)
        assert answer.headers["content-type"] == "application/json; charset=utf-8"


def test_a_burst_on_postgresql_uses_no_more_connections_than_the_pool_keeps(tmp_path, postgres):
    """30 creates at once while the push table is held: they wait their turn for the pool's
    kept connections instead of each taking a thread and opening an overflow connection
    (a PostgreSQL backend started and ended per create: half the cycles, p99 ~250 ms at 32
    connections), and every one of them lands once the table is free."""
    import psycopg

    name = f"burst_{os.urandom(4).hex()}"
    postgres.sql(f"CREATE DATABASE {name} TEMPLATE pwpush_template")
    runtime = open_runtime(load_settings(make_env(tmp_path / "data", REFLEX_DB_URL=postgres.url(name),
                                                  PWPUSH_BUSY_TIMEOUT_MS="20000")))
    kept = runtime.engine.pool.size()
    opened, out, most_out = [], [0], [0]

    def checked_out(*_):
        out[0] += 1
        most_out[0] = max(most_out[0], out[0])

    def checked_in(*_):
        out[0] -= 1

    event.listen(runtime.engine, "connect", lambda *_: opened.append(1))
    event.listen(runtime.engine, "checkout", checked_out)
    event.listen(runtime.engine, "checkin", checked_in)

    async def burst() -> list[httpx.Response]:
        async with async_asgi_client(runtime) as api:
            sends = [asyncio.ensure_future(api.post("/api/v2/pushes", json={"push": {"payload": f"burst-{n}"}}))
                     for n in range(30)]
            await asyncio.sleep(1.5)  # every create has started: in the database, or waiting for its turn
            holder.rollback()  # the table is free
            return await asyncio.gather(*sends)

    try:
        with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=postgres dbname={name}") as holder:
            holder.execute("LOCK TABLE push IN ACCESS EXCLUSIVE MODE")
            answers = asyncio.run(burst())
        assert [a.status_code for a in answers] == [201] * 30
        tokens = {a.json()["url_token"] for a in answers}
        assert len(tokens) == 30
        assert most_out[0] <= kept, f"{most_out[0]} connections out at once; the pool keeps {kept}"
        assert len(opened) <= kept, f"{len(opened)} connections opened; the pool keeps {kept}"
    finally:
        runtime.engine.dispose()


def test_a_create_that_finds_no_thread_free_in_time_is_told_busy_and_nothing_is_stored(make_runtime):
    """Every thread for core calls taken (a stalled Redis, a held table) for longer than a
    writer waits: the next create waiting for one gets the busy answer, and is not stored."""
    runtime = make_runtime(PWPUSH_BUSY_TIMEOUT_MS="300")
    release = threading.Event()

    def held() -> None:
        release.wait(30)

    async def main():
        async with async_asgi_client(runtime) as api:
            holders = [asyncio.ensure_future(run_core(runtime, held, blocking=True))
                       for _ in range(runtime.engine.pool.size())]
            await asyncio.sleep(0.2)
            asyncio.get_running_loop().call_later(3, release.set)  # held 10 x longer than a writer waits
            # A passphrase is hashed with Argon2: a core call in a thread on every engine.
            refused = await api.post("/api/v2/pushes", json={"push": {"payload": "none free", "passphrase": "a phrase"}})
            await asyncio.gather(*holders)
            served = await api.post("/api/v2/pushes", json={"push": {"payload": "one free", "passphrase": "a phrase"}})
            return refused, served

    before = counts(runtime)
    refused, served = asyncio.run(main())
    assert refused.status_code == 503, refused.text
    assert refused.json() == {"error": "The server is busy right now; nothing was changed. Try again shortly."}
    assert int(refused.headers["retry-after"]) > 0
    assert served.status_code == 201
    after = counts(runtime)
    assert after["pushes"] == before["pushes"] + 1  # the second one only
    assert after["events"] == before["events"] + 1 and after["pushes without creation record"] == 0
