"""Who is logged in, for every page state that needs to know.

The session token travels only in the HttpOnly cookie set by pwpush_app/api/sessions.py.
Reflex captures the request headers when the page's websocket connects; a login or
logout answers with a redirect, so the page reloads and its new websocket carries the new
cookie.  The token is read from those headers at each event and never assigned to state.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

import reflex as rx

from pwpush_app.core import accounts
from pwpush_app.core.models import User
from pwpush_app.ui.common import in_thread, vault


def session_token_of(state: rx.State) -> str | None:
    raw = state.router.headers.cookie or ""
    cookies = SimpleCookie()
    try:
        cookies.load(raw)
    except CookieError:
        return None
    # The name follows the site's scheme (settings.session_cookie): on https only `__Host-`.
    morsel = cookies.get(vault().settings.session_cookie)
    return morsel.value if morsel else None


async def current_user(state: rx.State) -> User | None:
    """The logged-in user behind this event, or None (also when the session ended meanwhile)."""
    token = session_token_of(state)
    if not token:
        return None
    return await in_thread(accounts.user_for_session, vault(), token)


class AccountState(rx.State):
    """What the header shows: the email of whoever is logged in ("" for nobody)."""

    email: str = ""
    checked: bool = False

    @rx.event
    async def refresh(self):
        user = await current_user(self)
        self.email = user.email if user else ""
        self.checked = True
