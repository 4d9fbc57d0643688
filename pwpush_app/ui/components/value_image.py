"""`value_image`: an image filled by `rx.set_value`, so a server event can show a QR code
of a secret link without the link (or the picture) ever sitting in state."""

from __future__ import annotations

import reflex as rx


class ValueImage(rx.Component):
    library = rx.asset("components/value_image.js").importable_path
    tag = "ValueImage"

    alt: rx.Var[str]
    width: rx.Var[str]
    height: rx.Var[str]


value_image = ValueImage.create
