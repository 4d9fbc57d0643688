"""What an administrator may do to an account, each action written to the admin audit log.

Every action goes through `admin.require_admin`, read inside the action's own transaction
with the rows it touches locked (in id order, so two administrators acting on each other
wait for one another): an admin demoted a moment ago is refused, and two admins demoting
each other at once leave one.  The rules an action refuses by (AdminRefused) are here:

- lock: every login with the account's address is refused (as after too many wrong
  passwords, and told alike) until an administrator unlocks it; its sessions and login
  steps end.  A password reset or an unlock mail does not lift it.  API tokens keep working
  (revoke them from the account, or delete it).
- unlock: lifts an admin lock, or a lock-out after wrong passwords or codes.
- delete: the account's live pushes expire as the owner's "Expire now" does (payloads,
  notes and files deleted), then its pushes and the account go.  Not yourself (the account
  page deletes your own account, with your password).
- reset_2fa: two-factor off and its backup codes gone, for someone who lost their phone and
  codes; the next login asks for the password only (or enrolment, under PWP__REQUIRE_MFA).
- promote / demote: never yourself out of admin, never the last administrator, nor an
  address PWP__ADMIN_EMAILS lists (its next login would make it one again).
- sign_out: every session and half-done login of the account ends.

PWP__DISABLE_LOGINS closes the admin area like every account page (LoginsClosed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from pwpush_app.core import accounts, crypto, login_steps
from pwpush_app.core.admin import NotAdmin, locked_by_an_admin, require_admin_area
from pwpush_app.core.audit import Client, cut
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.file_downloads import delete_blobs_of_pushes
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.models import LoginFailures, LoginSession, Push, PushFile, User
from pwpush_app.core.models_admin import AdminAction
from pwpush_app.core.models_passkeys import Passkey, PasskeyChallenge
from pwpush_app.core.models_two_factor import BackupCode
from pwpush_app.core.owners import expire_by_owner
from pwpush_app.core.runtime import Runtime

LOCK, UNLOCK, DELETE, RESET_2FA, PROMOTE, DEMOTE, SIGN_OUT = (
    "lock", "unlock", "delete", "reset_2fa", "promote", "demote", "sign_out")
ACTIONS = (LOCK, UNLOCK, DELETE, RESET_2FA, PROMOTE, DEMOTE, SIGN_OUT)
# An action on a push (core/admin_pushes.py): its log row names the push's owner (or "anonymous").
EXPIRE_PUSH = "expire_push"
# How the audit log names each action.
# English; the page shows them in the viewer's language (marked for the catalogues).
ACTION_WORDS = {LOCK: N_("Locked"), UNLOCK: N_("Unlocked"), DELETE: N_("Deleted"), RESET_2FA: N_("Reset two-factor of"),
                PROMOTE: N_("Made administrator"), DEMOTE: N_("Removed administrator"),
                SIGN_OUT: N_("Signed out everywhere"), EXPIRE_PUSH: N_("Expired a push of")}
# An admin lock: far beyond any lock-out, lifted only by `unlock`.
ADMIN_LOCK = timedelta(days=365 * 100)
LOG_SHOWN = 100


class AdminRefused(Exception):
    """An administrator asked for something a rule refuses; nothing was changed."""


@dataclass(frozen=True)
class Done:
    """What an action did, in the words the page shows."""

    action: str
    target_email: str
    detail: str = ""


def _as_id(value) -> str:
    return value if crypto.could_be_id(value) else ""


def _lock_rows(db: Session, runtime: Runtime, admin_id: str, target_id: str, now: datetime) -> tuple[User, User]:
    """The acting admin (still an admin, not locked meanwhile) and the target, both rows
    locked, in id order."""
    ids = sorted({admin_id, target_id})
    rows = {u.id: u for u in db.exec(select(User).where(User.id.in_(ids)).order_by(User.id).with_for_update())}
    actor = rows.get(admin_id)
    if actor is None or not actor.is_admin or locked_by_an_admin(db, runtime, actor.email, now):
        raise NotAdmin()
    target = rows.get(target_id)
    if target is None:
        raise AdminRefused(N_("That account no longer exists: reload the list."))
    return actor, target


def log_action(db: Session, actor: User, action: str, target_id: str, target_email: str, client: Client,
               now: datetime, detail: str = "") -> None:
    """One row of the admin audit log, in the action's own transaction."""
    db.add(AdminAction(admin_id=actor.id, admin_email=actor.email, action=action, target_id=target_id,
                       target_email=target_email, detail=cut(detail), ip=cut(client.ip, 64),
                       user_agent=cut(client.user_agent), created_at=now))


def _log(db: Session, actor: User, action: str, target: User, client: Client, now: datetime, detail: str = "") -> None:
    log_action(db, actor, action, target.id, target.email, client, now, detail)


def _act(runtime: Runtime, admin_id: str | None, target_id, action: str, client: Client, now: datetime | None,
         change) -> Done:
    """Check the door, lock both rows, run `change(db, actor, target, now)` (it may refuse)
    and log it, in one transaction."""
    require_admin_area(runtime, admin_id)
    now = now or utcnow()
    target_id = _as_id(target_id)
    if not target_id:
        raise AdminRefused(N_("No account was chosen: reload the list and try again."))
    with transaction(runtime.engine) as db:
        actor, target = _lock_rows(db, runtime, admin_id, target_id, now)
        detail = change(db, actor, target, now) or ""
        _log(db, actor, action, target, client, now, detail)
    return Done(action, target.email, detail)


# What an action did beyond itself, as the log keeps it (English; the page finds the sentence
# again among DETAILS and words it in the viewer's language: ui/i18n.stored_text).
SESSIONS_ENDED = (N_("1 session ended"), N_("{count} sessions ended"))
PASSKEYS_REMOVED = (N_("1 passkey removed"), N_("{count} passkeys removed"))
PUSHES_DELETED = (N_("1 push deleted"), N_("{count} pushes deleted"))
PUSH_EXPIRED = N_("{kind} push {id}…, {used} of {total} views used")
DETAILS = (*SESSIONS_ENDED, *PASSKEYS_REMOVED, *PUSHES_DELETED, PUSH_EXPIRED)


def _count(n: int, words: tuple[str, str]) -> str:
    return said(words[0]) if n == 1 else said(words[1], count=n)


def _end_sessions(db: Session, user_id: str) -> int:
    ended = db.execute(delete(LoginSession).where(LoginSession.user_id == user_id)).rowcount
    login_steps.end_steps_of(db, user_id)
    return ended


def lock(runtime: Runtime, admin_id: str | None, target_id, client: Client, now: datetime | None = None) -> Done:
    def change(db, actor, target, now):
        if target.id == actor.id:
            raise AdminRefused(N_("You cannot lock yourself out: ask another administrator."))
        digest = accounts.email_digest(runtime, target.email)
        db.execute(delete(LoginFailures).where(LoginFailures.email_digest == digest))
        db.add(LoginFailures(email_digest=digest, failures=0, locked_until=now + ADMIN_LOCK, updated_at=now,
                             by_admin=True))
        return _count(_end_sessions(db, target.id), SESSIONS_ENDED)
    return _act(runtime, admin_id, target_id, LOCK, client, now, change)


def unlock(runtime: Runtime, admin_id: str | None, target_id, client: Client, now: datetime | None = None) -> Done:
    def change(db, actor, target, now):
        digest = accounts.email_digest(runtime, target.email)
        if not db.execute(delete(LoginFailures).where(LoginFailures.email_digest == digest,
                                                      LoginFailures.locked_until > now)).rowcount:
            raise AdminRefused(said(N_("{email} is not locked."), email=target.email))
        db.execute(delete(LoginFailures).where(LoginFailures.email_digest == digest))
    return _act(runtime, admin_id, target_id, UNLOCK, client, now, change)


def reset_two_factor(runtime: Runtime, admin_id: str | None, target_id, client: Client,
                     now: datetime | None = None) -> Done:
    """Everything that signs in besides the password goes: the authenticator app, the backup
    codes and the passkeys (the lost device may hold one), and any login step under way."""
    def change(db, actor, target, now):
        passkeys = db.exec(select(func.count()).select_from(Passkey).where(Passkey.user_id == target.id)).one()
        if target.totp_secret_sealed is None and target.totp_enabled_at is None and not passkeys:
            raise AdminRefused(said(N_("{email} has no two-factor sign-in and no passkey to reset."), email=target.email))
        db.execute(update(User).where(User.id == target.id).values(
            totp_wrapped_key=None, totp_secret_sealed=None, totp_enabled_at=None, totp_last_step=None, updated_at=now))
        db.execute(delete(BackupCode).where(BackupCode.user_id == target.id))
        db.execute(delete(PasskeyChallenge).where(PasskeyChallenge.user_id == target.id))
        db.execute(delete(Passkey).where(Passkey.user_id == target.id))
        login_steps.end_steps_of(db, target.id)
        return _count(passkeys, PASSKEYS_REMOVED) if passkeys else None
    return _act(runtime, admin_id, target_id, RESET_2FA, client, now, change)


def promote(runtime: Runtime, admin_id: str | None, target_id, client: Client, now: datetime | None = None) -> Done:
    def change(db, actor, target, now):
        if target.is_admin:
            raise AdminRefused(said(N_("{email} is an administrator already."), email=target.email))
        db.execute(update(User).where(User.id == target.id).values(is_admin=True, updated_at=now))
    return _act(runtime, admin_id, target_id, PROMOTE, client, now, change)


def demote(runtime: Runtime, admin_id: str | None, target_id, client: Client, now: datetime | None = None) -> Done:
    def change(db, actor, target, now):
        if target.id == actor.id:
            raise AdminRefused(N_("You cannot remove yourself from the administrators: ask another administrator."))
        if not target.is_admin:
            raise AdminRefused(said(N_("{email} is not an administrator."), email=target.email))
        if target.email in runtime.settings.admin_emails:
            raise AdminRefused(said(N_("{email} is listed in {setting}, which makes it an administrator again at its "
                                       "next login: take it off that list first."), email=target.email,
                                    setting="PWP__ADMIN_EMAILS"))
        admins = db.exec(select(func.count()).select_from(User).where(User.is_admin == True)).one()  # noqa: E712
        if admins <= 1:
            raise AdminRefused(N_("This is the last administrator: make someone else one first."))
        db.execute(update(User).where(User.id == target.id).values(is_admin=False, updated_at=now))
    return _act(runtime, admin_id, target_id, DEMOTE, client, now, change)


def sign_out_everywhere(runtime: Runtime, admin_id: str | None, target_id, client: Client,
                        now: datetime | None = None) -> Done:
    def change(db, actor, target, now):
        return _count(_end_sessions(db, target.id), SESSIONS_ENDED)
    return _act(runtime, admin_id, target_id, SIGN_OUT, client, now, change)


def delete_user(runtime: Runtime, admin_id: str | None, target_id, client: Client, now: datetime | None = None) -> Done:
    """The account and all its pushes: live ones expire first (secrets and files deleted, as
    the owner's "Expire now"), then every push row and the account go."""
    require_admin_area(runtime, admin_id)
    now = now or utcnow()
    target = accounts.get_user(runtime, _as_id(target_id)) if _as_id(target_id) else None
    if target is None:
        raise AdminRefused(N_("That account no longer exists: reload the list."))
    if target.id == admin_id:
        raise AdminRefused(N_("You cannot delete your own account here: use your account page."))
    with transaction(runtime.engine, write=False) as db:
        live = list(db.exec(select(Push).where(Push.owner_id == target.id, Push.expired == False)))  # noqa: E712
    for push in live:
        expire_by_owner(runtime, push, client, now)

    def change(db, actor, target, now):
        push_ids = list(db.exec(select(Push.id).where(Push.owner_id == target.id)))
        if db.exec(select(Push.id).where(Push.owner_id == target.id, Push.expired == False)).first() is not None:  # noqa: E712
            raise AdminRefused(N_("The account made a push meanwhile: try again."))
        # No file may lose its row while its blob remains (a viewer's download window).
        if push_ids and db.exec(select(PushFile.id).where(PushFile.push_id.in_(push_ids),
                                                         PushFile.blob_deleted == False)).first() is not None:  # noqa: E712
            raise AdminRefused(N_("Some of the account's files are still being deleted: try again in a minute."))
        db.execute(delete(Push).where(Push.owner_id == target.id))
        _end_sessions(db, target.id)
        db.execute(delete(User).where(User.id == target.id))
        return _count(len(push_ids), PUSHES_DELETED)

    # Files of pushes whose last viewer's download window is still open go now too.
    with transaction(runtime.engine, write=False) as db:
        file_push_ids = list(db.exec(select(Push.id).where(Push.owner_id == target.id, Push.kind == "file")))
    delete_blobs_of_pushes(runtime, file_push_ids)
    return _act(runtime, admin_id, target.id, DELETE, client, now, change)


@dataclass(frozen=True)
class LogRow:
    """One line of the admin audit log, as /admin shows it."""

    created_at: datetime
    admin_email: str
    action: str
    words: str
    target_email: str
    detail: str
    ip: str


def audit_log(runtime: Runtime, admin_id: str | None, limit: int = LOG_SHOWN) -> list[LogRow]:
    """The latest admin actions, newest first: for administrators only."""
    require_admin_area(runtime, admin_id)
    with transaction(runtime.engine, write=False) as db:
        rows = db.exec(select(AdminAction).order_by(AdminAction.created_at.desc(), AdminAction.id.desc()).limit(limit))
        return [LogRow(created_at=r.created_at, admin_email=r.admin_email, action=r.action,
                       words=ACTION_WORDS.get(r.action, r.action), target_email=r.target_email, detail=r.detail,
                       ip=r.ip) for r in rows]
