"""`copy_on_arrival`: a link filled by `rx.set_value` goes straight to the clipboard (with the
"Copied to the clipboard" toast), so a server event can copy a secret link in the same click
that asked for it, without the link ever sitting in state.  Where the browser refuses the
clipboard, the link appears in a selected field for copying by hand."""

from __future__ import annotations

import reflex as rx


class CopyOnArrival(rx.Component):
    library = rx.asset("components/copy_on_arrival.js").importable_path
    tag = "CopyOnArrival"

    label: rx.Var[str]


copy_on_arrival = CopyOnArrival.create
