"""`value_text`: a paragraph filled by `rx.set_value`, so a server event can show a secret
link as text (the print page) without the link ever sitting in state (like `value_image`)."""

from __future__ import annotations

import reflex as rx


class ValueText(rx.Component):
    library = rx.asset("components/value_text.js").importable_path
    tag = "ValueText"


value_text = ValueText.create
