"""The reveal page's steps before the reveal: the passphrase, and for a push that verifies
its recipient (issue 21) a button that mails a code to the address the sender named and
the field for the code.  The state and the rules are the page's and the core's
(ui/reveal.py, core/reveal.py, core/recipient_code.py)."""

from __future__ import annotations

import reflex as rx

from pwpush_app.core.recipient_code import CODE_DIGITS, CODE_MINUTES
from pwpush_app.ui.components.fields import field_label
from pwpush_app.ui.i18n import t

CODE_FIELD = "verification_code"


def _around_address(sentence: rx.Var, address: rx.Var) -> tuple:
    """The sentence with the address in bold where its {address} stands (in any word order)."""
    parts = [rx.Var(f"{sentence}.split(\"{{address}}\")[{i}]", _var_data=sentence._get_all_var_data()).to(str) for i in (0, 1)]
    return parts[0], rx.text.strong(address), parts[1]


def passphrase_step(needs_passphrase: rx.Var) -> rx.Component:
    return rx.cond(
        needs_passphrase,
        rx.vstack(
            rx.text(t("The sender protected this secret with a passphrase. It is not in the link: "
                      "if you don't have it, ask the sender for it."), size="2", id="passphrase-help"),
            field_label(t("Passphrase"), "passphrase"),
            rx.input(
                id="passphrase",
                name="passphrase",
                type="password",
                auto_complete="off",
                size="3",
                width="100%",
                auto_focus=True,
                aria_describedby="passphrase-help reveal-message",
            ),
            spacing="1",
            width="100%",
        ),
    )


def code_step(needs_code: rx.Var, sent_to: rx.Var, sending: rx.Var, on_send) -> rx.Component:
    """Shown only when `needs_code`; `sent_to` is the masked address once a code went."""
    return rx.cond(
        needs_code,
        rx.vstack(
            rx.callout(
                rx.cond(
                    sent_to != "",
                    rx.text(*_around_address(t("We emailed a code to {address}. It works once, for {minutes} minutes. "
                                               "Not there? Look in the spam folder, or ask for a new one in a minute.",
                                               minutes=CODE_MINUTES), sent_to)),
                    rx.text(t("The sender asked us to check that you are the recipient: we email a {digits}-digit code to "
                              "the address they gave, and the secret opens with it.", digits=CODE_DIGITS)),
                ),
                icon="mail-check",
                size="1",
                width="100%",
                id="code-help",
            ),
            rx.button(
                rx.icon("send", size=16, aria_hidden="true"),
                rx.cond(sent_to != "", t("Email me a new code"), t("Email me a code")),
                type="button",
                variant=rx.cond(sent_to != "", "soft", "solid"),
                size="3",
                loading=sending,
                on_click=on_send,
                id="send-code",
            ),
            field_label(t("Code from the email ({digits} digits)", digits=CODE_DIGITS), CODE_FIELD),
            rx.input(
                id=CODE_FIELD,
                name=CODE_FIELD,
                input_mode="numeric",
                auto_complete="one-time-code",
                pattern="[0-9 ]*",
                max_length=9,
                placeholder="123 456",
                size="3",
                width="12rem",
                aria_describedby="code-help reveal-message",
                style={"fontFamily": "var(--code-font-family)", "letterSpacing": "0.15em"},
            ),
            spacing="2",
            width="100%",
            align="start",
        ),
    )


def e2e_note(end_to_end: rx.Var) -> rx.Component:
    """An end-to-end push (issue 20): what the recipient should know before the view is used."""
    return rx.cond(
        end_to_end,
        rx.callout(
            t("End-to-end encrypted: your browser decrypts it with the key in the link (the part after #), which this "
              "site never receives. If the sender also set a passphrase, you are asked for it after Reveal; a wrong one "
              "can be tried again on this page, but the view is counted at Reveal."),
            icon="lock", size="1", color_scheme="blue", width="100%", id="e2e-note",
        ),
    )
