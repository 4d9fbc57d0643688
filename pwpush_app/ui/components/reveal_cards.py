"""The reveal page's cards that hold no secret: a link that no longer works, a deleted
secret, an end-to-end link without its key (issue 20), and the "opened before" notice (issue 21)."""

from __future__ import annotations

import reflex as rx
from reflex.vars import VarData

from pwpush_app.core.errors import PushUnavailable
from pwpush_app.core.qr import MAX_QR_BYTES, QrTooLong
from pwpush_app.ui.components.e2e import MISSING_KEY
from pwpush_app.ui.i18n import LanguageState, local_time, t, t_var, time_from_now

UNAVAILABLE_MESSAGE = PushUnavailable().args[0]
QR_TOO_LONG_MESSAGE = QrTooLong().args[0]


def card(*children, **props) -> rx.Component:
    return rx.card(rx.vstack(*children, spacing="4", width="100%"), width="100%", **props)


def loading_card() -> rx.Component:
    return card(
        rx.skeleton(rx.heading(t("Opening the secret link"), size="5")),
        rx.skeleton(rx.text(t("One moment…")), height="3rem", width="100%"),
        min_height="12rem",
    )


def missing_key_card() -> rx.Component:
    """An end-to-end link opened without its key, where the page would reveal on load: held."""
    return card(
        rx.heading(t("Someone shared a secret with you"), as_="h1", size="6"),
        rx.text(t(MISSING_KEY), id="e2e-missing-key", role="alert", color_scheme="red", size="2", weight="medium"),
        min_height="12rem",
    )


def unavailable_card() -> rx.Component:
    return card(
        rx.hstack(rx.icon("link-2-off", size=28, aria_hidden="true"), rx.heading(t(UNAVAILABLE_MESSAGE), as_="h1", size="5"), align="center"),
        rx.text(
            t("Secret links stop working after their views or time run out, or when someone deletes them. "
              "Ask the sender for a new one."),
            color_scheme="gray",
        ),
        rx.link(t("Share a secret of your own"), href="/"),
        id="unavailable",
        min_height="12rem",
    )


def deleted_card() -> rx.Component:
    return card(
        rx.hstack(rx.icon("trash-2", size=24, aria_hidden="true"), rx.heading(t("The secret was deleted"), as_="h1", size="5"), align="center"),
        rx.text(t("Nobody can view it again, you included."), color_scheme="gray"),
        id="deleted",
        min_height="12rem",
    )


def opened_before_notice(text: rx.Var, earlier_views: rx.Var, count: rx.Var, last: rx.Var) -> rx.Component:
    """How often and when the link was opened before this view (pushes of several views):
    amber when someone did, so an intercepted link shows; nothing for a push of one view.
    English reads the core's sentence (`text`); other languages get theirs from the count and
    the last view's time (written by the browser)."""
    earlier = t("Opened {count} times before this view. If you didn't expect that, tell the sender: "
                "someone else may have had the link.", count=count)
    when = rx.cond(last != "", t("Last opened {when}.", when=time_from_now(last)), "")
    translated = rx.cond(earlier_views, rx.Var(f"({when} ? {earlier} + \" \" + {when} : {earlier})",
                                               _var_data=VarData.merge(earlier._get_all_var_data(),
                                                                       when._get_all_var_data())).to(str),
                         t("Nobody opened this link before you."))
    # Two fixed icons, not one icon named by a Var: that compiles to lucide's DynamicIcon,
    # whose table of every icon (~240 KB decoded, ~55 KB sent) the reveal page would then load.
    return rx.cond(
        text != "",
        rx.callout.root(
            rx.callout.icon(rx.cond(earlier_views, rx.icon("triangle-alert"), rx.icon("eye"))),
            rx.callout.text(rx.cond(LanguageState.locale == "en", text, translated)),
            color_scheme=rx.cond(earlier_views, "amber", "gray"),
            size="1",
            width="100%",
            id="opened-before",
        ),
    )


def views_left_words(views_left: rx.Var, expires_at: rx.Var, note: rx.Var) -> rx.Var:
    """"It can be viewed 4 more times until 2 Dec 2026, 11:30 UTC (in 7 days).": the count from
    the server, the moment written by the browser in the viewer's time zone and language.
    Languages whose plural has more forms than English's word the "{count}" sentence so that it
    reads for any number (the catalogue test asks for both sentences in every language)."""
    moment = rx.Var(f"({local_time(expires_at)} + \" (\" + {time_from_now(expires_at)} + \")\")",
                    _var_data=local_time(expires_at)._get_all_var_data()).to(str)
    counted = rx.match(
        views_left,
        (-1, ""),
        (0, t("That was its last view: it is now deleted from the server. Copy it before you leave.")),
        (1, t("It can be viewed 1 more time until {time}.", time=moment)),
        t("It can be viewed {count} more times until {time}.", count=views_left, time=moment),
    )
    return rx.cond(note != "", t_var(note), counted)


def revealed_message(message: rx.Var) -> rx.Var:
    """A note under the revealed secret (English from the server) in the viewer's language; a QR
    code's text too long to draw is told with the limit written as their language writes numbers."""
    limit = rx.Var(f"new Intl.NumberFormat({LanguageState.locale} || \"en\").format({MAX_QR_BYTES})",
                   _var_data=LanguageState.locale._get_all_var_data()).to(str)
    return rx.cond(message == QR_TOO_LONG_MESSAGE,
                   t("The text is too long for a QR code: at most {max_bytes} bytes of UTF-8.", max_bytes=limit),
                   t_var(message))
