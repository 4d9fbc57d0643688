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
from pwpush_app.core.vault import Vault, get_vault

log = logging.getLogger("pwpush.jobs")


def worker_name() -> str:
    """This process, asked at call time: granian forks its workers after importing the app,
    so a name computed at import would be the parent's, the same in every worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


ORPHAN_SWEEP_SECONDS = 3600


def purge_once(vault: Vault, holder: str | None = None) -> int | None:
    """Purge if this worker holds this period's lease; None when another worker has it."""
    holder = holder or worker_name()
    if not claim_period(vault, "purge", holder, vault.settings.purge_interval_seconds):
        return None
    expired = purge_expired(vault)
    # Sessions past their absolute end (idle ones are deleted when next presented).
    delete_stale_sessions(vault)
    delete_stale_login_failures(vault)
    # Blobs of uploads that died half-way (listing the store is not free: hourly is enough).
    if claim_period(vault, "sweep-orphan-blobs", holder, ORPHAN_SWEEP_SECONDS):
        sweep_orphan_blobs(vault)
    return expired


async def purge_job() -> None:
    """Expire overdue pushes and delete their secrets, once per PWPUSH_PURGE_INTERVAL_SECONDS
    across all workers (a lease row in the database picks the worker)."""
    vault = get_vault()
    while True:
        try:
            count = await asyncio.to_thread(purge_once, vault)
            if count:
                log.info("purge: expired %d overdue pushes", count)
        except DatabaseUnavailable as error:
            log.warning("purge: database unavailable (%s); will retry", error)
        except Exception:  # keep the job alive; the next round retries
            log.exception("purge: failed; will retry")
        await asyncio.sleep(vault.settings.purge_interval_seconds)
