"""The language of an account's mails (User.locale, issue 19): the page's language at sign-up,
then the one its owner last logged in or switched to (core/letters.py writes the mails in it)."""

from __future__ import annotations

from datetime import datetime

from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.i18n import choose_locale, normalise
from pwpush_app.core.models import User
from pwpush_app.core.runtime import Runtime


def remember_language(runtime: Runtime, user_id: str, code: str | None, now: datetime | None = None) -> None:
    """Record `code` as the account's language (nothing for a language this site doesn't speak)."""
    chosen = normalise(code, runtime.settings.pages.enabled_languages)
    if not chosen:
        return
    with transaction(runtime.engine) as db:
        user = db.get(User, user_id)
        if user is not None and user.locale != chosen:
            user.locale = chosen
            user.updated_at = now or utcnow()
            db.add(user)


def page_language(runtime: Runtime, remembered: str | None, accept_language: str | None) -> str:
    """The language a page of this site was in for this browser (its remembered choice, Accept-Language)."""
    pages = runtime.settings.pages
    return choose_locale(query=None, remembered=remembered, accept_language=accept_language,
                         default=pages.default_locale, enabled=pages.enabled_languages)
