"""What an account's owner does through a mailed link (PWP__ENABLE_USER_ACCOUNT_EMAILS):
reset a forgotten password, confirm the address, unlock a locked account, move the
account to a new address; and asking for those mails.

- Asking for a reset or for the confirmation again gets the same answer, and the same
  work (one write transaction), whether or not an account has that address: nothing
  tells a stranger which addresses have accounts.  At most one such mail per account per
  ten minutes, so the form can't fill someone's inbox.
- A reset link works once, for one hour; opening it spends nothing (mail scanners open
  links), setting the password spends it, in the transaction that sets the password.
- A new password ends every session and any lock-out, and its owner hears of it.
- A new address is confirmed from that address before the account moves to it; the old
  address hears of the move.  Without account emails the move is immediate.  Either way
  the links mailed before the move (to the old address) stop working.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from pwpush_app.core import account_mail
from pwpush_app.core.account_mail import CONFIRM, EMAIL, RESET, UNLOCK
from pwpush_app.core.accounts import (
    MESSAGES,
    AccountError,
    check_current_password,
    check_new_address,
    check_password_rules,
    end_lock_out,
    is_email_address,
    normalize_email,
    set_password,
)
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.models import User
from pwpush_app.core.runtime import Runtime


def _require_account_emails(runtime: Runtime) -> None:
    if not account_mail.account_emails(runtime):
        raise AccountError(MESSAGES["mail_unavailable"], "form", "mail_unavailable")


def _link_invalid() -> AccountError:
    return AccountError(MESSAGES["link_invalid"], "form", "link_invalid")


def _account_by_email(db: Session, email: str) -> User | None:
    email = normalize_email(email)
    if not is_email_address(email):
        return None
    return db.exec(select(User).where(User.email == email)).first()


def account_for_email(runtime: Runtime, email: str) -> User | None:
    """The account with this address (the admin's reset-password command), or None."""
    with transaction(runtime.engine, write=False) as db:
        return _account_by_email(db, email)


def request_password_reset(runtime: Runtime, email: str, ip: str, now: datetime | None = None) -> None:
    """Mail a reset link if `email` has an account; the same answer (none) either way."""
    now = now or utcnow()
    runtime.throttle.hit("login", ip)
    _require_account_emails(runtime)
    with transaction(runtime.engine) as db:
        user = _account_by_email(db, email)
        if user is not None and user.password_hash is not None and not account_mail.reset_recently_sent(db, user.id, now):
            account_mail.send_reset(db, runtime, user, now)


def reset_link_works(runtime: Runtime, token: str, now: datetime | None = None) -> bool:
    """The link is live (opening it spends nothing)."""
    return account_mail.peek_token(runtime, token, RESET, now or utcnow()) is not None


def reset_password(runtime: Runtime, token: str, new_password: str, ip: str, now: datetime | None = None) -> User:
    """Set the password of the account the link was mailed to, spending the link.

    Raises AccountError: a password the rules refuse (the link stays usable), or
    `link_invalid` (unknown, used, expired, or the account is gone)."""
    now = now or utcnow()
    runtime.throttle.hit("login", ip)
    _require_account_emails(runtime)
    check_password_rules(new_password, "new_password")
    live = account_mail.peek_token(runtime, token, RESET, now)
    with transaction(runtime.engine, write=False) as db:
        user = db.get(User, live.user_id) if live is not None else None
    if user is None:
        raise _link_invalid()

    def spend(db: Session) -> None:
        spent = account_mail.consume_token(db, runtime, token, RESET, now)
        if spent is None or spent.user_id != user.id:
            raise _link_invalid()

    set_password(runtime, user, new_password, now, proof=spend)
    return user


def confirm_address(runtime: Runtime, token: str, now: datetime | None = None) -> None:
    """The owner opened the confirmation link: the account may log in.  AccountError(link_invalid) otherwise."""
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        spent = account_mail.consume_token(db, runtime, token, CONFIRM, now)
        if spent is None:
            raise _link_invalid()
        db.execute(update(User).where(User.id == spent.user_id, User.email_confirmed_at == None)  # noqa: E711
                   .values(email_confirmed_at=now, updated_at=now))


def resend_confirmation(runtime: Runtime, email: str, ip: str, now: datetime | None = None) -> None:
    """Mail the confirmation link again if `email` has an unconfirmed account; the same answer either way."""
    now = now or utcnow()
    runtime.throttle.hit("login", ip)
    _require_account_emails(runtime)
    with transaction(runtime.engine) as db:
        user = _account_by_email(db, email)
        if user is not None and user.email_confirmed_at is None and not account_mail.confirmation_recently_sent(db, user.id, now):
            account_mail.send_confirmation(db, runtime, user, now)


def unlock_account(runtime: Runtime, token: str, now: datetime | None = None) -> None:
    """The owner opened the unlock link: wrong passwords are forgotten and the lock ends."""
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        spent = account_mail.consume_token(db, runtime, token, UNLOCK, now)
        user = db.get(User, spent.user_id) if spent is not None else None
        if user is None:
            raise _link_invalid()
        end_lock_out(db, runtime, user.email)


def change_email(runtime: Runtime, user_id: str, new_email: str, current_password: str, ip: str,
                 now: datetime | None = None) -> bool:
    """Move the account to `new_email` (its current password checked).

    With account emails the new address is asked to confirm first (returns False: pending);
    without, the account moves at once (returns True).  Raises AccountError."""
    now = now or utcnow()
    runtime.throttle.hit("login", ip)
    user = check_current_password(runtime, user_id, current_password)
    new_email = check_new_address(runtime, new_email)
    if new_email == user.email:
        raise AccountError(MESSAGES["email_same"], "email", "email_same")
    with transaction(runtime.engine) as db:
        if db.exec(select(User.id).where(User.email == new_email)).first() is not None:
            raise AccountError(MESSAGES["email_taken"], "email", "email_taken")
        if account_mail.account_emails(runtime):
            account_mail.send_email_change(db, runtime, user, new_email, now)
            return False
        # Moved without proof: the new address counts as unconfirmed (were account emails
        # turned on later, it would be asked to confirm, and PWP__ADMIN_EMAILS would wait for it).
        db.execute(update(User).where(User.id == user.id).values(email=new_email, email_confirmed_at=None, updated_at=now))
        account_mail.void_tokens(db, user.id)  # links mailed to the old address don't follow the account
    return True


def confirm_new_email(runtime: Runtime, token: str, now: datetime | None = None) -> str:
    """The new address confirmed the move: the account takes it (if still free), its other
    mailed links stop working, the old address is told.  Returns the new address; AccountError otherwise."""
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        spent = account_mail.consume_token(db, runtime, token, EMAIL, now)
        user = db.get(User, spent.user_id) if spent is not None else None
        if user is None or not spent.new_email:
            raise _link_invalid()
        if db.exec(select(User.id).where(User.email == spent.new_email)).first() is not None:
            raise AccountError(MESSAGES["email_taken"], "email", "email_taken")
        old_email = user.email
        db.execute(update(User).where(User.id == user.id)
                   .values(email=spent.new_email, email_confirmed_at=now, updated_at=now))
        account_mail.void_tokens(db, user.id)  # links mailed to the old address don't follow the account
        account_mail.send_email_changed(db, runtime, user.id, old_email, spent.new_email, now)
    return spent.new_email
