"""Background jobs, registered as Reflex lifespan tasks (they start in every worker): the
purge, the mail sender (with owner notifications) and the webhook sender."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time

from pwpush_app.core.account_mail import delete_expired_tokens
from pwpush_app.core.accounts import delete_stale_login_failures, delete_stale_sessions
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import DatabaseUnavailable
from pwpush_app.core.file_downloads import sweep_orphan_blobs
from pwpush_app.core.leases import claim_period
from pwpush_app.core.login_steps import delete_stale_steps
from pwpush_app.core.notices import hand_out_events, send_due_digests
from pwpush_app.core.outbox import SendRound, forget_old_failures, mail_waiting, send_due_mails
from pwpush_app.core.passkeys import delete_stale_challenges
from pwpush_app.core.purge import purge_expired
from pwpush_app.core.runtime import Runtime, get_runtime
from pwpush_app.core.webhooks import calls_waiting, deliver_due, forget_old_deliveries

log = logging.getLogger("pwpush.jobs")

# A worker's jobs start this long after it: their first rounds (the runtime opened, the first
# queries compiled: ~50 ms of CPU) would otherwise hold up the first requests of a start, a
# reload or a standby's takeover. Expiry never waits for the purge (a reveal checks it).
JOBS_START_DELAY_S = 1.0


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
    delete_stale_steps(runtime)
    delete_stale_challenges(runtime)
    # Blobs of uploads that died half-way (listing the store is not free: hourly is enough).
    if claim_period(runtime, "sweep-orphan-blobs", holder, ORPHAN_SWEEP_SECONDS):
        sweep_orphan_blobs(runtime)
    return expired


async def purge_job() -> None:
    """Expire overdue pushes and delete their secrets, once per PWPUSH_PURGE_INTERVAL_SECONDS
    across all workers (a lease row in the database picks the worker)."""
    await asyncio.sleep(JOBS_START_DELAY_S)
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


# --- mail, notifications and webhooks ------------------------------------------------------------

HOUSEKEEPING_SECONDS = 3600


def mail_round(runtime: Runtime, holder: str | None = None) -> SendRound:
    """One round of the background sender: owner events become mails and webhook calls,
    due digests are queued, then every due mail goes (core/outbox.py has the rules).
    Each step runs even when one before it failed (its error is logged, and it is tried
    again next round): a password reset never waits for a notice that can't be written."""
    holder = holder or worker_name()
    _mail_step("owner events", _hand_out_all, runtime)
    _mail_step("digests", send_due_digests, runtime)
    done = _mail_step("sending", send_due_mails, runtime, holder)
    _mail_step("housekeeping", _mail_housekeeping, runtime, holder)
    return done or SendRound()


def _hand_out_all(runtime: Runtime) -> None:
    while hand_out_events(runtime):
        pass


def _mail_housekeeping(runtime: Runtime, holder: str) -> None:
    if claim_period(runtime, "mail-housekeeping", holder, HOUSEKEEPING_SECONDS):
        forget_old_failures(runtime)
        forget_old_deliveries(runtime)
        delete_expired_tokens(runtime, utcnow())


def _mail_step(name: str, step, *args):
    """`step(*args)`, or None with its failure logged.  The log names the error's type, not
    its text: these steps hold sealed mails and tokens, and an error may quote them."""
    try:
        return step(*args)
    except DatabaseUnavailable as error:
        log.warning("mail: %s: database unavailable (%s); will retry", name, error)
    except Exception as error:  # noqa: BLE001  (the other steps still run; this one next round)
        log.error("mail: %s failed (%s); the round's other steps ran, this one is tried again next round", name,
                  type(error).__name__)
    return None


async def _wait_for(flag: threading.Event, seconds: float) -> None:
    """Sleep until `flag` is set (something was queued in this process) or `seconds` passed."""
    deadline = time.monotonic() + seconds
    while not flag.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    flag.clear()


async def mail_job() -> None:
    """Send queued mail (and hand out owner events), every PWPUSH_MAIL_POLL_SECONDS or as soon
    as this worker queues one; every worker runs it, leases keep each mail to one of them."""
    await asyncio.sleep(JOBS_START_DELAY_S)
    runtime = get_runtime()
    log.info("mail: %s", runtime.settings.mail.describe_server())
    while True:
        try:
            done = await asyncio.to_thread(mail_round, runtime)
            if done.sent or done.given_up or done.dropped:
                log.info("mail: %d sent, %d to try again, %d given up, %d dropped", done.sent, done.retrying,
                         done.given_up, done.dropped)
        except DatabaseUnavailable as error:
            log.warning("mail: database unavailable (%s); will retry", error)
        except Exception:  # keep the job alive; the next round retries
            log.exception("mail: failed; will retry")
        await _wait_for(mail_waiting, runtime.settings.mail.poll_seconds)


async def webhook_job() -> None:
    """Call webhook endpoints with their due events (like mail_job, on its own so that a slow
    mail server never holds the webhooks up)."""
    await asyncio.sleep(JOBS_START_DELAY_S)
    runtime = get_runtime()
    while True:
        try:
            if runtime.settings.mail.webhooks:
                await asyncio.to_thread(deliver_due, runtime, worker_name())
        except DatabaseUnavailable as error:
            log.warning("webhooks: database unavailable (%s); will retry", error)
        except Exception:
            log.exception("webhooks: failed; will retry")
        await _wait_for(calls_waiting, runtime.settings.mail.poll_seconds)
