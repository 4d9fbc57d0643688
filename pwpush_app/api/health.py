"""GET /up: Password Pusher's health check (load balancers and container probes ask it).

200 with a green page while the database answers, 503 with a red one when it does not;
nothing else is read, and nothing is logged.
"""

from __future__ import annotations

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from pwpush_app.api.auth import current_runtime
from pwpush_app.api.routes import Routes
from pwpush_app.core.db import transaction
from pwpush_app.core.runtime import Runtime

routes = Routes(include_in_schema=False)

_PAGE = "<html style='background:{color};width:100%;height:100vh'></html>"


def _database_answers(runtime: Runtime) -> bool:
    try:
        with transaction(runtime.engine, write=False) as db:
            db.connection().exec_driver_sql("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure is "not healthy"
        return False


@routes.api_route("/up", methods=["GET", "HEAD"])
async def up(runtime: Runtime = Depends(current_runtime)):
    healthy = await run_in_threadpool(_database_answers, runtime)
    return HTMLResponse(_PAGE.format(color="green" if healthy else "red"), status_code=200 if healthy else 503,
                        headers={"Cache-Control": "no-store"})


# Password Pusher's documentation addresses lead to ours.
@routes.get("/api")
@routes.get("/help/api")
def api_help():
    return RedirectResponse("/api/docs", status_code=302)
