"""When a login session counts (core/accounts.py opens and ends them).

- Live: before its absolute end (`expires_at`) and, unless "remember me", used within the
  idle limit (PWP__SESSION_IDLE_MINUTES).
- Recently logged in ("sudo mode", as GitHub has it): its login proved the account's
  credentials (the password and the second factor if any, or a passkey) at most
  RECENT_LOGIN_MINUTES ago.  Adding a passkey or an API token takes that, since both sign in
  without the password and outlive a password change: a stolen session cookie alone, however
  long it was kept busy, adds neither.  The operator's create-token command needs no session.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pwpush_app.core import crypto
from pwpush_app.core.account_messages import MESSAGES, RECENT_LOGIN_MINUTES, AccountError
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.models import LoginSession
from pwpush_app.core.runtime import Runtime

# Longer than any token we issue (session, API token); refuses to hash megabytes of header.
MAX_TOKEN_CHARS = 256


def is_live(runtime: Runtime, session: LoginSession, now: datetime) -> bool:
    if session.expires_at <= now:
        return False
    if session.remember:
        return True
    return session.last_seen_at + timedelta(minutes=runtime.settings.session_idle_minutes) > now


def require_recent_login(runtime: Runtime, user_id: str, session_token: str | None, code: str,
                         now: datetime | None = None) -> None:
    """Refuse (AccountError `code`, whose message tells the user to log in again) unless this
    session is the user's, live, and its login is at most RECENT_LOGIN_MINUTES old.  Activity
    does not count: the time is the login's (LoginSession.logged_in_at), never moved after."""
    now = now or utcnow()
    session = None
    if isinstance(session_token, str) and session_token and len(session_token) <= MAX_TOKEN_CHARS:
        with transaction(runtime.engine, write=False) as db:
            session = db.get(LoginSession, crypto.plain_digest(session_token))
    if session is None or session.user_id != user_id or not is_live(runtime, session, now) \
            or session.logged_in_at is None or now - session.logged_in_at > timedelta(minutes=RECENT_LOGIN_MINUTES):
        raise AccountError(MESSAGES[code], "form", code)
