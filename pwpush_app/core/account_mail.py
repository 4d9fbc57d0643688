"""Account mails and their one-time tokens (PWP__ENABLE_USER_ACCOUNT_EMAILS).

- A token is 128 random bits, mailed in a link (`links.account_link`); the database keeps
  only its keyed hash.  It serves one purpose (confirm, reset, unlock, email), for a
  while (`LIFETIMES`: a password reset one hour), and once: it is consumed by a DELETE that
  returns it, so two clicks at once can't both use it.  A new token of a purpose voids the
  account's earlier one of that purpose; a new password or a new address voids them all
  (`void_tokens`).
- Each `send_*` queues its mail in the caller's transaction (core/outbox.py); with account
  emails off they send nothing.

The flows that start from these links (reset a password, confirm an address) are in
core/account_recovery.py; accounts.py calls the `send_*` here when an account changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, select

from pwpush_app.core import crypto, letters, links
from pwpush_app.core.db import transaction
from pwpush_app.core.models import User
from pwpush_app.core.models_mail import AccountToken
from pwpush_app.core.outbox import queue_mail
from pwpush_app.core.records import looks_like_token
from pwpush_app.core.runtime import Runtime

CONFIRM, RESET, UNLOCK, EMAIL = "confirm", "reset", "unlock", "email"
LIFETIMES = {
    CONFIRM: timedelta(days=3),
    RESET: timedelta(hours=1),
    UNLOCK: timedelta(days=1),
    EMAIL: timedelta(days=3),
}
# A confirmation mail asked for again (a login before confirming, or the form) goes at most this often.
RESEND_AFTER = timedelta(minutes=10)


def account_emails(runtime: Runtime) -> bool:
    return runtime.settings.mail.account_emails


def awaits_confirmation(runtime: Runtime, user: User) -> bool:
    """The account may not log in yet: account emails are on and its address is not confirmed."""
    return account_emails(runtime) and user.email_confirmed_at is None


def _digests(runtime: Runtime, token: str) -> list[str]:
    return runtime.keyring.token_digests("account token\x00" + token)


def issue_token(db: Session, runtime: Runtime, user_id: str, purpose: str, now: datetime,
                new_email: str | None = None) -> str:
    """A new token for `purpose`; the account's earlier token of that purpose stops working."""
    token = crypto.new_token()
    db.execute(delete(AccountToken).where(AccountToken.user_id == user_id, AccountToken.purpose == purpose))
    db.add(AccountToken(digest=_digests(runtime, token)[0], user_id=user_id, purpose=purpose, new_email=new_email,
                        expires_at=now + LIFETIMES[purpose], created_at=now))
    return token


def void_tokens(db: Session, user_id: str) -> None:
    """Every link mailed to the account stops working (confirm, reset, unlock, a pending move):
    after a new password or a new address, nothing mailed before may act on the account."""
    db.execute(delete(AccountToken).where(AccountToken.user_id == user_id))


def peek_token(runtime: Runtime, token: str, purpose: str, now: datetime) -> AccountToken | None:
    """The live token, without using it up (a GET of a link must not spend it)."""
    if not looks_like_token(token):
        return None
    with transaction(runtime.engine, write=False) as db:
        found = db.exec(select(AccountToken).where(AccountToken.digest.in_(_digests(runtime, token)),
                                                   AccountToken.purpose == purpose)).first()
    return found if found is not None and found.expires_at > now else None


def consume_token(db: Session, runtime: Runtime, token: str, purpose: str, now: datetime) -> AccountToken | None:
    """Use the token up: the row it was, if it was live; None for an unknown, used or expired token."""
    if not looks_like_token(token):
        return None
    row = db.execute(
        delete(AccountToken)
        .where(AccountToken.digest.in_(_digests(runtime, token)), AccountToken.purpose == purpose)
        .returning(AccountToken.user_id, AccountToken.new_email, AccountToken.expires_at, AccountToken.created_at)
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return AccountToken(digest="", user_id=row.user_id, purpose=purpose, new_email=row.new_email,
                        expires_at=row.expires_at, created_at=row.created_at)


def delete_expired_tokens(runtime: Runtime, now: datetime) -> int:
    with transaction(runtime.engine) as db:
        return db.execute(delete(AccountToken).where(AccountToken.expires_at <= now)).rowcount


def _days(span: timedelta) -> int:
    return max(1, span.days)


# --- the mails -------------------------------------------------------------------------------------

def _language(runtime: Runtime, user: User | None) -> str:
    """The account's language (User.locale), or the site's default."""
    return letters.reader_locale(runtime.settings, user.locale if user is not None else None)


def send_confirmation(db: Session, runtime: Runtime, user: User, now: datetime) -> None:
    """Ask the owner of a new account to confirm its address."""
    if not account_emails(runtime):
        return
    token = issue_token(db, runtime, user.id, CONFIRM, now)
    letter = letters.confirm_letter(runtime.settings, user.email, links.account_link(runtime.settings.base_url, CONFIRM, token),
                                    _days(LIFETIMES[CONFIRM]), _language(runtime, user))
    queue_mail(db, runtime, letter, "confirm", user_id=user.id, now=now)


def confirmation_recently_sent(db: Session, user_id: str, now: datetime) -> bool:
    sent = db.exec(select(AccountToken.created_at).where(AccountToken.user_id == user_id,
                                                         AccountToken.purpose == CONFIRM)).first()
    return sent is not None and sent > now - RESEND_AFTER


def send_reset(db: Session, runtime: Runtime, user: User, now: datetime) -> None:
    token = issue_token(db, runtime, user.id, RESET, now)
    letter = letters.reset_letter(runtime.settings, user.email, links.account_link(runtime.settings.base_url, RESET, token),
                                  int(LIFETIMES[RESET].total_seconds() // 60), _language(runtime, user))
    queue_mail(db, runtime, letter, "reset", user_id=user.id, now=now)


def reset_recently_sent(db: Session, user_id: str, now: datetime) -> bool:
    """A reset mail went out a moment ago: another would only fill the inbox (a live token
    younger than RESEND_AFTER)."""
    sent = db.exec(select(AccountToken.created_at).where(AccountToken.user_id == user_id,
                                                         AccountToken.purpose == RESET)).first()
    return sent is not None and sent > now - RESEND_AFTER


def unlock_letter_for(runtime: Runtime, user: User, token: str, locked_until: datetime) -> letters.Letter:
    return letters.unlock_letter(runtime.settings, user.email, links.account_link(runtime.settings.base_url, UNLOCK, token),
                                 runtime.settings.login_max_failures, locked_until, _language(runtime, user))


def send_unlock(db: Session, runtime: Runtime, user: User, locked_until: datetime, now: datetime) -> None:
    """The account was just locked by wrong passwords: offer its owner a way back in."""
    if not account_emails(runtime):
        return
    token = issue_token(db, runtime, user.id, UNLOCK, now)
    queue_mail(db, runtime, unlock_letter_for(runtime, user, token, locked_until), "unlock", user_id=user.id, now=now)


def send_password_changed(db: Session, runtime: Runtime, user: User, now: datetime) -> None:
    if account_emails(runtime):
        queue_mail(db, runtime, letters.password_changed_letter(runtime.settings, user.email, now, _language(runtime, user)), "password_changed",
                   user_id=user.id, now=now)


def send_passkey_added(db: Session, runtime: Runtime, user: User, name: str, now: datetime) -> None:
    """A passkey signs in alone and outlives a password change: its owner hears of each new one."""
    if account_emails(runtime):
        queue_mail(db, runtime, letters.passkey_added_letter(runtime.settings, user.email, name, now, _language(runtime, user)),
                   "passkey_added", user_id=user.id, now=now)


def send_api_token_created(db: Session, runtime: Runtime, user: User, now: datetime) -> None:
    """An API token acts as the account and outlives a password change: its owner hears of each new one."""
    if account_emails(runtime):
        queue_mail(db, runtime, letters.api_token_created_letter(runtime.settings, user.email, now, _language(runtime, user)),
                   "api_token_created", user_id=user.id, now=now)


def send_email_change(db: Session, runtime: Runtime, user: User, new_email: str, now: datetime) -> None:
    """Ask the owner of the new address to confirm it; the account keeps its address until then.
    The current address is told at once (someone with a phished password may be moving the
    account away: its owner can still change the password, which voids the move's link)."""
    queue_mail(db, runtime, letters.email_move_asked_letter(runtime.settings, user.email, new_email, now,
                                                            _language(runtime, user)),
               "email_changed", user_id=user.id, now=now)  # an address change notice, as the failed-mail list says
    token = issue_token(db, runtime, user.id, EMAIL, now, new_email=new_email)
    letter = letters.email_change_letter(runtime.settings, new_email, user.email,
                                         links.account_link(runtime.settings.base_url, EMAIL, token), _days(LIFETIMES[EMAIL]),
                                         _language(runtime, user))
    queue_mail(db, runtime, letter, "email_change", user_id=user.id, now=now)


def send_email_changed(db: Session, runtime: Runtime, user_id: str, old_email: str, new_email: str, now: datetime) -> None:
    if account_emails(runtime):
        letter = letters.email_changed_letter(runtime.settings, old_email, new_email, now,
                                              _language(runtime, db.get(User, user_id)))
        queue_mail(db, runtime, letter,
                   "email_changed", user_id=user_id, now=now)
