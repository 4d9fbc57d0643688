"""Log in (with a password or a passkey), log out, sign up, change password, delete account,
remove a passkey: plain HTML form posts; and the links of account emails (confirm, reset, unlock, new address) with their forms.

These are HTTP endpoints, not Reflex events, because only an HTTP answer can set an
HttpOnly cookie (see docs/security.md, "How a login is carried").  Each answers
303 See Other: to the next page on success, or back to the form with `?error=<code>`
(a code from `accounts.MESSAGES`, never free text a crafted link could put on our page).
Passwords arrive in the body and go straight to the core; they are never logged or echoed.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from pwpush_app.api.auth import current_runtime, request_client
from pwpush_app.api.errors import ApiError, asked_language, json_error
from pwpush_app.api.routes import Routes
from pwpush_app.core import account_mail, account_recovery, accounts, links, login_steps, passkeys, two_factor
from pwpush_app.core.account_language import page_language, remember_language
from pwpush_app.core.accounts import AccountError
from pwpush_app.core.errors import ServerBusy
from pwpush_app.core.i18n import COOKIE, N_, in_language
from pwpush_app.core.runtime import Runtime
from pwpush_app.core.throttle import RateLimited
from pwpush_app.http_security import arrived_over_https

FOREIGN_FORM = N_("This form must be sent from this site's own pages.")
routes = Routes(include_in_schema=False)

# Email + two passwords fit in far less; a bigger body is not a browser's form.
MAX_FORM_BYTES = 8 * 1024


class FormRefused(Exception):
    def __init__(self, code: str, field: str = "form"):
        self.code = code
        self.field = field


def _same_site(request: Request, runtime: Runtime) -> bool:
    """Against cross-site request forgery: the form must come from one of our pages.

    Browsers send Origin with every POST form, but our `Referrer-Policy: no-referrer`
    makes it "null" (and drops Referer); then `Sec-Fetch-Site`, which pages cannot forge,
    must say same-origin.  A real origin must be ours.  Nothing to go by: refused."""
    origins = runtime.settings.site_origins
    origin = request.headers.get("origin")
    if origin and origin != "null":
        # Ours: the configured site, or (none configured) this request's own allowed host.
        return links.same_site_origin(runtime.settings, origin, request.headers.get("host"))
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    referer = request.headers.get("referer", "")
    return origin is None and any(referer == o or referer.startswith(o + "/") for o in origins)


async def _form(request: Request) -> FormData | None:
    size = request.headers.get("content-length")
    if size is None or not (size.isascii() and size.isdigit()) or int(size) > MAX_FORM_BYTES:
        return None
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return None
    try:
        return await request.form(max_files=0, max_fields=10)
    except Exception:  # malformed body: treated like no form at all
        return None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _back(path: str, code: str, until: datetime | None = None) -> RedirectResponse:
    """Back to the form with the refusal's code (and, for a lock-out, when it ends)."""
    query = {"error": code, **({"until": str(int(until.timestamp()))} if until else {})}
    return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303)


def _secure(request: Request, runtime: Runtime) -> bool:
    # An https site's cookie is `__Host-` (settings.session_cookie), which browsers keep only
    # with Secure; elsewhere Secure whenever this request came over https.
    return runtime.settings.https_site or arrived_over_https(request.scope, runtime.settings.trusted_proxy_hops, runtime.settings.trusted_proxies)


def _session_token(request: Request, runtime: Runtime) -> str | None:
    return request.cookies.get(runtime.settings.session_cookie)


def _set_session_cookie(response: Response, request: Request, runtime: Runtime, token: str, remember: bool) -> None:
    # No Domain: the cookie stays with this host (and `__Host-` requires it).
    response.set_cookie(
        runtime.settings.session_cookie,
        token,
        max_age=runtime.settings.session_remember_days * 86400 if remember else None,
        path="/",
        secure=_secure(request, runtime),
        httponly=True,
        samesite="strict",
    )


def _clear_session_cookie(response: Response, request: Request, runtime: Runtime) -> None:
    response.delete_cookie(runtime.settings.session_cookie, path="/", httponly=True, samesite="strict",
                           secure=_secure(request, runtime))


def _page_language(request: Request, runtime: Runtime) -> str:
    return page_language(runtime, request.cookies.get(COOKIE), request.headers.get("accept-language"))


async def _remember_language(request: Request, runtime: Runtime, outcome) -> None:
    if isinstance(outcome, accounts.LoggedIn):  # the account's mails follow the language its owner uses now
        await run_in_threadpool(remember_language, runtime, outcome.user.id, _page_language(request, runtime))


def _logged_in(request: Request, runtime: Runtime, outcome, remember: bool) -> RedirectResponse:
    """A login's answer: the session cookie and the dashboard; or, for a login that needs its
    second factor, only the step cookie (core/login_steps.py) and the code or enrolment form."""
    if isinstance(outcome, login_steps.SecondStep):
        page = "/login/enrol" if outcome.stage == login_steps.ENROL else "/login/code"
        response = RedirectResponse(page, status_code=303)
        response.set_cookie(login_steps.cookie_name(runtime.settings), outcome.token,
                            max_age=login_steps.STEP_MINUTES * 60, path="/", secure=_secure(request, runtime),
                            httponly=True, samesite="strict")
        return response
    response = RedirectResponse("/dashboard", status_code=303)
    _set_session_cookie(response, request, runtime, outcome.session_token, remember)
    return response


async def _guarded(request: Request, runtime: Runtime, form_page: str, action) -> Response:
    """Origin check, form parsing and the refusals every form shares; `action(form, ip)` does the rest."""
    if not _same_site(request, runtime):
        return json_error(403, {"error": in_language(asked_language(request, runtime.settings.pages), FOREIGN_FORM)})
    form = await _form(request)
    if form is None:
        return _back(form_page, "form_invalid")
    ip = request_client(request, runtime, None).ip
    try:
        return await action(form, ip)
    except RateLimited:
        return _back(form_page, "rate_limited")
    except AccountError as refusal:
        return _back(form_page, refusal.code or "form_invalid", getattr(refusal, "until", None))
    except ServerBusy:
        return _back(form_page, "busy")


async def _account_holder(request: Request, runtime: Runtime, ip: str):
    """The logged-in user about to change their account (a password is checked next, so the
    attempt counts against the login limit), or None: not logged in."""
    user = await run_in_threadpool(accounts.user_for_session, runtime, _session_token(request, runtime))
    if user is not None:
        await run_in_threadpool(runtime.throttle.hit, "login", ip)  # a round trip with Redis
    return user


LOGINS_OFF_PAGE = (b"<!doctype html><title>Not found</title><p>Logins are turned off on this site. "
                   b"<a href=\"/\">Share a secret without an account</a>.</p>\n")


def close_login_pages(api) -> None:
    """PWP__DISABLE_LOGINS: /login and /signup are 404, as in Password Pusher, and so is the
    login's two-factor step (the pages' links to them are gone too; the forms' posts are
    refused below)."""

    def not_found() -> Response:
        return Response(LOGINS_OFF_PAGE, status_code=404, media_type="text/html; charset=utf-8")

    for path in ("/login", "/signup", "/login/code", "/login/enrol"):
        api.add_api_route(path, not_found, methods=["GET", "HEAD"], include_in_schema=False)


def _logins_closed(runtime: Runtime) -> Response | None:
    """404 in the asker's language (ApiError's handler words it), the same shape as before."""
    if accounts.logins_open(runtime):
        return None
    raise ApiError(404, "Not found", extra={"message": accounts.MESSAGES["logins_disabled"]})


@routes.post("/session")
async def log_in(request: Request, runtime: Runtime = Depends(current_runtime)):
    if (closed := _logins_closed(runtime)) is not None:
        return closed

    async def action(form: FormData, ip: str) -> Response:
        remember = _text(form, "remember") in ("1", "on", "true")
        outcome = await run_in_threadpool(
            accounts.log_in, runtime, _text(form, "email"), _text(form, "password"), ip, remember
        )
        await _remember_language(request, runtime, outcome)
        return _logged_in(request, runtime, outcome, remember)

    return await _guarded(request, runtime, "/login", action)


@routes.post("/session/code")
async def second_step(request: Request, runtime: Runtime = Depends(current_runtime)):
    """The login's second step: the code (or a finished enrolment) turns the step cookie into a session."""
    if (closed := _logins_closed(runtime)) is not None:
        return closed
    step_cookie = login_steps.cookie_name(runtime.settings)

    async def action(form: FormData, ip: str) -> Response:
        token = request.cookies.get(step_cookie)
        try:
            logged_in = await run_in_threadpool(two_factor.finish_login, runtime, token, _text(form, "code"), ip)
        except AccountError as refusal:
            if refusal.code not in ("step_expired", "login_locked"):
                raise
            response = _back("/login", refusal.code, getattr(refusal, "until", None))
        else:
            await _remember_language(request, runtime, logged_in)
            response = _logged_in(request, runtime, logged_in, logged_in.remember)
        response.delete_cookie(step_cookie, path="/", httponly=True, samesite="strict", secure=_secure(request, runtime))
        return response

    return await _guarded(request, runtime, "/login/code", action)


@routes.post("/session/logout")
async def log_out(request: Request, runtime: Runtime = Depends(current_runtime)):
    if not _same_site(request, runtime):
        return json_error(403, {"error": in_language(asked_language(request, runtime.settings.pages), FOREIGN_FORM)})
    await run_in_threadpool(accounts.log_out, runtime, _session_token(request, runtime))
    response = RedirectResponse("/login?bye=1", status_code=303)
    _clear_session_cookie(response, request, runtime)
    return response


@routes.post("/signup")
async def sign_up(request: Request, runtime: Runtime = Depends(current_runtime)):
    if (closed := _logins_closed(runtime)) is not None:
        return closed

    async def action(form: FormData, ip: str) -> Response:
        password = _text(form, "password")
        if password != _text(form, "password_confirmation"):
            raise AccountError(accounts.MESSAGES["passwords_differ"], "password")
        user = await run_in_threadpool(accounts.sign_up, runtime, _text(form, "email"), password, ip,
                                       locale=_page_language(request, runtime))
        if account_mail.awaits_confirmation(runtime, user):
            return RedirectResponse("/login?confirm_sent=1", status_code=303)
        outcome = await run_in_threadpool(accounts.log_in, runtime, _text(form, "email"), password, ip)
        return _logged_in(request, runtime, outcome, False)

    return await _guarded(request, runtime, "/signup", action)


@routes.post("/account/password")
async def change_password(request: Request, runtime: Runtime = Depends(current_runtime)):
    async def action(form: FormData, ip: str) -> Response:
        user = await _account_holder(request, runtime, ip)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        new_password = _text(form, "new_password")
        if new_password != _text(form, "new_password_confirmation"):
            raise AccountError(accounts.MESSAGES["passwords_differ"], "new_password")
        token = await run_in_threadpool(
            accounts.change_password, runtime, user.id, _text(form, "current_password"), new_password
        )
        response = RedirectResponse("/account?changed=1", status_code=303)
        _set_session_cookie(response, request, runtime, token, False)
        return response

    return await _guarded(request, runtime, "/account", action)


@routes.post("/account/two-factor/off")
async def turn_two_factor_off(request: Request, runtime: Runtime = Depends(current_runtime)):
    async def action(form: FormData, ip: str) -> Response:
        user = await _account_holder(request, runtime, ip)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        await run_in_threadpool(two_factor.turn_off, runtime, user.id, _text(form, "password"), _text(form, "code"), ip)
        return RedirectResponse("/account?two_factor_off=1", status_code=303)

    return await _guarded(request, runtime, "/account", action)


@routes.post("/account/delete")
async def delete_account(request: Request, runtime: Runtime = Depends(current_runtime)):
    async def action(form: FormData, ip: str) -> Response:
        user = await _account_holder(request, runtime, ip)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        client = request_client(request, runtime, user)
        await run_in_threadpool(accounts.delete_account, runtime, user.id, _text(form, "password"), client)
        response = RedirectResponse("/login?deleted=1", status_code=303)
        _clear_session_cookie(response, request, runtime)
        return response

    return await _guarded(request, runtime, "/account", action)


# --- passkeys: only an HTTP answer can set the session cookie ------------------------------------------

@routes.post("/session/passkey")
async def sign_in_with_passkey(request: Request, runtime: Runtime = Depends(current_runtime)):
    """A passkey's answer (core/passkeys.py), posted by the page after navigator.credentials.get():
    alone (from /login) or as the login step's second factor (from /login/code)."""
    if (closed := _logins_closed(runtime)) is not None:
        return closed
    step_cookie = login_steps.cookie_name(runtime.settings)
    token = request.cookies.get(step_cookie)
    # ?from=step: the code page's button (a refusal goes back there, while the step lasts).
    page = "/login/code" if request.query_params.get("from") == "step" else "/login"

    async def action(form: FormData, ip: str) -> Response:
        remember = _text(form, "remember") in ("1", "on", "true")
        try:
            logged_in = await run_in_threadpool(passkeys.sign_in, runtime, _text(form, "credential"), token, ip, remember)
        except AccountError as refusal:
            if page == "/login/code" and refusal.code not in ("step_expired", "login_locked"):
                raise
            response, ends_step = _back("/login", refusal.code or "passkey_failed", getattr(refusal, "until", None)), page != "/login"
        else:
            response, ends_step = _logged_in(request, runtime, logged_in, logged_in.remember), True
        if ends_step and token is not None:
            response.delete_cookie(step_cookie, path="/", httponly=True, samesite="strict", secure=_secure(request, runtime))
        return response

    return await _guarded(request, runtime, page, action)


@routes.post("/account/passkeys/remove")
async def remove_passkey(request: Request, runtime: Runtime = Depends(current_runtime)):
    async def action(form: FormData, ip: str) -> Response:
        user = await _account_holder(request, runtime, ip)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        await run_in_threadpool(passkeys.remove, runtime, user.id, _text(form, "passkey"), _text(form, "password"))
        return RedirectResponse("/account?passkey_removed=1", status_code=303)

    return await _guarded(request, runtime, "/account", action)


# --- account emails: the mailed links and their forms ---------------------------------------------
#
# A link's token travels in its path (masked in logs like every token, log_redaction.py).
# Confirm, unlock and a new address act on the GET, as mail clients open them.  A reset
# link only opens the form: its GET moves the token into an HttpOnly cookie for /account
# (never into the page or its state) and the form's POST spends it.

RESET_COOKIE = "pwpush_reset"


def _reset_cookie_name(runtime: Runtime) -> str:
    return f"__Secure-{RESET_COOKIE}" if runtime.settings.https_site else RESET_COOKIE


def _refused_link(code: str, page: str = "/login") -> RedirectResponse:
    return _back(page, code)


async def _open_link(action, runtime: Runtime, token: str, done: str, page: str = "/login") -> Response:
    try:
        await run_in_threadpool(action, runtime, token)
    except AccountError as refusal:
        return _refused_link(refusal.code or "link_invalid", page)
    except ServerBusy:
        return _back(page, "busy")
    return RedirectResponse(done, status_code=303)


@routes.get("/account/confirm/{token}")
async def confirm_address(token: str, runtime: Runtime = Depends(current_runtime)):
    return await _open_link(account_recovery.confirm_address, runtime, token, "/login?confirmed=1")


@routes.get("/account/unlock/{token}")
async def unlock_account(token: str, runtime: Runtime = Depends(current_runtime)):
    return await _open_link(account_recovery.unlock_account, runtime, token, "/login?unlocked=1")


@routes.get("/account/email/{token}")
async def confirm_new_email(token: str, runtime: Runtime = Depends(current_runtime)):
    return await _open_link(account_recovery.confirm_new_email, runtime, token, "/login?email_changed=1")


@routes.get("/account/reset/{token}")
async def open_reset_link(token: str, request: Request, runtime: Runtime = Depends(current_runtime)):
    """Opening the link spends nothing: the form's POST does."""
    if not await run_in_threadpool(account_recovery.reset_link_works, runtime, token):
        return _refused_link("link_invalid", "/forgot-password")
    response = RedirectResponse("/reset-password", status_code=303)
    response.set_cookie(_reset_cookie_name(runtime), token, max_age=3600, path="/account", httponly=True,
                        samesite="strict", secure=_secure(request, runtime))
    return response


@routes.post("/account/reset-password")
async def reset_password(request: Request, runtime: Runtime = Depends(current_runtime)):
    async def action(form: FormData, ip: str) -> Response:
        token = request.cookies.get(_reset_cookie_name(runtime), "")
        new_password = _text(form, "new_password")
        if new_password != _text(form, "new_password_confirmation"):
            raise AccountError(accounts.MESSAGES["passwords_differ"], "new_password")
        try:
            await run_in_threadpool(account_recovery.reset_password, runtime, token, new_password, ip)
        except AccountError as refusal:
            if refusal.code != "link_invalid":
                raise
            response = _refused_link("link_invalid", "/forgot-password")
        else:
            response = RedirectResponse("/login?reset=1", status_code=303)
        response.delete_cookie(_reset_cookie_name(runtime), path="/account", httponly=True, samesite="strict",
                               secure=_secure(request, runtime))
        return response

    return await _guarded(request, runtime, "/reset-password", action)


@routes.post("/account/forgot-password")
async def forgot_password(request: Request, runtime: Runtime = Depends(current_runtime)):
    async def action(form: FormData, ip: str) -> Response:
        await run_in_threadpool(account_recovery.request_password_reset, runtime, _text(form, "email"), ip)
        # The same answer whether or not the address has an account.
        return RedirectResponse("/login?reset_sent=1", status_code=303)

    return await _guarded(request, runtime, "/forgot-password", action)


@routes.post("/account/confirm-again")
async def confirm_again(request: Request, runtime: Runtime = Depends(current_runtime)):
    async def action(form: FormData, ip: str) -> Response:
        await run_in_threadpool(account_recovery.resend_confirmation, runtime, _text(form, "email"), ip)
        return RedirectResponse("/login?confirm_sent=1", status_code=303)

    return await _guarded(request, runtime, "/login", action)


@routes.post("/account/email")
async def change_email(request: Request, runtime: Runtime = Depends(current_runtime)):
    async def action(form: FormData, ip: str) -> Response:
        user = await run_in_threadpool(accounts.user_for_session, runtime, _session_token(request, runtime))
        if user is None:
            return RedirectResponse("/login", status_code=303)
        moved = await run_in_threadpool(account_recovery.change_email, runtime, user.id, _text(form, "new_email"),
                                        _text(form, "current_password"), ip)
        return RedirectResponse("/account?" + ("email_changed=1" if moved else "email_pending=1"), status_code=303)

    return await _guarded(request, runtime, "/account", action)
