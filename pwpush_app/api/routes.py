"""The API's routes as each module declares them, built once, on the app that takes them.

FastAPI's APIRouter builds a route when it is declared (its request handler, dependencies
and response models) and builds it again for the app that includes the router (FastAPI
0.165 does that on the app's first request or listing of its routes): ~0.5 ms per route,
~40 ms of every server start for our ~85 routes. `Routes` only notes what a module
declares; `add_to` hands each declaration to `FastAPI.add_api_route`, which builds it once,
with the app's defaults (NoStoreJSON as the response class, the app's dependency
overrides), as including an APIRouter would.
"""

from __future__ import annotations

from functools import partialmethod
from typing import Any, Callable

from fastapi import FastAPI


class Routes:
    """A list of route declarations with a prefix and tags, used like an APIRouter's
    decorators (`@routes.get(path, ...)`, `.head`, `.post`, `.put`, `.patch`, `.delete`,
    `.api_route(path, methods=...)`, `.add_api_route(path, endpoint, ...)`)."""

    def __init__(self, prefix: str = "", tags: list[str] | None = None, include_in_schema: bool = True):
        self.prefix = prefix
        self.tags = list(tags or ())
        self.include_in_schema = include_in_schema
        self.declared: list[tuple[str, Callable, dict[str, Any]]] = []

    def add_api_route(self, path: str, endpoint: Callable, **options: Any) -> None:
        self.declared.append((path, endpoint, options))

    def api_route(self, path: str, **options: Any) -> Callable[[Callable], Callable]:
        def declare(endpoint: Callable) -> Callable:
            self.add_api_route(path, endpoint, **options)
            return endpoint

        return declare

    get = partialmethod(api_route, methods=["GET"])
    head = partialmethod(api_route, methods=["HEAD"])
    post = partialmethod(api_route, methods=["POST"])
    put = partialmethod(api_route, methods=["PUT"])
    patch = partialmethod(api_route, methods=["PATCH"])
    delete = partialmethod(api_route, methods=["DELETE"])

    def add_to(self, api: FastAPI) -> None:
        for path, endpoint, options in self.declared:
            options = dict(options)
            tags = [*self.tags, *(options.pop("tags", None) or ())]
            shown = self.include_in_schema and options.pop("include_in_schema", True)
            api.add_api_route(self.prefix + path, endpoint, tags=tags or None, include_in_schema=shown, **options)
