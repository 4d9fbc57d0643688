"""Administrators, and the one rule every admin page, event and API call goes through:
`require_admin` ("only an admin may ...").

An account becomes an administrator by `python -m pwpush_app make-admin EMAIL` (`--remove`
takes it back), or by logging in with an address listed in PWP__ADMIN_EMAILS
(core/accounts.py).  The rule reads the account afresh from the database at every call:
a demoted admin is refused at their next click, whatever their page still shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, func, update
from sqlmodel import select

from pwpush_app.core import accounts
from pwpush_app.core.account_messages import AccountError
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.i18n import N_
from pwpush_app.core.models import LoginFailures, User
from pwpush_app.core.models_passkeys import Passkey
from pwpush_app.core.runtime import Runtime

# The users page shows at most this many accounts; a search narrows it down.
USERS_SHOWN = 200
MAX_SEARCH_CHARS = 254


class NotAdmin(Exception):
    """Someone who is not an administrator asked for an admin action or page."""

    def __init__(self):
        super().__init__(N_("Only an administrator may do that."))


def require_admin(runtime: Runtime, user_id: str | None) -> User:
    """The administrator behind `user_id`, or NotAdmin: nobody, a deleted account, not an
    admin, or an admin another one locked (the lock ends their sessions; their API token
    keeps working for pushes, but carries no admin power while the lock lasts)."""
    if not user_id or not isinstance(user_id, str):
        raise NotAdmin()
    user = accounts.get_user(runtime, user_id)
    if user is None or not user.is_admin:
        raise NotAdmin()
    with transaction(runtime.engine, write=False) as db:
        if locked_by_an_admin(db, runtime, user.email, utcnow()):
            raise NotAdmin()
    return user


def locked_by_an_admin(db, runtime: Runtime, email: str, now: datetime) -> bool:
    """An administrator's lock on this address is in force."""
    failures = db.get(LoginFailures, accounts.email_digest(runtime, email))
    return failures is not None and failures.by_admin and failures.locked_until is not None and failures.locked_until > now


class LoginsClosed(NotAdmin):
    """PWP__DISABLE_LOGINS: the admin area is closed like every account page."""

    def __init__(self):
        Exception.__init__(self, accounts.MESSAGES["logins_disabled"])


def require_admin_area(runtime: Runtime, admin_id: str | None) -> User:
    """The admin area's door, for every admin page and event: logins open (PWP__DISABLE_LOGINS
    closes the area, as every account page) and an administrator (`require_admin`)."""
    if not accounts.logins_open(runtime):
        raise LoginsClosed()
    return require_admin(runtime, admin_id)


class LastAdministrator(Exception):
    """`make-admin --remove` of the only administrator: nobody could manage the site after."""


def set_admin(runtime: Runtime, email: str, admin: bool = True, now: datetime | None = None) -> User:
    """make-admin: the account with this address made an administrator (or, `admin=False`, not,
    unless it is the last one: LastAdministrator)."""
    now = now or utcnow()
    email = accounts.normalize_email(email)
    with transaction(runtime.engine) as db:
        # Every administrator's row locked: two removals at once cannot leave none.
        admins = list(db.exec(select(User.id).where(User.is_admin == True).order_by(User.id).with_for_update()))  # noqa: E712
        user = db.exec(select(User).where(User.email == email)).first()
        if user is None:
            raise AccountError(f"No account has the address {email!r}: sign up with it first "
                               "(or `create-token` it), then run make-admin again.", "email")
        if not admin and user.is_admin and admins == [user.id]:
            raise LastAdministrator(f"{email} is the last administrator: make another account one first "
                                    "(`make-admin OTHER-EMAIL`), then remove this one.")
        db.execute(update(User).where(User.id == user.id).values(is_admin=admin, updated_at=now))
    user.is_admin = admin
    return user


@dataclass(frozen=True)
class UserRow:
    """One account as the users page lists it (never a secret: no hash, token or key)."""

    id: str
    email: str
    created_at: datetime
    two_factor_on: bool
    locked: bool
    is_admin: bool
    passkeys: int = 0


def address_contains(search: str):
    """The condition "the account's address contains `search`".  No address holds a control
    character (accounts.is_email_address), so a search with one matches nothing, without
    sending it to the database (PostgreSQL refuses a NUL in a query)."""
    if not search.isprintable():
        return false()
    return User.email.contains(search, autoescape=True)


def list_users(runtime: Runtime, admin_id: str | None, search: str = "", now: datetime | None = None) -> list[UserRow]:
    """Accounts, newest first, whose address contains `search`: for administrators only."""
    require_admin_area(runtime, admin_id)
    now = now or utcnow()
    search = accounts.normalize_email(search if isinstance(search, str) else "")[:MAX_SEARCH_CHARS]
    query = select(User).order_by(User.created_at.desc(), User.email).limit(USERS_SHOWN)
    if search:
        query = query.where(address_contains(search))
    with transaction(runtime.engine, write=False) as db:
        users = db.exec(query).all()
        digests = {accounts.email_digest(runtime, u.email): u.id for u in users}
        locked = {digests[row.email_digest] for row in db.exec(
            select(LoginFailures).where(LoginFailures.email_digest.in_(list(digests)), LoginFailures.locked_until > now))}
        passkeys = dict(db.exec(select(Passkey.user_id, func.count()).where(Passkey.user_id.in_([u.id for u in users]))
                                .group_by(Passkey.user_id)).all())
    return [UserRow(id=u.id, email=u.email, created_at=u.created_at, two_factor_on=u.two_factor_on,
                    locked=u.id in locked, is_admin=u.is_admin, passkeys=passkeys.get(u.id, 0)) for u in users]
