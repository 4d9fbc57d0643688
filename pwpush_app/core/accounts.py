"""Accounts: sign up, log in, sessions, passwords, API tokens, and deleting an account.

Passwords are Argon2id hashes (runtime.hashing, a bounded number at a time).  Session cookies and API tokens are
128-bit random tokens stored only as SHA-256 digests (random tokens need no slow hash).
Every time rule takes `now=` so tests can move the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import delete, update
from sqlmodel import Session, select

from pwpush_app.core import account_mail, crypto, login_attempts, login_steps, session_checks
from pwpush_app.core.account_messages import (  # noqa: F401  (the account's words, named here too)
    LOGIN_FAILED,
    MESSAGES,
    PASSWORD_MAX_CHARS,
    PASSWORD_MIN_CHARS,
    AccountError,
    LoginFailed,
    LoginLocked,
    form_message,
)
from pwpush_app.core.audit import Client
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.i18n import normalise
from pwpush_app.core.models import LoginFailures, LoginSession, Push, User
from pwpush_app.core.owners import expire_by_owner
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.session_checks import MAX_TOKEN_CHARS  # noqa: F401  (named here too)

# No whitespace and no control character (NUL included: PostgreSQL refuses it in a query).
_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,189}\.[^@\s\x00-\x1f\x7f]{1,63}$")
MAX_EMAIL_CHARS = 254
# A session's last activity is written at most this often (a dashboard polls every few seconds).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)

@dataclass(frozen=True)
class LoggedIn:
    user: User
    # The session cookie's value: handed to the browser once, never stored.
    session_token: str
    # "Keep me logged in": the cookie outlives the browser.
    remember: bool = False


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def is_email_address(email: str) -> bool:
    """Whether a normalised `email` is an address an account can have; anything else names no
    account and is never looked up."""
    return len(email) <= MAX_EMAIL_CHARS and _EMAIL_RE.match(email) is not None


def _check_email(email: str) -> str:
    email = normalize_email(email)
    if not is_email_address(email):
        raise AccountError(MESSAGES["email_invalid"], "email")
    return email


def check_password_rules(password: str, field: str = "password") -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN_CHARS:
        raise AccountError(MESSAGES["password_short"], field)
    if len(password) > PASSWORD_MAX_CHARS:
        raise AccountError(MESSAGES["password_long"], field)


def check_new_address(runtime: Runtime, email: str) -> str:
    """An address an account may take (sign-up, change of address): normalised, or AccountError."""
    email = _check_email(email)
    pattern = runtime.settings.signup_email_regexp
    if pattern and not re.fullmatch(pattern, email):
        raise AccountError(MESSAGES["email_not_allowed"], "email")
    return email


def signups_open(runtime: Runtime) -> bool:
    return not runtime.settings.disable_signups and logins_open(runtime)


def logins_open(runtime: Runtime) -> bool:
    """PWP__DISABLE_LOGINS: nobody opens a session, by logging in or by signing up.  Sessions
    already open keep working, and so do API tokens (the CLI and scripts)."""
    return not runtime.settings.disable_logins


def _require_logins_open(runtime: Runtime) -> None:
    if not logins_open(runtime):
        raise AccountError(MESSAGES["logins_disabled"], "form", "logins_disabled")


# --- sign up ------------------------------------------------------------------------------------

def sign_up(runtime: Runtime, email: str, password: str, ip: str | None = None, now: datetime | None = None,
            locale: str = "") -> User:
    """A new account (its mails in `locale`, the sign-up page's language).  Raises AccountError
    (with the field) when a rule refuses it, and RateLimited when `ip` signs up too often."""
    now = now or utcnow()
    settings = runtime.settings
    _require_logins_open(runtime)
    if ip is not None:
        runtime.throttle.hit("signup", ip)
    if settings.disable_signups:
        raise AccountError(MESSAGES["signups_closed"], "form")
    email = check_new_address(runtime, email)
    check_password_rules(password)
    password_hash = runtime.hashing.hash(password)
    with transaction(runtime.engine) as db:
        if db.exec(select(User.id).where(User.email == email)).first() is not None:
            raise AccountError(MESSAGES["email_taken"], "email")
        user = User(id=crypto.new_id(), email=email, password_hash=password_hash, created_at=now, updated_at=now,
                    locale=normalise(locale, settings.pages.enabled_languages) or "")
        db.add(user)
        # With account emails, the address is confirmed before the first login.
        account_mail.send_confirmation(db, runtime, user, now)
    return user


# --- log in -------------------------------------------------------------------------------------

# Checked against when the email is unknown, so that path does the same work.
_DUMMY_HASH = None


def _dummy_hash(runtime: Runtime) -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = runtime.hashing.hash(crypto.new_token())
    return _DUMMY_HASH


def log_in(
    runtime: Runtime, email: str, password: str, ip: str, remember: bool = False, now: datetime | None = None
) -> LoggedIn | login_steps.SecondStep:
    """Check the password and open a session, or (two-factor on, or PWP__REQUIRE_MFA) give
    the half-signed-in step that asks for the code (core/two_factor.py opens the session).

    Raises RateLimited (too many attempts from this client), LoginFailed (always the same
    message) or LoginLocked: after `login_max_failures` wrong passwords in a row for an
    email, every password for it, right ones included, is refused for
    `login_lockout_minutes`.  Every failing path does the same work, one Argon2 check and
    one write, whether the email has an account or not: neither the answer nor its
    timing tells which.  Wrong codes count with wrong passwords: a right password before
    its code clears no count, so guessing codes between logins still ends in the lock.
    Each guess is counted before it is checked (core/login_attempts.py): parallel guesses
    get no more checks than the limit; a locked guess is checked against nothing.
    """
    now = now or utcnow()
    _require_logins_open(runtime)
    runtime.throttle.hit("login", ip)
    email = normalize_email(email)[:MAX_EMAIL_CHARS + 1]
    password = password if isinstance(password, str) else ""
    digest = email_digest(runtime, email)
    with transaction(runtime.engine, write=False) as db:
        user = db.exec(select(User).where(User.email == email)).first() if is_email_address(email) else None
    known = user is not None and user.password_hash is not None and len(password) <= PASSWORD_MAX_CHARS
    try:
        attempt = login_attempts.reserve(runtime, digest, now)
    except LoginLocked:
        # The work of a wrong password, the guess itself never checked.
        runtime.hashing.verify(password[:PASSWORD_MAX_CHARS], _dummy_hash(runtime))
        raise
    # Never more than the longest allowed password goes into Argon2.
    right = login_attempts.checked(runtime, attempt, lambda: runtime.hashing.verify(
        password[:PASSWORD_MAX_CHARS], user.password_hash if known else _dummy_hash(runtime)))
    if known and right:
        stage = login_steps.second_step_needed(runtime, user)
        if stage is not None:  # the code is still to come: this password clears nothing
            login_attempts.give_back(runtime, attempt)
        with transaction(runtime.engine) as db:
            if stage is None:
                db.execute(delete(LoginFailures).where(LoginFailures.email_digest == digest))
            promote_listed_admin(db, runtime, user, now)
            if account_mail.awaits_confirmation(runtime, user):
                # Only someone who knows the password learns this; the link goes again now and then.
                if not account_mail.confirmation_recently_sent(db, user.id, now):
                    account_mail.send_confirmation(db, runtime, user, now)
        if account_mail.awaits_confirmation(runtime, user):
            raise AccountError(MESSAGES["email_unconfirmed"], "form", "email_unconfirmed")
        if stage is not None:
            return login_steps.begin(runtime, user, stage, remember, now)
        return LoggedIn(user=user, session_token=open_session(runtime, user.id, remember, now))
    login_attempts.count_wrong(runtime, attempt, now, user)
    raise LoginFailed()


def promote_listed_admin(db: Session, runtime: Runtime, user: User, now: datetime) -> None:
    """PWP__ADMIN_EMAILS: a listed account becomes an administrator when it logs in, once its
    owner has proved the address by mail (anyone can sign up with, or move an account to, an
    address: being listed is no proof; the settings refuse the list without account emails).
    Taking the address off the list demotes nobody: `make-admin --remove` does."""
    if not user.is_admin and user.email in runtime.settings.admin_emails and user.email_confirmed_at is not None:
        db.execute(update(User).where(User.id == user.id).values(is_admin=True, updated_at=now))
        user.is_admin = True


def email_digest(runtime: Runtime, email: str) -> str:
    return runtime.keyring.token_digest("login failures\x00" + email)


def login_lock(runtime: Runtime, email: str, now: datetime | None = None) -> datetime | None:
    """Until when logging in with this address is locked, or None."""
    now = now or utcnow()
    with transaction(runtime.engine, write=False) as db:
        failures = db.get(LoginFailures, email_digest(runtime, email))
    return login_attempts.lock_end(runtime, failures, now)


def delete_stale_login_failures(runtime: Runtime, now: datetime | None = None) -> int:
    """Forget counts and locks that no longer matter (older than the lock-out)."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=runtime.settings.login_lockout_minutes)
    with transaction(runtime.engine) as db:
        return db.execute(
            delete(LoginFailures).where(
                LoginFailures.updated_at < cutoff,
                (LoginFailures.locked_until == None) | (LoginFailures.locked_until < now),  # noqa: E711
            )
        ).rowcount


# --- sessions -----------------------------------------------------------------------------------

def open_session(runtime: Runtime, user_id: str, remember: bool, now: datetime, full_login: bool = True) -> str:
    """A new session.  `full_login`: its login proved the account's credentials (the password and
    the second factor if any, or a passkey), so for RECENT_LOGIN_MINUTES it may add a passkey or an
    API token (`session_checks.require_recent_login`)."""
    token = crypto.new_token()
    expires_at = now + timedelta(days=runtime.settings.session_remember_days)
    with transaction(runtime.engine) as db:
        db.add(LoginSession(id=crypto.plain_digest(token), user_id=user_id, remember=bool(remember),
                            created_at=now, logged_in_at=now if full_login else None, last_seen_at=now,
                            expires_at=expires_at))
    return token


def user_for_session(runtime: Runtime, session_token: str | None, now: datetime | None = None) -> User | None:
    """The user logged in by this session cookie, or None (unknown, expired or revoked).

    Counts as activity for the idle limit.
    """
    if not session_token or len(session_token) > MAX_TOKEN_CHARS:
        return None
    now = now or utcnow()
    digest = crypto.plain_digest(session_token)
    with transaction(runtime.engine, write=False) as db:
        found = db.exec(
            select(LoginSession, User).join(User, User.id == LoginSession.user_id).where(LoginSession.id == digest)
        ).first()
    if found is None:
        return None
    session, user = found
    if not session_checks.is_live(runtime, session, now):
        with transaction(runtime.engine) as db:
            db.execute(delete(LoginSession).where(LoginSession.id == digest))
        return None
    if now - session.last_seen_at >= LAST_SEEN_RESOLUTION:
        with transaction(runtime.engine) as db:
            db.execute(update(LoginSession).where(LoginSession.id == digest).values(last_seen_at=now))
    return user


def log_out(runtime: Runtime, session_token: str | None) -> None:
    if not session_token or len(session_token) > MAX_TOKEN_CHARS:
        return
    with transaction(runtime.engine) as db:
        db.execute(delete(LoginSession).where(LoginSession.id == crypto.plain_digest(session_token)))


def _revoke_all_sessions(db, user_id: str) -> None:
    db.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


def delete_stale_sessions(runtime: Runtime, now: datetime | None = None) -> int:
    """Remove sessions past their absolute end (the idle ones go when next presented)."""
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        return db.execute(delete(LoginSession).where(LoginSession.expires_at <= now)).rowcount


# --- password and account -----------------------------------------------------------------------

def check_current_password(runtime: Runtime, user_id: str, password: str, now: datetime | None = None) -> User:
    """The password asked again by a logged-in form (new password or address, two-factor off,
    a passkey removed, the account deleted).  A wrong one counts as a wrong login password, the
    same count and lock (a stolen session guesses no faster than a stranger); while the address
    is locked every password is refused (LoginLocked), the right one too.  A right one gives
    its count back: it proves less than a login, so it clears nothing."""
    now = now or utcnow()
    with transaction(runtime.engine, write=False) as db:
        user = db.get(User, user_id)
    if user is None or user.password_hash is None:
        raise AccountError(MESSAGES["current_password"], "current_password")
    attempt = login_attempts.reserve(runtime, email_digest(runtime, user.email), now)
    if login_attempts.checked(runtime, attempt, lambda: isinstance(password, str) and len(password) <= PASSWORD_MAX_CHARS
                              and runtime.hashing.verify(password, user.password_hash)):
        login_attempts.give_back(runtime, attempt)
        return user
    until = login_attempts.count_wrong(runtime, attempt, now, user)
    if until is not None:
        raise LoginLocked(until)
    raise AccountError(MESSAGES["current_password"], "current_password")


def change_password(
    runtime: Runtime, user_id: str, current_password: str, new_password: str, remember: bool = False,
    now: datetime | None = None,
) -> str:
    """Set a new password; every session of the user ends.  Returns a new session token
    for the browser that made the change."""
    now = now or utcnow()
    check_password_rules(new_password, "new_password")
    user = check_current_password(runtime, user_id, current_password)
    set_password(runtime, user, new_password, now)
    # The password alone proves the account only where it has no second factor (sudo mode).
    return open_session(runtime, user_id, remember, now, full_login=login_steps.second_step_needed(runtime, user) is None)


def set_password(runtime: Runtime, user: User, new_password: str, now: datetime | None = None,
                 proof: Callable[[Session], None] | None = None) -> None:
    """A new password (rules checked): every session ends, every link mailed before stops
    working (a pending move of the account, reset, unlock and confirm links), a lock-out for
    the address ends, and the owner is told by mail (account emails).  `proof` runs first in
    the same transaction and raises to refuse (a reset link, spent there): passing it proves
    the address is the owner's, so it also counts as confirmed."""
    now = now or utcnow()
    check_password_rules(new_password, "new_password")
    new_hash = runtime.hashing.hash(new_password)
    values = dict(password_hash=new_hash, updated_at=now)
    if proof is not None and user.email_confirmed_at is None:
        values["email_confirmed_at"] = now
    with transaction(runtime.engine) as db:
        if proof is not None:
            proof(db)
        if not db.execute(update(User).where(User.id == user.id).values(**values)).rowcount:
            raise AccountError(MESSAGES["gone"], "form", "gone")
        _revoke_all_sessions(db, user.id)
        account_mail.void_tokens(db, user.id)
        login_steps.end_steps_of(db, user.id)
        end_lock_out(db, runtime, user.email)
        account_mail.send_password_changed(db, runtime, user, now)


def end_lock_out(db: Session, runtime: Runtime, email: str) -> None:
    """Forget the wrong passwords counted for this address, and its lock (not a lock set by an
    administrator: a reset link or an unlock mail does not lift that; admin_actions.unlock does)."""
    db.execute(delete(LoginFailures).where(LoginFailures.email_digest == email_digest(runtime, email),
                                           LoginFailures.by_admin == False))  # noqa: E712


def delete_account(runtime: Runtime, user_id: str, password: str, client: Client, now: datetime | None = None) -> None:
    """Expire every push of the account (their secrets deleted), then remove the account."""
    now = now or utcnow()
    check_current_password(runtime, user_id, password)
    with transaction(runtime.engine, write=False) as db:
        live = list(db.exec(select(Push).where(Push.owner_id == user_id, Push.expired == False)))  # noqa: E712
    for push in live:
        expire_by_owner(runtime, push, client, now)
    with transaction(runtime.engine) as db:
        _revoke_all_sessions(db, user_id)
        db.execute(delete(User).where(User.id == user_id))


# --- API tokens ---------------------------------------------------------------------------------

def issue_api_token(runtime: Runtime, email: str, now: datetime | None = None) -> tuple[User, str]:
    """Create the user if absent (the create-token command), give them a fresh API token.

    The previous token stops working at once.  Only the digest is stored.
    """
    now = now or utcnow()
    email = normalize_email(email)
    if not _EMAIL_RE.match(email):
        raise AccountError(f"{email!r} is not an email address.", "email")
    token = crypto.new_token()
    with transaction(runtime.engine) as db:
        user = db.exec(select(User).where(User.email == email)).first()
        if user is None:
            # Made by an admin, who vouches for the address.
            user = User(id=crypto.new_id(), email=email, email_confirmed_at=now, created_at=now, updated_at=now)
        user.api_token_digest = crypto.plain_digest(token)
        user.api_token_created_at = now
        user.updated_at = now
        db.add(user)
    return user, token


def regenerate_api_token(runtime: Runtime, user_id: str, now: datetime | None = None, *,
                         session_token: str | None) -> str:
    """A new API token for an existing account (shown once); the old one stops working.

    The token acts as the account without its password and outlives a password change, so
    only a session with a recent login makes one (`session_checks.require_recent_login`; the operator's
    create-token command is `issue_api_token`), and the owner is told by mail (account emails)."""
    now = now or utcnow()
    session_checks.require_recent_login(runtime, user_id, session_token, "login_again_token", now)
    token = crypto.new_token()
    with transaction(runtime.engine) as db:
        done = db.execute(
            update(User).where(User.id == user_id)
            .values(api_token_digest=crypto.plain_digest(token), api_token_created_at=now, updated_at=now)
        ).rowcount
        if done:
            account_mail.send_api_token_created(db, runtime, db.get(User, user_id), now)
    if not done:
        raise AccountError(MESSAGES["gone"])
    return token


def revoke_api_token(runtime: Runtime, user_id: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        db.execute(update(User).where(User.id == user_id)
                   .values(api_token_digest=None, api_token_created_at=None, updated_at=now))


def user_for_api_token(runtime: Runtime, token: str) -> User | None:
    """The user holding this API token, or None.  Only reads: a made-up token costs a
    lookup, never the write lock or a sync to disk."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    with transaction(runtime.engine, write=False) as db:
        return db.exec(select(User).where(User.api_token_digest == crypto.plain_digest(token))).first()


def get_user(runtime: Runtime, user_id: str) -> User | None:
    with transaction(runtime.engine, write=False) as db:
        return db.get(User, user_id)
