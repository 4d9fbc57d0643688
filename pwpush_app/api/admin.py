"""The administrators' JSON API, `/api/v2/admin/...`: what /admin does, for scripts.

Authenticated by an administrator's API token, like every call (api/auth.py).  Thin: each
route calls the same core function as the page's event (core/admin*.py), which checks the
administrator afresh and every rule; this module only maps outcomes to HTTP: no token 401,
not an administrator (or PWP__DISABLE_LOGINS) 403, a refused action 422 with what to do.
Answers hold addresses, dates and counts: never a payload, note, passphrase, link or token.
"""

from __future__ import annotations

from datetime import date
from typing import Callable

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from pwpush_app.api.auth import Caller, caller
from pwpush_app.api.errors import ApiError
from pwpush_app.api.routes import Routes
from pwpush_app.api.schemas import ErrorOut, api_time
from pwpush_app.core import admin, admin_actions, admin_figures, admin_pushes, admin_settings
from pwpush_app.core.i18n import text_of
from pwpush_app.settings import KINDS

routes = Routes(prefix="/api/v2/admin", tags=["admin"])

_ERRORS = {401: "No API token, or a wrong one", 403: "Not an administrator (or logins are disabled)",
           422: "Refused by a rule (the message says which and what to do)"}


def _errors(*codes: int) -> dict:
    return {code: {"model": ErrorOut, "description": _ERRORS[code]} for code in codes}


class UserOut(BaseModel):
    id: str
    email: str
    created_at: str | None
    two_factor: bool
    passkeys: int
    locked: bool
    admin: bool


class DoneOut(BaseModel):
    action: str = Field(description="lock | unlock | delete | reset_2fa | promote | demote | sign_out | expire_push")
    target: str = Field(description="The account's address (for a push: its owner's, or \"anonymous\")")
    detail: str = ""


class AdminPushOut(BaseModel):
    id: str = Field(description="The push's database id (not its link's token): what DELETE takes")
    kind: str
    created_at: str | None
    owner: str = Field(description="The owner's address, or \"anonymous\"")
    views_used: int
    views_allowed: int
    expires_at: str | None
    state: str = Field(description="active | expired")
    expired_at: str | None = None
    expired_reason: str | None = Field(None, description="views | time | owner | viewer | guesses | admin")
    files: int
    file_bytes: int


class PushPageOut(BaseModel):
    pushes: list[AdminPushOut]
    page: int
    per_page: int
    total: int
    has_more: bool


class DayOut(BaseModel):
    day: date
    views: int


class FiguresOut(BaseModel):
    pushes: dict[str, dict[str, int]] = Field(description="kind -> {\"active\": n, \"expired\": n}")
    views_per_day: list[DayOut]
    file_bytes: int
    files: int
    mail_queued: int
    mail_failed: int
    last_purge: str | None


class SettingOut(BaseModel):
    name: str
    value: str = Field(description="In force; a secret shows only \"(set, hidden)\", a URL no password")
    source: str = Field(description="default | environment")
    redacted: bool


def _admin_call(who: Caller, run: Callable):
    """Run a core call as the token's owner; NotAdmin is 403, AdminRefused 422."""
    user = who.require_user()
    try:
        return run(user.id)
    except admin.NotAdmin as refused:
        raise ApiError(403, str(refused)) from None
    except admin_actions.AdminRefused as refused:
        raise ApiError(422, text_of(refused)) from None


def _user_out(row: admin.UserRow) -> UserOut:
    return UserOut(id=row.id, email=row.email, created_at=api_time(row.created_at), two_factor=row.two_factor_on,
                   passkeys=row.passkeys, locked=row.locked, admin=row.is_admin)


def _done(outcome: admin_actions.Done) -> DoneOut:
    return DoneOut(action=outcome.action, target=outcome.target_email, detail=outcome.detail)


@routes.get("/users", response_model=list[UserOut], summary="Accounts, newest first (admin)",
            description=f"At most {admin.USERS_SHOWN}; `search` keeps those whose address contains it.",
            responses=_errors(401, 403))
def list_users(who: Caller = Depends(caller), search: str = Query("", max_length=admin.MAX_SEARCH_CHARS)):
    return [_user_out(r) for r in _admin_call(who, lambda me: admin.list_users(who.runtime, me, search))]


# The page's actions, each the same core call.
_USER_ACTIONS = {
    "lock": admin_actions.lock, "unlock": admin_actions.unlock, "reset_2fa": admin_actions.reset_two_factor,
    "promote": admin_actions.promote, "demote": admin_actions.demote, "sign_out": admin_actions.sign_out_everywhere,
}


def _user_route(action: str, summary: str):
    do = _USER_ACTIONS[action]

    def act(user_id: str, who: Caller = Depends(caller)):
        return _done(_admin_call(who, lambda me: do(who.runtime, me, user_id, who.client)))

    routes.add_api_route(f"/users/{{user_id}}/{action}", act, methods=["POST"], response_model=DoneOut,
                         summary=f"{summary} (admin)", responses=_errors(401, 403, 422), name=f"admin_{action}")


_user_route("lock", "Lock an account: every login refused, every session ended, until unlocked")
_user_route("unlock", "Unlock an account (an admin lock, or a lock-out after wrong passwords)")
_user_route("reset_2fa", "Turn an account's two-factor sign-in off and delete its backup codes")
_user_route("promote", "Make an account an administrator")
_user_route("demote", "Take an administrator's rights away (not yourself, not the last one)")
_user_route("sign_out", "End every session and half-done login of an account")


@routes.delete("/users/{user_id}", response_model=DoneOut, summary="Delete an account and all its pushes (admin)",
               responses=_errors(401, 403, 422))
def delete_user(user_id: str, who: Caller = Depends(caller)):
    return _done(_admin_call(who, lambda me: admin_actions.delete_user(who.runtime, me, user_id, who.client)))


@routes.get("/pushes", response_model=PushPageOut, summary="Every push's metadata, newest first (admin)",
            description=f"{admin_pushes.PUSHES_PER_PAGE} a page. `search`: text in the owner's address (`anonymous`: "
            "pushes without an owner); `state`: active or expired; `kind`: " + ", ".join(KINDS) + ". Never a payload, "
            "note, passphrase, name, link or token.", responses=_errors(401, 403, 422))
def list_pushes(who: Caller = Depends(caller), search: str = Query("", max_length=admin.MAX_SEARCH_CHARS),
                state: str = Query("", max_length=16), kind: str = Query("", max_length=16),
                page: int = Query(1, ge=1, le=admin_pushes.MAX_PAGE)):
    listing = _admin_call(who, lambda me: admin_pushes.list_pushes(who.runtime, me, search, state, kind, page))
    return PushPageOut(
        pushes=[AdminPushOut(id=r.id, kind=r.kind, created_at=api_time(r.created_at),
                             owner=r.owner_email or admin_pushes.ANONYMOUS, views_used=r.views_used,
                             views_allowed=r.views_allowed, expires_at=api_time(r.expires_at), state=r.state,
                             expired_at=api_time(r.expired_at), expired_reason=r.expired_reason, files=r.files,
                             file_bytes=r.file_bytes) for r in listing.rows],
        page=listing.page, per_page=admin_pushes.PUSHES_PER_PAGE, total=listing.total, has_more=listing.has_more)


@routes.delete("/pushes/{push_id}", response_model=DoneOut, summary="Expire any push now (admin)",
               description="As its owner's expire: payload, note, passphrase and link deleted at once, files right "
               "after. Logged in the admin audit log.", responses=_errors(401, 403, 422))
def expire_push(push_id: str, who: Caller = Depends(caller)):
    return _done(_admin_call(who, lambda me: admin_pushes.expire_push(who.runtime, me, push_id, who.client)))


@routes.get("/figures", response_model=FiguresOut, summary="The instance's figures (admin)",
            responses=_errors(401, 403))
def figures(who: Caller = Depends(caller)):
    f = _admin_call(who, lambda me: admin_figures.instance_figures(who.runtime, me))
    pushes: dict[str, dict[str, int]] = {}
    for (kind, state), n in f.pushes.items():
        pushes.setdefault(kind, {})[state] = n
    return FiguresOut(pushes=pushes, views_per_day=[DayOut(day=d, views=n) for d, n in f.views_per_day],
                      file_bytes=f.file_bytes, files=f.files, mail_queued=f.mail_queued, mail_failed=f.mail_failed,
                      last_purge=api_time(f.last_purge))


@routes.get("/settings", response_model=list[SettingOut], summary="The effective settings, secrets redacted (admin)",
            responses=_errors(401, 403))
def settings(who: Caller = Depends(caller)):
    rows = _admin_call(who, lambda me: admin_settings.settings_for_admin(who.runtime, me))
    return [SettingOut(name=r.name, value=r.value, source=r.source, redacted=r.redacted) for r in rows]


class LogOut(BaseModel):
    created_at: str | None
    admin: str
    action: str
    target: str
    detail: str
    ip: str


@routes.get("/audit", response_model=list[LogOut], summary="The admin audit log, newest first (admin)",
            responses=_errors(401, 403))
def audit_log(who: Caller = Depends(caller)):
    rows = _admin_call(who, lambda me: admin_actions.audit_log(who.runtime, me))
    return [LogOut(created_at=api_time(r.created_at), admin=r.admin_email, action=r.action, target=r.target_email,
                   detail=r.detail, ip=r.ip) for r in rows]

