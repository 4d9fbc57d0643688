"""Accounts as far as the API needs them: a user per email and one API token each.

The token is shown once and stored only as its SHA-256 digest (128 random bits need no
slow hash).  The accounts issue adds passwords, sessions and the pages; it keeps these.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import select

from pwpush_app.core import crypto
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.models import User
from pwpush_app.core.vault import Vault

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,63}$")
# Longer than any token we issue; refuses to hash megabytes of header.
MAX_TOKEN_CHARS = 256


class AccountError(ValueError):
    """A request about an account that cannot be done; the message is fit to show."""


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def issue_api_token(vault: Vault, email: str, now: datetime | None = None) -> tuple[User, str]:
    """Create the user if absent, give them a fresh API token, return (user, token).

    The previous token stops working at once.  Only the digest is stored.
    """
    now = now or utcnow()
    email = normalize_email(email)
    if not _EMAIL_RE.match(email):
        raise AccountError(f"{email!r} is not an email address.")
    token = crypto.new_token()
    with transaction(vault.engine) as db:
        user = db.exec(select(User).where(User.email == email)).first()
        if user is None:
            user = User(id=crypto.new_id(), email=email, created_at=now, updated_at=now)
        user.api_token_digest = crypto.plain_digest(token)
        user.api_token_created_at = now
        user.updated_at = now
        db.add(user)
    return user, token


def user_for_api_token(vault: Vault, token: str) -> User | None:
    """The user holding this API token, or None."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    with transaction(vault.engine) as db:
        return db.exec(select(User).where(User.api_token_digest == crypto.plain_digest(token))).first()
