"""The API's hot path: create and retrieve answered in front of the framework's layers.

A FastAPI request here passes ~15 ASGI layers (Reflex's outer app and its CORS
middleware, FastAPI's middleware, router and dependency solver) and a thread-pool hop
before our code: more CPU than the create or the retrieve itself.  `FastDoor` sits in
front of all of them and answers the four hot routes (create and retrieve, v2 and
legacy) itself, **through the same FastAPI routes**: it calls each route's own endpoint
with the route's own dependencies, serializes with the route's own response model and
options (`fastapi.routing.serialize_response`, as FastAPI does) and answers errors with
the app's own exception handlers.  So the shapes, status codes, headers, audit rows and
rate limits are the routes'; what it skips is the machinery around them.

It takes a request only where that machinery would do nothing: no `Origin` header (no
CORS answer to add), no query parameter or header the route would have to validate
(a retrieve with `?passphrase=` or `X-Passphrase` goes the usual way), and only routes
whose dependencies it can solve (`_Plan`); everything else, it hands to the app behind it.
The OpenAPI document is FastAPI's, untouched.

`run_core` runs a core call on the event loop where the database never makes the loop
wait (SQLite: writers queue on our lock, taken without blocking the loop; each commit's
fsync is shared and awaited before the answer leaves, `PWPUSH_SQLITE_SYNCHRONOUS=FULL`),
and in a thread otherwise (PostgreSQL's round trips, Argon2, S3, rate limits counted in
Redis), as many at once as the database pool keeps connections (`_core_threads`).
"""

from __future__ import annotations

import inspect
import logging
import weakref
from functools import partial
from typing import Any, Callable

from anyio import CapacityLimiter, fail_after
from anyio.lowlevel import RunVar
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute, iter_route_contexts, serialize_response
from fastapi.utils import is_body_allowed_for_status_code
from starlette._utils import get_route_path  # Starlette's and FastAPI's routers use it too
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import Match

from pwpush_app.core.db import deferred_fsyncs, settle, writer_turn, writes_on_loop
from pwpush_app.core.db_fast import keep_a_connection
from pwpush_app.core.errors import ServerBusy
from pwpush_app.core.runtime import Runtime

log = logging.getLogger("pwpush.api")

# Core calls running in threads, per event loop and database: as many at once as the pool
# keeps connections.  Without this bound, a burst of creates and reveals took every thread
# of the pool behind the API (40), most of them opening and closing an overflow connection
# per call (a new PostgreSQL backend each time): at 32 connections a worker on PostgreSQL
# answered half as many cycles, p99 ~250 ms (bench/README.md).  It also keeps a stalled
# Redis or database from holding every thread the other endpoints need.  A call waits for
# its turn as long as a writer waits for the database (PWPUSH_BUSY_TIMEOUT_MS), then
# gets the busy answer: a queue behind a held table or a stalled Redis stays bounded.
_CORE_THREADS: RunVar[weakref.WeakKeyDictionary] = RunVar("pwpush_core_threads")
CORE_THREADS_WITHOUT_POOL = 8


class NoThreadFree(ServerBusy):
    """Every thread for core calls stayed taken for as long as a writer waits: nothing was done."""


def _core_threads(engine) -> CapacityLimiter:
    try:
        limiters = _CORE_THREADS.get()
    except LookupError:
        limiters = weakref.WeakKeyDictionary()
        _CORE_THREADS.set(limiters)
    limiter = limiters.get(engine)
    if limiter is None:
        size = getattr(engine.pool, "size", None)
        limiter = limiters[engine] = CapacityLimiter(size() if callable(size) else CORE_THREADS_WITHOUT_POOL)
    return limiter


# (method, path) of the routes the door answers.
HOT_ROUTES = {
    ("POST", "/api/v2/pushes"),
    ("GET", "/api/v2/pushes/{token}"),
    ("POST", "/p.json"),
    ("GET", "/p/{token}.json"),
}


async def run_core(runtime: Runtime, function: Callable, *args, blocking: bool = False, **kwargs) -> Any:
    """Call a core function from an async endpoint: on the loop where that is safe (SQLite,
    local files, rate limits counted in memory, `blocking` False: no Argon2 to run), else
    in a thread, at most as many at once as the database pool keeps connections
    (`_core_threads`).  Either way, everything it committed is on disk (with FULL) before
    this returns or raises."""
    if (blocking or not writes_on_loop(runtime.engine) or runtime.settings.files_storage != "local"
            or runtime.throttle.remote):
        return await _in_core_thread(runtime, partial(function, *args, **kwargs))
    await keep_a_connection(runtime.engine)  # waited for off the loop, if it must be
    release = await writer_turn(runtime.engine)
    with deferred_fsyncs() as pending:
        try:
            return function(*args, **kwargs)
        finally:
            if release is not None:
                release()  # the next writer goes on while this one's fsync runs
            await settle(pending)


async def _in_core_thread(runtime: Runtime, call: Callable) -> Any:
    threads, wait_ms = _core_threads(runtime.engine), runtime.settings.busy_timeout_ms
    try:
        with fail_after(wait_ms / 1000):
            await threads.acquire()
    except TimeoutError:
        raise NoThreadFree(f"no thread free for a core call within {wait_ms} ms") from None
    try:
        return await run_in_threadpool(call)
    finally:
        threads.release()


class _Plan:
    """How the door calls one route: its dependency tree, solved by hand.

    Supported: the Request, `str` path parameters, sub-dependencies that are coroutines,
    and query or header parameters that are absent (their defaults).  A route needing
    anything else is left to FastAPI (`supported` False)."""

    def __init__(self, route, overrides: dict):
        self.route = route
        self.supported = True
        self.query_names: set[str] = set()
        self.header_names: set[str] = set()
        self.root = self._step(route.dependant, overrides, top=True)

    def _step(self, dependant, overrides: dict, top: bool = False):
        call = dependant.call
        if not top and call in overrides:
            from fastapi.dependencies.utils import get_dependant

            call = overrides[call]
            dependant = get_dependant(path=self.route.path_format, call=call)
        unsolved = ("body_params", "cookie_params", "response_param_name", "background_tasks_param_name",
                    "security_scopes_param_name", "websocket_param_name", "http_connection_param_name",
                    "own_oauth_scopes")
        if any(getattr(dependant, name, None) for name in unsolved):
            self.supported = False
        defaults = {}
        for param in dependant.path_params:
            if param.field_info.annotation is not str:
                self.supported = False
        for param in (*dependant.query_params, *dependant.header_params):
            if param.field_info.is_required():
                self.supported = False
            defaults[param.name] = param.field_info.get_default(call_default_factory=True)
        self.query_names |= {param.alias for param in dependant.query_params}
        self.header_names |= {param.alias.replace("_", "-").lower() for param in dependant.header_params}
        subs = [(sub.name, self._step(sub, overrides)) for sub in dependant.dependencies]
        if not top and not inspect.iscoroutinefunction(call) and subs:
            self.supported = False  # a sync dependency with dependencies of its own: FastAPI's job
        return (call, dependant.request_param_name, [p.name for p in dependant.path_params], defaults, subs)

    def takes(self, scope) -> bool:
        """No query parameter or header this route would have to validate."""
        if self.query_names and scope.get("query_string"):
            return False
        if self.header_names:
            return not any(name.decode("latin-1") in self.header_names for name, _ in scope["headers"])
        return True

    async def values(self, request: Request, path_params: dict) -> dict:
        return await self._solve(self.root, request, path_params, {})

    async def _solve(self, step, request: Request, path_params: dict, cache: dict) -> dict:
        _call, request_name, path_names, defaults, subs = step
        values = dict(defaults)
        if request_name:
            values[request_name] = request
        for name in path_names:
            values[name] = path_params[name]
        for name, sub in subs:
            call = sub[0]
            if call not in cache:
                arguments = await self._solve(sub, request, path_params, cache)
                result = call(**arguments)
                cache[call] = await result if inspect.isawaitable(result) else result
            values[name] = cache[call]
        return values


class FastDoor:
    """An ASGI app: the hot routes of `api` answered here, everything else by `app`
    (the FastAPI app itself, or in production Reflex's whole app with the API inside)."""

    def __init__(self, api: FastAPI, app=None, plans: list[tuple[Any, _Plan | None, str]] | None = None):
        self.fastapi = api
        self.app = app if app is not None else api
        self._plans = plans if plans is not None else self._make_plans(api)
        # The CORS middleware the request would have met on its way (Reflex adds one to its
        # outer app and one to ours): the door's answers pass through the same ones.
        self._answer_app = self._answer
        layers = self._cors_layers()
        for layer in reversed(layers):
            self._answer_app = layer.cls(self._answer_app, *layer.args, **layer.kwargs)
        # Without an Origin header each of those layers only adds "Origin" to the answer's
        # Vary (starlette's CORSMiddleware.send): done here in one step, the same headers.
        self._vary_origins = len(layers)

    def _cors_layers(self) -> list:
        layers = []
        for app in dict.fromkeys((self.app, self.fastapi)):  # outermost first, each once
            layers += [m for m in getattr(app, "user_middleware", ()) if m.cls is CORSMiddleware]
        return layers

    @staticmethod
    def _make_plans(api: FastAPI) -> list[tuple[Any, _Plan | None, str]]:
        """Every route up to the last hot one, in the router's order (the first that
        matches a request is the one FastAPI would run), with a plan for the hot ones and
        the literal start of its path (a route can only match a path that starts with it:
        a legacy `/p/{token}.json` is not matched against the 30 `/api/...` routes first).
        Included routers count as the routes they include, with their prefixes and
        dependencies (FastAPI's `iter_route_contexts`)."""
        plans: list[tuple[Any, _Plan | None, str]] = []
        body_limit = getattr(api, "max_body_size", None)
        for route in iter_route_contexts(api.router.routes):
            hot = (isinstance(route.original_route, APIRoute) and route.methods
                   and all((method, route.path) in HOT_ROUTES for method in route.methods))
            plan = _Plan(route, api.dependency_overrides) if hot else None
            if plan is not None and (not plan.supported or body_limit is not None
                                     or getattr(route, "max_body_size", None) is not None):
                log.warning("The fast door leaves %s to FastAPI: it needs what the door does not do", route.path)
                plan = None
            plans.append((route, plan, (getattr(route, "path_format", None) or "").split("{", 1)[0]))
        while plans and plans[-1][1] is None:
            plans.pop()
        return plans

    @property
    def hot_paths(self) -> set[tuple[str, str]]:
        """The (method, path) pairs this door answers itself (tests check it keeps them all)."""
        return {(m, route.path) for route, plan, _start in self._plans if plan is not None for m in route.methods}

    def in_front_of(self, app) -> "FastDoor":
        """The same door in front of another app (Reflex's, which mounts the API inside)."""
        return FastDoor(self.fastapi, app, self._plans)

    def __getattr__(self, name: str):
        # Everything else (openapi(), routes, dependency_overrides...) is the FastAPI app's.
        return getattr(self.fastapi, name)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "POST"):
            path = get_route_path(scope)  # what the routes match: the path under root_path
            if path.startswith("/api/v2/pushes") or path.endswith(".json"):
                for route, plan, start in self._plans:
                    if not path.startswith(start):
                        continue
                    match, child = route.matches(scope)
                    if match is Match.FULL:
                        if plan is not None and plan.takes(scope):
                            scope.update(child)
                            scope["pwpush.plan"] = plan
                            if not any(name == b"origin" for name, _ in scope["headers"]):
                                return await self._answer(scope, receive, self._no_origin(send))
                            return await self._answer_app(scope, receive, send)
                        break
        await self.app(scope, receive, send)

    def _no_origin(self, send):
        """What the CORS layers do to the answer of a request without Origin: each adds
        "Origin" to its Vary header (starlette's MutableHeaders: the first Vary keeps its
        place with every value joined, the others go; none: one appended)."""
        count = self._vary_origins
        if not count:
            return send
        added = ["Origin"] * count

        async def send_with_vary(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                found = [i for i, (name, _) in enumerate(headers) if name == b"vary"]
                value = ", ".join([*(headers[i][1].decode("latin-1") for i in found), *added]).encode("latin-1")
                for i in reversed(found[1:]):
                    del headers[i]
                if found:
                    headers[found[0]] = (b"vary", value)
                else:
                    headers.append((b"vary", value))
                message["headers"] = headers
            await send(message)
        return send_with_vary

    async def _answer(self, scope, receive, send) -> None:
        plan = scope.pop("pwpush.plan")
        route = plan.route
        request = Request(scope, receive)
        try:
            values = await plan.values(request, scope.get("path_params", {}))
            endpoint = route.dependant.call
            if inspect.iscoroutinefunction(endpoint):
                raw = await endpoint(**values)
            else:
                runtime = next((v.runtime for v in values.values() if hasattr(v, "runtime")), None)
                raw = await (run_core(runtime, endpoint, **values) if runtime is not None
                             else run_in_threadpool(endpoint, **values))
            response = await self._response(route, raw)
        except Exception as error:  # noqa: BLE001 - answered by the app's own handlers
            handler = self._handler(error)
            if handler is None:
                raise
            response = handler(request, error)
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send)
            if self.fastapi.exception_handlers.get(Exception) is handler:
                raise  # as Starlette's ServerErrorMiddleware does, after answering
            return
        await response(scope, receive, send)

    async def _response(self, route: APIRoute, raw: Any) -> Response:
        """What FastAPI's request handler makes of an endpoint's return value."""
        if isinstance(raw, Response):
            return raw
        use_dump_json = route.response_field is not None and isinstance(route.response_class, DefaultPlaceholder)
        content = await serialize_response(
            field=route.response_field,
            response_content=raw,
            include=route.response_model_include,
            exclude=route.response_model_exclude,
            by_alias=route.response_model_by_alias,
            exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults,
            exclude_none=route.response_model_exclude_none,
            is_coroutine=True,
            dump_json=use_dump_json,
        )
        arguments = {"status_code": route.status_code} if route.status_code else {}
        if use_dump_json:
            response = Response(content=content, media_type="application/json", **arguments)
        else:
            response_class = route.response_class
            if isinstance(response_class, DefaultPlaceholder):
                response_class = response_class.value
            response = response_class(content, **arguments)
        if not is_body_allowed_for_status_code(response.status_code):
            response.body = b""
        return response

    def _handler(self, error: Exception):
        handlers = self.fastapi.exception_handlers
        for kind in type(error).__mro__:
            if kind in handlers:
                return handlers[kind]
        return None
