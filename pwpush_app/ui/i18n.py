"""The visitor's language on the pages (issue 19), chosen at run time.

Reflex compiles every page once, for every visitor: a string written in a component would be
baked into the bundle in one language.  So a translated page writes `t("English text")`,
which compiles to a lookup in `LanguageState.strings` falling back to the English text
itself.  The page's on_load event `LanguageState.choose` picks the language from the
request of the person looking at the page (core/i18n.py: ?locale=, the remembered choice,
Accept-Language, PWP__DEFAULT_LOCALE) and sends that language's catalogue with the state.

English costs nothing (its catalogue is empty: every lookup falls back); another language
costs its catalogue once per tab (~110 KB for French), in the same message as the page's other
state.  Entries only some pages show are a *part* (`PARTS`: the settings' descriptions, ~25 KB)
that a page asks for on load (`LanguageState.include`), not sent to every recipient.
Text the server sends (`RevealState.message`, a core refusal) is sent in English and looked
up the same way with `t_var`, so it follows a switch of language made after it arrived.
Dates reach the page as ISO moments and are written by the browser (`local_time`): the
viewer's time zone, their language's format.
"""

from __future__ import annotations

import json
from functools import lru_cache

import reflex as rx
from reflex.vars import VarData
from reflex_base.utils.imports import ImportVar

from pwpush_app.core.account_language import remember_language
from pwpush_app.core.i18n import (
    COOKIE,
    LANGUAGES,
    N_,
    catalogue,
    choose_locale,
    direction,
    normalise,
    sentences_in,
    text_of,
)
from pwpush_app.settings import SETTINGS_TABLE, get_settings
from pwpush_app.ui.common import in_thread, runtime
from pwpush_app.ui.session import current_user

LIBRARY = rx.asset("components/i18n.js").importable_path
A_YEAR = 365 * 24 * 3600
__all__ = ["LanguageState", "N_", "document_language", "language_switcher", "local_time", "page_title", "refusal_text", "sentences_of", "stored_sentences", "stored_text", "t",
           "t_var", "time_from_now"]


# Catalogue entries sent only to the pages that ask for them (by name).
PARTS = {"settings": lambda: {doc.description for doc in SETTINGS_TABLE}}  # /admin/settings


@lru_cache(maxsize=256)
def page_strings(code: str, parts: tuple[str, ...] = ()) -> dict[str, str]:
    """The catalogue a page of this language needs: everything but the parts it did not ask for."""
    left_out = set().union(*(words() for name, words in PARTS.items() if name not in parts))
    return {english: text for english, text in catalogue(code).items() if english not in left_out}


class LanguageState(rx.State):
    locale: str = "en"
    direction: str = "ltr"
    # English msgid -> this language's text; empty for English.
    strings: dict[str, str] = {}
    # [code, name in its own language] for the switcher: PWP__ENABLED_LANGUAGE_CODES.
    offered: list[list[str]] = [["en", "English"]]
    # The visitor's own choice (a switch, or ?locale=), remembered by this browser.
    remembered: str = rx.Cookie("", name=COOKIE, max_age=A_YEAR, same_site="lax", path="/")
    # The catalogue parts (PARTS) this tab's pages have asked for (kept on the server).
    _parts: list[str] = []

    def _use(self, code: str) -> None:
        # The catalogue goes to the browser when the language (or a part) changes, not again
        # at each page this tab moves to.
        wanted = page_strings(code, tuple(self._parts))
        if code != self.locale or len(self.strings) != len(wanted):
            self.strings = wanted
        self.locale, self.direction = code, direction(code)

    @rx.event
    def include(self, part: str):
        """On load of a page that shows a part of the catalogue (after `choose`)."""
        if part in PARTS and part not in self._parts:
            self._parts = [*self._parts, part]
            self._use(self.locale)

    @rx.event
    def choose(self):
        """On load: the language of the person looking at this page (never the sender's)."""
        pages = get_settings().pages
        asked = self.router.url.query_parameters.get("locale")
        asked = normalise(asked if isinstance(asked, str) else None, pages.enabled_languages)
        if asked:  # ?locale= is a choice: remembered, as a switch would be
            self.remembered = asked
        self.offered = [[code, LANGUAGES[code]] for code in pages.enabled_languages]
        self._use(choose_locale(query=asked, remembered=self.remembered,
                                accept_language=self.router.headers.accept_language,
                                default=pages.default_locale, enabled=pages.enabled_languages))

    @rx.event
    async def switch(self, code: str):
        chosen = normalise(code if isinstance(code, str) else None, get_settings().pages.enabled_languages)
        if chosen:
            self.remembered = chosen
            self._use(chosen)
            # A logged-in person's mails follow (core/account_language.py).
            user = await current_user(self)
            if user is not None:
                await in_thread(remember_language, runtime(), user.id, chosen)


def _lookup(key_js: str, var_data: VarData | None = None) -> rx.Var:
    strings = LanguageState.strings
    # Own keys only: a message named like an Object property ("constructor") stays itself.
    return rx.Var(f"((key) => (Object.hasOwn({strings} ?? {{}}, key) ? {strings}[key] : key))({key_js})",
                  _var_data=VarData.merge(strings._get_all_var_data(), var_data)).to(str)


def t(text: str, **values) -> rx.Var:
    """`text` in the visitor's language; `{name}` placeholders filled from `values` (Vars or plain)."""
    found = _lookup(json.dumps(text))
    for name, value in values.items():
        value = value if isinstance(value, rx.Var) else rx.Var.create(str(value))
        found = rx.Var(f"{found}.replaceAll({json.dumps('{' + name + '}')}, String({value}))",
                       _var_data=VarData.merge(found._get_all_var_data(), value._get_all_var_data())).to(str)
    return found


def t_var(text: rx.Var) -> rx.Var:
    """A string the server sent in English (a state var), in the visitor's language."""
    return _lookup(f"({text} ?? \"\")", text._get_all_var_data())


def page_title(words: tuple[str, ...], brand: str) -> rx.Var | str:
    """The tab's title: the page's words (marked `N_` where they are written) in the visitor's
    language, then the brand ("Pushes · Administration · Acme").  Reflex renders the title as
    an element of the page, so it follows the language like the page's text (English in the
    prerendered HTML, the visitor's language once the state arrives)."""
    if not words:
        return brand
    parts = [t(word) for word in words]
    return rx.Var(f"[{', '.join(str(part) for part in parts)}, {json.dumps(brand)}].join(\" · \")",
                  _var_data=VarData.merge(*(part._get_all_var_data() for part in parts))).to(str)


def sentences_of(refusal: Exception | str) -> list[dict]:
    """A core refusal's sentences (core/errors.py, any exception raised with a `said()`
    message, or a `said()` text itself) as the page's `refusal_text` reads them; none for
    plain text."""
    sentences = getattr(refusal, "sentences", ())
    if not sentences and isinstance(refusal, BaseException):
        sentences = getattr(text_of(refusal), "sentences", ())
    return [{"text": text, "values": values} for text, values in sentences]


def refusal_text(message: rx.Var, sentences: rx.Var) -> rx.Var:
    """A refusal in the visitor's language: from its sentences when the core gave them, else the message."""
    filled = _from_library("sentences", LanguageState.strings, sentences, LanguageState.locale)
    plain = t_var(message)
    return rx.Var(f"({sentences}?.length ? {filled} : {plain})",
                  _var_data=VarData.merge(filled._get_all_var_data(), plain._get_all_var_data())).to(str)


def stored_text(text: rx.Var, sentences_json: rx.Var) -> rx.Var:
    """A stored English text (a failure's reason) in the visitor's language, from the sentences
    found in it (`stored_sentences`, sent as JSON in a row of plain strings)."""
    return refusal_text(text, rx.Var(f"JSON.parse({sentences_json} || \"[]\")",
                                     _var_data=sentences_json._get_all_var_data()))


def stored_sentences(text: str, templates) -> str:
    """What `stored_text` reads: the sentence `text` was made from, as JSON ("" when none made it)."""
    found = sentences_in(text, templates)
    return json.dumps(found) if found else ""


def _from_library(name: str, *args: rx.Var) -> rx.Var:
    return rx.Var(f"{name}({', '.join(str(a) for a in args)})",
                  _var_data=VarData.merge(VarData(imports={LIBRARY: [ImportVar(tag=name)]}),
                                          *(a._get_all_var_data() for a in args))).to(str)


def local_time(iso: rx.Var) -> rx.Var:
    """An ISO moment in the viewer's time zone and their language's format."""
    return _from_library("localTime", iso, LanguageState.locale)


def time_from_now(iso: rx.Var) -> rx.Var:
    """'in 3 days', 'dans 5 heures': the wait until an ISO moment, in the viewer's language."""
    return _from_library("timeFromNow", iso, LanguageState.locale)


class DocumentLanguage(rx.Component):
    library = LIBRARY
    tag = "DocumentLanguage"
    lang: rx.Var[str]
    dir: rx.Var[str]


def document_language() -> rx.Component:
    """<html lang dir> follow the chosen language."""
    return DocumentLanguage.create(lang=LanguageState.locale, dir=LanguageState.direction)


def language_switcher() -> rx.Component:
    """A native select: its name is "Language" in the page's language, it works by keyboard, and
    a change applies at once, in place (a revealed secret stays on screen), and is remembered."""
    return rx.hstack(
        rx.icon("languages", size=16, aria_hidden="true"),
        rx.el.select(
            rx.foreach(LanguageState.offered, lambda item: rx.el.option(item[1], value=item[0], lang=item[0])),
            value=LanguageState.locale,
            on_change=LanguageState.switch,
            aria_label=t("Language"),
            id="language",
            class_name="language-switcher",
            style={"background": "transparent", "color": "var(--gray-12)", "border": "1px solid var(--gray-a7)",
                   "borderRadius": "var(--radius-2)", "padding": "0.15rem 0.35rem", "fontSize": "var(--font-size-2)",
                   "maxWidth": "10rem"},
        ),
        spacing="1",
        align="center",
    )
