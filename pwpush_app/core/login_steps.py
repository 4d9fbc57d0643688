"""The half-signed-in step of a login: past a correct password, before any session.

When an account has two-factor on (or PWP__REQUIRE_MFA asks every account to), a correct
password opens no session.  It gives a *login step* instead: a 128-bit random token for an
HttpOnly cookie, stored as its SHA-256 like a session.  The step is not a session:
`accounts.user_for_session` never accepts it, so it reaches no page, event or API call.
It is good for one thing, for a few minutes: the code form (core/two_factor.py takes the
code and opens the session) or, under PWP__REQUIRE_MFA, enrolment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import select

from pwpush_app.core import crypto
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.models import User
from pwpush_app.core.models_passkeys import Passkey
from pwpush_app.core.models_two_factor import LoginStep
from pwpush_app.core.runtime import Runtime

# Long enough to open an authenticator app (or set one up), short enough to go stale.
STEP_MINUTES = 10
MAX_STEP_TOKEN_CHARS = 256
# What the step waits for.
CODE, ENROL, PASSED = "code", "enrol", "passed"


def cookie_name(settings) -> str:
    """The step cookie's name: `__Host-` on an https site, as the session cookie's (settings.session_cookie)."""
    return "__Host-pwpush_login_step" if settings.https_site else "pwpush_login_step"


@dataclass(frozen=True)
class SecondStep:
    """A login that needs its second factor: `token` goes into the step cookie, once."""

    user: User
    token: str
    stage: str


def second_step_needed(runtime: Runtime, user: User) -> str | None:
    """The stage a correct password leads to for this account, or None: no second step.

    A passkey (core/passkeys.py) is offered beside the code; under PWP__REQUIRE_MFA an
    account with a passkey has its second factor already, and is not sent to enrol."""
    if user.totp_enabled_at is not None:
        return CODE
    if runtime.settings.require_mfa:
        with transaction(runtime.engine, write=False) as db:
            has_passkey = db.exec(select(Passkey.id).where(Passkey.user_id == user.id)).first() is not None
        return CODE if has_passkey else ENROL
    return None


def begin(runtime: Runtime, user: User, stage: str, remember: bool, now: datetime | None = None) -> SecondStep:
    now = now or utcnow()
    token = crypto.new_token()
    with transaction(runtime.engine) as db:
        db.add(LoginStep(id=crypto.plain_digest(token), user_id=user.id, stage=stage, remember=bool(remember),
                         created_at=now, expires_at=now + timedelta(minutes=STEP_MINUTES)))
    return SecondStep(user=user, token=token, stage=stage)


def _digest(token: str | None) -> str | None:
    if not isinstance(token, str) or not token or len(token) > MAX_STEP_TOKEN_CHARS:
        return None
    return crypto.plain_digest(token)


def find(runtime: Runtime, token: str | None, now: datetime | None = None) -> tuple[LoginStep, User] | None:
    """The live step behind this cookie and its account, or None (unknown, stale, spent)."""
    digest = _digest(token)
    if digest is None:
        return None
    now = now or utcnow()
    with transaction(runtime.engine, write=False) as db:
        found = db.exec(select(LoginStep, User).join(User, User.id == LoginStep.user_id)
                        .where(LoginStep.id == digest)).first()
    if found is None or found[0].expires_at <= now:
        return None
    return found[0], found[1]


def mark_passed(db, step: LoginStep) -> None:
    """Enrolment done within the step: the session may open without another code."""
    db.execute(update(LoginStep).where(LoginStep.id == step.id, LoginStep.stage == ENROL).values(stage=PASSED))


def spend(db, step: LoginStep) -> bool:
    """End the step (its session is opening): True for the one caller that ended it."""
    return bool(db.execute(delete(LoginStep).where(LoginStep.id == step.id)).rowcount)


def end_steps_of(db, user_id: str) -> None:
    db.execute(delete(LoginStep).where(LoginStep.user_id == user_id))


def delete_stale_steps(runtime: Runtime, now: datetime | None = None) -> int:
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        return db.execute(delete(LoginStep).where(LoginStep.expires_at <= now)).rowcount
