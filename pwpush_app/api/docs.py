"""Interactive docs at /api/docs from local files: no CDN, no inline script (CSP-friendly).

Swagger UI's bundle comes from the `fastapi-offline` package (Swagger UI 5, which reads
OpenAPI 3.1); our `static/docs-init.js` starts it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi.responses import FileResponse, HTMLResponse

from pwpush_app.api.errors import not_found
from pwpush_app.api.routes import Routes

routes = Routes(prefix="/api/docs", include_in_schema=False)

_OWN = Path(__file__).parent / "static"
_SWAGGER = Path(str(files("fastapi_offline") / "static"))
ASSETS = {
    "swagger-ui.css": (_SWAGGER / "swagger-ui.css", "text/css"),
    "swagger-ui-bundle.js": (_SWAGGER / "swagger-ui-bundle.js", "text/javascript"),
    "docs-init.js": (_OWN / "docs-init.js", "text/javascript"),
    "favicon.png": (_SWAGGER / "favicon.png", "image/png"),
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Password Pusher API</title>
<link rel="icon" href="/api/docs/favicon.png">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/api/openapi.json"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/docs-init.js"></script>
</body>
</html>
"""


@routes.get("")
def docs_page():
    return HTMLResponse(PAGE)


@routes.get("/{asset}")
def docs_asset(asset: str):
    if asset not in ASSETS:
        raise not_found()
    path, media_type = ASSETS[asset]
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
