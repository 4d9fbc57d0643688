"""`copy_on_arrival`: a link filled by `rx.set_value` goes straight to the clipboard (with the
"Copied to the clipboard" toast), so a server event can copy a secret link in the same click
that asked for it, without the link ever sitting in state.  Where the browser refuses the
clipboard, the link appears in a selected field for copying by hand."""

from __future__ import annotations

import reflex as rx

from pwpush_app.ui.i18n import t


class CopyOnArrival(rx.Component):
    library = rx.asset("components/copy_on_arrival.js").importable_path
    tag = "CopyOnArrival"

    label: rx.Var[str]
    # The toast once copied, in the visitor's language.
    copied: rx.Var[str]


def copy_on_arrival(*children, **props) -> rx.Component:
    return CopyOnArrival.create(*children, copied=t("Copied to the clipboard"), **props)
