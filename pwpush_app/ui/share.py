"""The share page: shown on `/` right after a push is created.

It gives the sender the secret link (copy button and QR code), a message ready to paste,
and the private manage link. The secret itself is never shown again.
"""

from __future__ import annotations

import base64

import qrcode
import qrcode.image.svg
import reflex as rx

from pwpush_app.core.pushes import CreatedPush
from pwpush_app.ui.common import format_time, manage_link, plural, secret_link
from pwpush_app.ui.components.fields import copy_button, field_label


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data URI: drawn in memory, never written to disk."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def share_message(link: str, views: int, expires: str) -> str:
    return f"I've shared a secret with you: {link} - it expires after {plural(views, 'view')} or on {expires}"


class ShareState(rx.State):
    shown: bool = False
    link: str = ""
    manage: str = ""
    message: str = ""
    qr: str = ""

    def show(self, created: CreatedPush) -> None:
        """Called by the create event with the new push (a plain method, not an event)."""
        push = created.push
        self.link = secret_link(created.url_token)
        self.manage = manage_link(created.manage_token)
        self.message = share_message(self.link, push.expire_after_views, format_time(push.expires_at))
        self.qr = qr_data_uri(self.link)
        self.shown = True

    @rx.event
    def create_another(self):
        # Forget the links: this tab's state should not keep them once the sender moves on.
        self.reset()


def _copy_field(field_id: str, label: str, value: rx.Var, multiline: bool = False) -> rx.Component:
    field = (
        rx.text_area(id=field_id, value=value, read_only=True, width="100%", resize="none", style={"& textarea": {"fieldSizing": "content"}})
        if multiline
        else rx.input(id=field_id, value=value, read_only=True, width="100%", size="3")
    )
    return rx.vstack(
        field_label(label, field_id),
        rx.hstack(field, copy_button(field_id), width="100%", align="start"),
        width="100%",
        spacing="1",
    )


def share_section() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "Your secret link is ready. Send it to the recipient; the secret is not shown again.",
            icon="circle-check",
            color_scheme="green",
            high_contrast=True,
            width="100%",
        ),
        rx.card(
            rx.vstack(
                _copy_field("share-link", "Secret link", ShareState.link),
                rx.flex(
                    rx.box(
                        rx.image(
                            src=ShareState.qr,
                            alt="QR code of the secret link",
                            width="160px",
                            height="160px",
                        ),
                        background="white",
                        padding="0.5rem",
                        border_radius="var(--radius-3)",
                        flex_shrink="0",
                        id="share-qr",
                    ),
                    rx.box(
                        _copy_field("share-message", "Message to paste", ShareState.message, multiline=True),
                        flex="1",
                        width="100%",
                    ),
                    direction={"initial": "column", "sm": "row"},
                    gap="4",
                    align={"initial": "center", "sm": "start"},
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            width="100%",
        ),
        rx.card(
            rx.vstack(
                _copy_field("share-manage", "Your manage link (keep it to yourself)", ShareState.manage),
                rx.text(
                    "Open it to see who viewed the secret and to expire it early. "
                    "This browser also lists it under My pushes.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.link("Open the manage page", href=ShareState.manage, size="2"),
                spacing="2",
                width="100%",
            ),
            width="100%",
        ),
        rx.button(
            rx.icon("plus", size=16, aria_hidden="true"),
            "Create another",
            size="3",
            on_click=ShareState.create_another,
            id="create-another",
        ),
        width="100%",
        spacing="4",
    )
