"""Two-factor sign-in: TOTP codes (RFC 6238, pyotp) and single-use backup codes.

- Enrolment: the secret is made here (160 random bits), sealed at once under a data key
  of its own (core/sealing.py: AES-256-GCM, the key wrapped by the master key, bound to
  "totp <user id>"), and shown to its owner once, as a QR code and as text.  It is switched
  on only by a code it produced.  The secret is never logged, never in page state.
- Ten backup codes come with it, shown once and stored as Argon2id hashes (core/hashing.py);
  each is good once.
- A code is good once: the time step of the last accepted code is kept, and a code of that
  step or an earlier one is refused (one conditional UPDATE: two requests racing with the
  same code cannot both pass).  One step either side is accepted for clock drift.
- Wrong codes count with wrong passwords (core/accounts.py): the same count, the same lock.
- Turning it off takes the password and a code.  PWP__REQUIRE_MFA keeps it on.
- API tokens are unaffected: they are a credential of their own (docs/security.md).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, or_, update
from sqlmodel import select

from pwpush_app.core import accounts, login_attempts, login_steps, sealing
from pwpush_app.core.account_messages import MESSAGES, AccountError, LoginLocked
from pwpush_app.core.clock import utcnow
from pwpush_app.core.crypto import constant_time_equal
from pwpush_app.core.db import transaction
from pwpush_app.core.models import User
from pwpush_app.core.models_two_factor import BackupCode
from pwpush_app.core.runtime import Runtime

BACKUP_CODE_COUNT = 10
# Lower-case letters and digits that cannot be mistaken for one another (no 0/o, 1/l/i).
BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
BACKUP_CODE_CHARS = 10  # ~49 bits each: guessing is stopped long before by the lock-out
_BACKUP_RE = re.compile(f"[{BACKUP_ALPHABET}]{{{BACKUP_CODE_CHARS}}}")
_TOTP_RE = re.compile(r"\d{6}")
MAX_CODE_CHARS = 64
# Steps either side of now accepted (30 s each): phones' clocks drift.
DRIFT_STEPS = 1


@dataclass(frozen=True)
class Enrolment:
    """What its owner sees once: the secret as text, and as the otpauth:// URI of the QR code."""

    secret: str
    uri: str

    def __repr__(self) -> str:  # never print the secret
        return "Enrolment(...)"


def _refuse(code: str) -> AccountError:
    return AccountError(MESSAGES[code], "code", code)


def _subject(user_id: str) -> str:
    return f"totp {user_id}"


def _user(runtime: Runtime, user_id: str) -> User:
    user = accounts.get_user(runtime, user_id)
    if user is None:
        raise AccountError(MESSAGES["gone"], "form", "gone")
    return user


def _secret_of(runtime: Runtime, user: User) -> str | None:
    if user.totp_wrapped_key is None or user.totp_secret_sealed is None:
        return None
    return sealing.open_field(runtime, _subject(user.id), user.totp_wrapped_key, "secret",
                              user.totp_secret_sealed).decode("ascii")


def _normalise(code) -> str:
    """What a person typed, without the spaces and dashes they may add ('123 456', 'abcde-fghjk')."""
    if not isinstance(code, str) or len(code) > MAX_CODE_CHARS:
        return ""
    return re.sub(r"[\s-]", "", code).lower()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    if not _TOTP_RE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if constant_time_equal(totp.generate_otp(step), code):
            return step
    return None


# --- enrolment ----------------------------------------------------------------------------------

def begin_enrolment(runtime: Runtime, user_id: str, now: datetime | None = None) -> Enrolment:
    """A new secret for this account, stored sealed and not yet on (a new start replaces it)."""
    now = now or utcnow()
    user = _user(runtime, user_id)
    if user.two_factor_on:
        raise _refuse("two_factor_on")
    secret = pyotp.random_base32()
    wrapped, sealed = sealing.seal_record(runtime, _subject(user.id), {"secret": secret.encode("ascii")})
    with transaction(runtime.engine) as db:
        started = db.execute(
            update(User).where(User.id == user.id, User.totp_enabled_at == None)  # noqa: E711
            .values(totp_wrapped_key=wrapped, totp_secret_sealed=sealed["secret"], totp_last_step=None, updated_at=now)
        ).rowcount
    if not started:
        raise _refuse("two_factor_on")
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=runtime.settings.brand_title)
    return Enrolment(secret=secret, uri=uri)


def _new_backup_codes() -> list[str]:
    return ["".join(secrets.choice(BACKUP_ALPHABET) for _ in range(BACKUP_CODE_CHARS)) for _ in range(BACKUP_CODE_COUNT)]


def show_backup_code(code: str) -> str:
    """'abcde-fghjk': easier to copy by hand (the dash is optional when typed)."""
    return f"{code[:5]}-{code[5:]}"


def confirm_enrolment(runtime: Runtime, user_id: str, code: str, now: datetime | None = None) -> list[str]:
    """Switch two-factor on with a code the new secret produced; returns the ten backup
    codes, for their owner's eyes once (only their hashes are kept)."""
    now = now or utcnow()
    user = _user(runtime, user_id)
    if user.two_factor_on:
        raise _refuse("two_factor_on")
    secret = _secret_of(runtime, user)
    if secret is None:
        raise _refuse("enrol_first")
    step = _matching_step(secret, _normalise(code), now)
    if step is None:
        raise _refuse("code_wrong")
    codes = _new_backup_codes()
    hashes = [runtime.hashing.hash(c) for c in codes]
    with transaction(runtime.engine) as db:
        switched = db.execute(
            update(User).where(User.id == user.id, User.totp_enabled_at == None,  # noqa: E711
                               User.totp_secret_sealed == user.totp_secret_sealed)
            .values(totp_enabled_at=now, totp_last_step=step, updated_at=now)
        ).rowcount
        if not switched:  # another start replaced the secret meanwhile
            raise _refuse("enrol_first")
        db.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
        db.add_all(BackupCode(user_id=user.id, code_hash=h, created_at=now) for h in hashes)
    return [show_backup_code(c) for c in codes]


# --- codes --------------------------------------------------------------------------------------

def _spend_totp(runtime: Runtime, user: User, code: str, now: datetime) -> str | None:
    """'ok' (accepted, and now spent), 'used' (right, but spent already) or None (not a code of this secret)."""
    secret = _secret_of(runtime, user)
    step = _matching_step(secret, code, now) if secret else None
    if step is None:
        return None
    with transaction(runtime.engine) as db:
        taken = db.execute(
            update(User).where(User.id == user.id, User.totp_enabled_at != None,  # noqa: E711
                               or_(User.totp_last_step == None, User.totp_last_step < step))  # noqa: E711
            .values(totp_last_step=step)
        ).rowcount
    return "ok" if taken else "used"


def _spend_backup_code(runtime: Runtime, user: User, code: str, now: datetime) -> str | None:
    if not _BACKUP_RE.fullmatch(code):
        return None
    with transaction(runtime.engine, write=False) as db:
        unused = db.exec(select(BackupCode).where(BackupCode.user_id == user.id, BackupCode.used_at == None)).all()  # noqa: E711
    for row in unused:
        if runtime.hashing.verify(code, row.code_hash):
            with transaction(runtime.engine) as db:
                taken = db.execute(update(BackupCode).where(BackupCode.id == row.id, BackupCode.used_at == None)  # noqa: E711
                                   .values(used_at=now)).rowcount
            return "ok" if taken else "used"
    return None


def check_code(runtime: Runtime, user: User, code: str, ip: str, now: datetime | None = None) -> None:
    """Accept a current TOTP code or an unused backup code of this account, once.

    Raises RateLimited, LoginLocked (while the address is locked, every code is refused, the
    right one too), or AccountError `code_wrong` (counted as a wrong password: the count
    that locks) or `code_used` (a right code replayed: refused, not counted)."""
    now = now or utcnow()
    runtime.throttle.hit("login", ip)
    # Counted before it is checked (core/login_attempts.py): parallel codes get no more checks than the limit.
    attempt = login_attempts.reserve(runtime, accounts.email_digest(runtime, user.email), now)
    typed = _normalise(code)
    outcome = login_attempts.checked(runtime, attempt, lambda: _spend_totp(runtime, user, typed, now)
                                     or _spend_backup_code(runtime, user, typed, now))
    if outcome == "ok":
        with transaction(runtime.engine) as db:
            accounts.end_lock_out(db, runtime, user.email)
        return
    if outcome == "used":
        login_attempts.give_back(runtime, attempt)
        raise _refuse("code_used")
    until = login_attempts.count_wrong(runtime, attempt, now, user)
    if until is not None:
        raise LoginLocked(until)
    raise _refuse("code_wrong")


def backup_codes_left(runtime: Runtime, user_id: str) -> int:
    with transaction(runtime.engine, write=False) as db:
        return len(db.exec(select(BackupCode.id).where(BackupCode.user_id == user_id,
                                                       BackupCode.used_at == None)).all())  # noqa: E711


def renew_backup_codes(runtime: Runtime, user_id: str, code: str, ip: str, now: datetime | None = None) -> list[str]:
    """Ten new backup codes for a current code (from the app, or a backup code): returned for
    their owner's eyes once; the old ones, used or not, stop working in the same transaction."""
    now = now or utcnow()
    user = _user(runtime, user_id)
    if not user.two_factor_on:
        raise _refuse("two_factor_off")
    check_code(runtime, user, code, ip, now)
    codes = _new_backup_codes()
    hashes = [runtime.hashing.hash(c) for c in codes]
    with transaction(runtime.engine) as db:
        still_on = db.execute(update(User).where(User.id == user.id, User.totp_enabled_at != None)  # noqa: E711
                              .values(updated_at=now)).rowcount
        if not still_on:  # turned off (or reset by an administrator) meanwhile
            raise _refuse("two_factor_off")
        db.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
        db.add_all(BackupCode(user_id=user.id, code_hash=h, created_at=now) for h in hashes)
    return [show_backup_code(c) for c in codes]


def turn_off(runtime: Runtime, user_id: str, password: str, code: str, ip: str, now: datetime | None = None) -> None:
    """Two-factor off, with the password and a code (or a backup code); refused under PWP__REQUIRE_MFA."""
    now = now or utcnow()
    user = accounts.check_current_password(runtime, user_id, password)
    if not user.two_factor_on:
        raise _refuse("two_factor_off")
    if runtime.settings.require_mfa:
        raise _refuse("mfa_required")
    check_code(runtime, user, code, ip, now)
    with transaction(runtime.engine) as db:
        db.execute(update(User).where(User.id == user.id).values(
            totp_wrapped_key=None, totp_secret_sealed=None, totp_enabled_at=None, totp_last_step=None, updated_at=now))
        db.execute(delete(BackupCode).where(BackupCode.user_id == user.id))


# --- the login's second step ----------------------------------------------------------------------

def _step(runtime: Runtime, step_token: str | None, stage: str | None, now: datetime):
    found = login_steps.find(runtime, step_token, now)
    if found is None or (stage is not None and found[0].stage != stage):
        raise AccountError(MESSAGES["step_expired"], "form", "step_expired")
    return found


def step_stage(runtime: Runtime, step_token: str | None, now: datetime | None = None) -> str | None:
    """What this login step waits for (login_steps.CODE, ENROL, PASSED), or None: no live step."""
    found = login_steps.find(runtime, step_token, now or utcnow())
    return found[0].stage if found else None


def finish_login(runtime: Runtime, step_token: str | None, code: str, ip: str,
                 now: datetime | None = None) -> accounts.LoggedIn:
    """The second step: a right code (or an enrolment just done) opens the session, once."""
    now = now or utcnow()
    step, user = _step(runtime, step_token, None, now)
    if not accounts.logins_open(runtime):
        raise AccountError(MESSAGES["logins_disabled"], "form", "logins_disabled")
    if step.stage == login_steps.CODE:
        check_code(runtime, user, code, ip, now)
    elif step.stage != login_steps.PASSED:
        raise _refuse("enrol_first")
    with transaction(runtime.engine) as db:
        if not login_steps.spend(db, step):
            raise AccountError(MESSAGES["step_expired"], "form", "step_expired")
    return accounts.LoggedIn(user=user, session_token=accounts.open_session(runtime, user.id, step.remember, now),
                             remember=step.remember)


def begin_enrolment_at_login(runtime: Runtime, step_token: str | None, now: datetime | None = None) -> Enrolment:
    """PWP__REQUIRE_MFA: enrolment from the login step (before any session)."""
    now = now or utcnow()
    _step_, user = _step(runtime, step_token, login_steps.ENROL, now)
    return begin_enrolment(runtime, user.id, now)


def confirm_enrolment_at_login(runtime: Runtime, step_token: str | None, code: str,
                               now: datetime | None = None) -> list[str]:
    """Enrolled from the login step: its backup codes; the step may now open the session."""
    now = now or utcnow()
    step, user = _step(runtime, step_token, login_steps.ENROL, now)
    codes = confirm_enrolment(runtime, user.id, code, now)
    with transaction(runtime.engine) as db:
        login_steps.mark_passed(db, step)
    return codes
