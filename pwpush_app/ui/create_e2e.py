"""The create form's "Encrypt in my browser" switch (issue 20, end-to-end pushes).

While it is on (text and file pushes, where PWPUSH_END_TO_END offers it), the browser
encrypts the secret before it leaves (ui/components/e2e.py): the upload carries the envelope,
never the text, and each file encrypted with its name and type (core/e2e_files.py); the
passphrase stays in the browser too.  The server checks the envelope's
shape and stores it like any payload (core/e2e.py); the links it hands back are completed
with the key in the browser.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.settings import get_settings
from pwpush_app.ui.components.e2e import e2e_sealer
from pwpush_app.ui.create_state import CreateState
from pwpush_app.ui.i18n import t

SWITCH = "end_to_end"


class E2EState(rx.State):
    # The sender's choice (harmless); text and file pushes are encrypted in the browser.
    on: bool = False

    @rx.event
    def set_on(self, on: bool):
        self.on = bool(on) and get_settings().end_to_end


def sealing(kind: rx.Var) -> rx.Var:
    return E2EState.on & (kind == "text")


def sealing_files(kind: rx.Var) -> rx.Var:
    return E2EState.on & (kind == "file")


def e2e_field() -> rx.Component:
    """The switch and the part of the page that encrypts (nothing where the site turned it off)."""
    if not get_settings().end_to_end:
        return rx.fragment()
    return rx.box(
        rx.cond(
            (CreateState.kind == "text") | ((CreateState.kind == "file") & ~CreateState.files_need_login),
            rx.el.label(
                rx.hstack(
                    rx.switch(checked=E2EState.on, on_change=E2EState.set_on, aria_describedby=f"{SWITCH}-help",
                              class_name=SWITCH, id=SWITCH),
                    rx.vstack(
                        rx.text(t("Encrypt in my browser"), size="2", weight="medium"),
                        rx.text(t("End-to-end: the secret (files with their names) is encrypted here before it is sent, "
                                  "under a key that travels only in the link (after #). The passphrase, if you set one, "
                                  "stays in the browsers too: this site never sees either and cannot recover the secret."),
                                id=f"{SWITCH}-help", size="1", color_scheme="gray"),
                        spacing="0",
                    ),
                    align="start",
                    spacing="3",
                    width="100%",
                ),
                width="100%",
            ),
        ),
        width="100%",
    )


def e2e_part(send, send_files) -> rx.Component:
    """What encrypts and later completes the links: beside the form, not in it, as it
    outlives the form (the share section takes its place when the push is made).  `send`:
    the form's submit event, run with the envelope; `send_files`: the files' upload, run
    with the envelope and the encrypted files."""
    if not get_settings().end_to_end:
        return rx.fragment()
    return e2e_sealer(sealing(CreateState.kind), send, sealing_files(CreateState.kind), send_files,
                      CreateState.max_file_bytes)
