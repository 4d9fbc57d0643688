"""Background jobs, registered as Reflex lifespan tasks (they start in every worker)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from pwpush_app.core.accounts import delete_stale_login_failures, delete_stale_sessions
from pwpush_app.core.db import DatabaseUnavailable
from pwpush_app.core.file_downloads import sweep_orphan_blobs
from pwpush_app.core.leases import claim_period
from pwpush_app.core.purge import purge_expired
from pwpush_app.core.runtime import Runtime, get_runtime

log = logging.getLogger("pwpush.jobs")


def worker_name() -> str:
    """This process, asked at call time: granian forks its workers after importing the app,
    so a name computed at import would be the parent's, the same in every worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


ORPHAN_SWEEP_SECONDS = 3600


def purge_once(runtime: Runtime, holder: str | None = None) -> int | None:
    """Purge if this worker holds this period's lease; None when another worker has it."""
    holder = holder or worker_name()
    if not claim_period(runtime, "purge", holder, runtime.settings.purge_interval_seconds):
        return None
    expired = purge_expired(runtime)
    # Sessions past their absolute end (idle ones are deleted when next presented).
    delete_stale_sessions(runtime)
    delete_stale_login_failures(runtime)
    # Blobs of uploads that died half-way (listing the store is not free: hourly is enough).
    if claim_period(runtime, "sweep-orphan-blobs", holder, ORPHAN_SWEEP_SECONDS):
        sweep_orphan_blobs(runtime)
    return expired


async def purge_job() -> None:
    """Expire overdue pushes and delete their secrets, once per PWPUSH_PURGE_INTERVAL_SECONDS
    across all workers (a lease row in the database picks the worker)."""
    runtime = get_runtime()
    while True:
        try:
            count = await asyncio.to_thread(purge_once, runtime)
            if count:
                log.info("purge: expired %d overdue pushes", count)
        except DatabaseUnavailable as error:
            log.warning("purge: database unavailable (%s); will retry", error)
        except Exception:  # keep the job alive; the next round retries
            log.exception("purge: failed; will retry")
        await asyncio.sleep(runtime.settings.purge_interval_seconds)
