"""Version endpoints, JSON for unknown paths and methods, the OpenAPI document and the docs page."""

from __future__ import annotations

import re

import pytest


def test_v2_version_announces_the_features_the_cli_reads(api):
    response = api.get("/api/v2/version")
    assert response.status_code == 200
    body = response.json()
    assert body["api_version"] == "2.1" and body["edition"] == "oss"
    assert isinstance(body["application_version"], str)
    features = body["features"]
    assert features["anonymous_access"] is True
    assert features["api_token_authentication"] is True
    # The CLI would try Pro-only account selection if this were true.
    assert features["accounts"] == {"enabled": False}
    assert features["pushes"]["file_attachments"] == {"enabled": True, "requires_authentication": True}
    assert features["pushes"]["url_pushes"] == {"enabled": True} and features["pushes"]["qr_code_pushes"] == {"enabled": True}
    assert features["pushes"]["email_auto_dispatch"] is False
    assert features["requests"] == {"enabled": False}


def test_v1_version(api):
    response = api.get("/api/v1/version")
    assert response.status_code == 200
    assert response.json() == {"application_version": response.json()["application_version"],
                               "api_version": "1.5", "edition": "oss"}


def test_version_endpoints_ignore_a_wrong_token(api):
    headers = {"Authorization": "Bearer not-a-real-token"}
    assert api.get("/api/v2/version", headers=headers).status_code == 200
    assert api.get("/api/v1/version", headers=headers).status_code == 200


def test_version_reflects_settings(make_api):
    api, _ = make_api(PWP__ALLOW_ANONYMOUS="false", PWP__ENABLE_URL_PUSHES="false")
    features = api.get("/api/v2/version").json()["features"]
    assert features["anonymous_access"] is False
    assert features["pushes"]["url_pushes"] == {"enabled": False}


def test_unknown_api_paths_answer_json_404(api):
    for path in ("/api/nope", "/api/v2/nothing/here", "/api/v3/pushes", "/p/nope/extra.json",
                 "/p/a/b/c.json", "/f/a/b.json", "/r/a/b/c.json"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert response.json() == {"error": "not-found"}


def test_password_pushers_doc_addresses_lead_to_ours_and_up_is_its_health_check(api):
    for path in ("/api", "/help/api"):
        response = api.get(path)
        assert response.status_code == 302 and response.headers["location"] == "/api/docs", path
    up = api.get("/up")
    assert up.status_code == 200 and "green" in up.text and up.headers["cache-control"] == "no-store"
    assert api.head("/up").status_code == 200


@pytest.mark.sqlite_only
def test_up_says_so_when_the_database_does_not_answer(make_api):
    import shutil

    api, runtime = make_api()
    runtime.engine.dispose()
    database = runtime.settings.data_dir / "pwpush.db"
    database.unlink()
    database.mkdir()  # a folder where the database file was: nothing answers
    down = api.get("/up")
    assert down.status_code == 503 and "red" in down.text
    shutil.rmtree(database)


def test_wrong_methods_answer_json_405_with_allow(api):
    cases = [
        ("POST", "/api/v2/version", "GET"),
        ("PUT", "/api/v2/pushes", "POST"),
        ("GET", "/api/v2/pushes", "POST"),
        ("GET", "/p.json", "POST"),
        ("POST", "/p/active.json", "DELETE, GET"),  # also /p/{token}.json
        ("PUT", "/api/v2/pushes/abcdefghijklmnopqrstuv", "DELETE, GET, PATCH"),  # PATCH edits it
    ]
    for method, path, allow in cases:
        response = api.request(method, path)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["allow"] == allow
        assert "not allowed" in response.json()["error"]


def test_openapi_document_lists_every_endpoint_with_examples(api):
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert set(spec["paths"]) >= {
        "/api/v2/version", "/api/v2/pushes", "/api/v2/pushes/{token}", "/api/v2/pushes/{token}/preview",
        "/api/v2/pushes/{token}/audit", "/api/v2/pushes/active", "/api/v2/pushes/expired", "/api/v1/version",
        "/p.json", "/f.json", "/r.json", "/p/{token}.json", "/p/{token}/preview.json", "/p/{token}/audit.json",
        "/p/active.json", "/p/expired.json",
    }
    create = spec["paths"]["/api/v2/pushes"]["post"]
    assert create["requestBody"]["content"]["application/json"]["example"]["push"]["payload"]
    assert "expire_after_duration" in create["requestBody"]["content"]["application/json"]["schema"]["properties"]["push"]["properties"]
    assert spec["components"]["schemas"]["PushOut"]["examples"]


def test_docs_page_loads_local_assets_without_inline_script(api):
    page = api.get("/api/docs")
    assert page.status_code == 200
    html = page.text
    sources = re.findall(r'<script src="([^"]+)"></script>', html)
    assert sources == ["/api/docs/swagger-ui-bundle.js", "/api/docs/docs-init.js"]
    # No inline script, no remote asset: works offline and under a strict CSP.
    assert re.search(r"<script>(?!</script>)", html) is None
    assert "http" not in html
    for asset in ("/api/docs/swagger-ui-bundle.js", "/api/docs/docs-init.js", "/api/docs/swagger-ui.css"):
        response = api.get(asset)
        assert response.status_code == 200 and len(response.content) > 100, asset
    assert "SwaggerUIBundle(" in api.get("/api/docs/docs-init.js").text
    assert api.get("/api/docs/nope.js").status_code == 404


def test_with_an_app_mounted_beneath_as_reflex_does_pages_stay_pages(runtime):
    """Reflex mounts its app at "" inside ours: its HTML 404s stay HTML, our paths stay JSON."""
    import httpx
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from pwpush_app.api.app import build_api

    async def page(request):
        return HTMLResponse("<html>page</html>")

    spa = Starlette(routes=[Route("/", page), Route("/p/{token}", page)])
    app = build_api(lambda: runtime)
    app.mount("", spa)

    import asyncio

    async def run():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return [await client.request(m, p) for m, p in
                    [("GET", "/api/nope"), ("POST", "/api/v2/version"), ("GET", "/p/sometoken"),
                     ("GET", "/elsewhere"), ("GET", "/api/v2/version")]]

    nope, wrong_method, page_hit, elsewhere, version = asyncio.run(run())
    assert (nope.status_code, nope.json()) == (404, {"error": "not-found"})
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"
    assert page_hit.status_code == 200 and page_hit.text == "<html>page</html>"
    assert elsewhere.status_code == 404 and "application/json" not in elsewhere.headers["content-type"]
    assert version.status_code == 200


def test_an_unexpected_error_is_a_json_500_without_a_traceback(runtime):
    import asyncio

    import httpx

    from pwpush_app.api.app import build_api

    def broken_runtime():
        raise RuntimeError("boom with a secret inside")

    app = build_api(broken_runtime)

    async def run():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/api/v2/pushes/AAAAAAAAAAAAAAAAAAAAAA")

    response = asyncio.run(run())
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "Something went wrong" in response.json()["error"]
    assert "boom" not in response.text and "Traceback" not in response.text


def test_database_trouble_is_a_503_with_retry_after(runtime):
    import asyncio

    import httpx

    from pwpush_app.api.app import build_api
    from pwpush_app.core.db import DatabaseUnavailable

    def locked_runtime():
        raise DatabaseUnavailable("database is locked")

    async def run():
        transport = httpx.ASGITransport(app=build_api(locked_runtime), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/api/v2/pushes", json={"push": {"payload": "x"}})

    response = asyncio.run(run())
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "nothing was changed" in response.json()["error"]


def test_each_route_is_built_once_for_the_app(tmp_path):
    """Building a route (its handler, dependencies, response models: ~0.5 ms) is part of
    every server start: each of the API's routes is built once, for the app, not once when
    its module declares it and again for the app that includes it (api/routes.py)."""
    import os
    import subprocess
    import sys

    script = """
import fastapi.routing as routing
built = []
populate = routing._populate_api_route_state
def counting(route, path, *args, **kwargs):
    built.append(path)
    return populate(route, path, *args, **kwargs)
routing._populate_api_route_state = counting
from fastapi.routing import APIRoute
from pwpush_app.api.app import build_api
api = build_api()
api.openapi()
paths = sorted(route.path for route in api.routes if isinstance(route, APIRoute))
assert sorted(built) == paths, (len(built), len(paths))
print(len(paths))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PWPUSH_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) > 80
