"""The JSON API (Password Pusher compatible): a FastAPI app mounted on Reflex's one port.

Reflex mounts its own app *inside* this one (`api_transformer`), so our routes match
first and everything else falls through to the pages.  The catch-alls at the end keep
`/api/...`, `/p/....json` and `/d/...` (downloads) answers JSON (404 or 405) instead of the SPA's HTML.
"""

from __future__ import annotations

from typing import Callable

from fastapi import FastAPI, Request
from starlette.routing import Match, Mount

from pwpush_app.api import admin, docs, downloads, health, legacy, requests_api, sessions, v2
from pwpush_app.api.auth import current_runtime
from pwpush_app.api.errors import NOT_FOUND, ApiError, NoStoreJSON, install_error_handlers, json_error
from pwpush_app.api.hot import FastDoor
from pwpush_app.api.version import application_version
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.runtime import Runtime, get_runtime
from pwpush_app.settings import Settings, get_settings

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def build_api(runtime_provider: Callable[[], Runtime] | None = None, settings: Settings | None = None) -> FastDoor:
    """The API app, behind its fast door (hot.py: create and retrieve answered without the
    framework's layers; everything else by FastAPI); `runtime_provider` replaces the
    process-wide runtime (tests), `settings` the settings its routes are laid out by
    (default: the process's, without a provider).  `.fastapi` is the FastAPI app itself."""
    api = FastAPI(
        title="Password Pusher API",
        version=application_version(),
        description="Password Pusher compatible JSON API. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `python -m pwpush_app create-token EMAIL`) or X-User-Email + X-User-Token; "
        "without a token you act anonymously. See docs/api.md.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        default_response_class=NoStoreJSON,
    )
    if runtime_provider is not None:
        api.dependency_overrides[current_runtime] = runtime_provider
    install_error_handlers(api, runtime_provider or get_runtime)
    for module in (v2, requests_api, admin, legacy, downloads, docs, health, sessions):
        module.routes.add_to(api)
    layout = settings or (get_settings() if runtime_provider is None else None)
    if layout is not None and layout.disable_logins:
        sessions.close_login_pages(api)
    _add_json_fallbacks(api)
    _document_token_auth(api)
    _document_links(api)
    return FastDoor(api)


# Creates answer with `url_token`: OpenAPI links say which calls take it next (shown in the
# docs; schemathesis follows them to fuzz sequences: create, then show, preview, expire).
_LINKED_PATHS = {
    "/api/v2/pushes": ["/api/v2/pushes/{token}", "/api/v2/pushes/{token}/preview", "/api/v2/pushes/{token}/audit"],
    "/p.json": ["/p/{token}.json", "/p/{token}/preview.json", "/p/{token}/audit.json"],
    "/r.json": ["/p/{token}.json", "/p/{token}/preview.json"],
    "/f.json": ["/p/{token}.json", "/p/{token}/preview.json"],
}


def _document_links(api: FastAPI) -> None:
    build_document = api.openapi

    def openapi() -> dict:
        if api.openapi_schema is not None:
            return api.openapi_schema
        document = build_document()
        paths = document.get("paths", {})
        for source, targets in _LINKED_PATHS.items():
            created = paths.get(source, {}).get("post", {}).get("responses", {}).get("201")
            if created is None:
                continue
            links = created.setdefault("links", {})
            for target in targets:
                for method, operation in paths.get(target, {}).items():
                    if "operationId" in operation:
                        links[operation["operationId"]] = {
                            "operationId": operation["operationId"],
                            "parameters": {"token": "$response.body#/url_token"},
                        }
        api.openapi_schema = document
        return document

    api.openapi = openapi


def _document_token_auth(api: FastAPI) -> None:
    """Tell OpenAPI (and the docs' Authorize button) that a Bearer token is optional."""
    build_document = api.openapi

    def openapi() -> dict:
        if api.openapi_schema is None:
            document = build_document()
            document.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token (create-token)."}
            }
            document["security"] = [{}, {"bearer": []}]
        return api.openapi_schema or document

    api.openapi = openapi


def _add_json_fallbacks(api: FastAPI) -> None:
    def fallback(request: Request):
        # 405 when the path exists with other methods, else the one not-found shape.
        allowed = set()
        for route in api.routes:
            # Skip the fallbacks and Reflex's app, mounted at "" beneath ours: it matches everything.
            if getattr(route, "endpoint", None) is fallback or isinstance(route, Mount):
                continue
            for method in ("GET", "POST", "PATCH", "DELETE"):
                if route.matches({**request.scope, "method": method})[0] == Match.FULL:
                    allowed.add(method)
        if allowed:
            raise ApiError(405, said(N_("Method {method} is not allowed here."), method=request.method[:20]),
                           headers={"Allow": ", ".join(sorted(allowed))})
        return json_error(404, NOT_FOUND)

    for path in ("/api", "/api/{rest:path}", "/p/{rest:path}.json", "/f/{rest:path}.json", "/r/{rest:path}.json",
                 "/p.json", "/f.json", "/r.json", "/d/{rest:path}"):
        api.add_api_route(path, fallback, methods=ALL_METHODS, include_in_schema=False)
