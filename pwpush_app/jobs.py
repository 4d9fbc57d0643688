"""Background jobs, registered as Reflex lifespan tasks (they run once per worker)."""

from __future__ import annotations

import asyncio
import logging

from pwpush_app.core.db import DatabaseUnavailable
from pwpush_app.core.pushes import purge_expired
from pwpush_app.core.vault import get_vault

log = logging.getLogger("pwpush.jobs")


async def purge_job() -> None:
    """Expire overdue pushes and delete their secrets, every PWPUSH_PURGE_INTERVAL_SECONDS.

    Several workers may run it at once: each expiry is a conditional UPDATE, so a push is
    expired (and logged) exactly once whoever gets there first.
    """
    vault = get_vault()
    while True:
        try:
            count = await asyncio.to_thread(purge_expired, vault)
            if count:
                log.info("purge: expired %d overdue pushes", count)
        except DatabaseUnavailable as error:
            log.warning("purge: database unavailable (%s); will retry", error)
        except Exception:  # keep the job alive; the next round retries
            log.exception("purge: failed; will retry")
        await asyncio.sleep(vault.settings.purge_interval_seconds)
