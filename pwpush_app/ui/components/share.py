"""The share page: shown on `/` right after a push is created.

It gives the sender the secret link (copy button and QR code), a message ready to paste,
and the private manage link. The secret itself is never shown again.

The links are as good as the secret, so they too stay out of state: the create event
hands them to the browser once (`share_events`), into fields that are always on the page.
Reloading the page forgets them; the manage link stays listed under My pushes, which the
same events add it to (in the browser's local storage, never in state).
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import links
from pwpush_app.core.create import CreatedPush
from pwpush_app.core.qr import qr_data_uri
from pwpush_app.settings import get_settings
from pwpush_app.ui.common import format_time, plural
from pwpush_app.ui.components.browser_pushes import remember_push, remember_push_event
from pwpush_app.ui.components.fields import copy_button, field_label
from pwpush_app.ui.components.value_image import value_image


def share_message(link: str, views: int, expires: str) -> str:
    return f"I've shared a secret with you: {link} - it expires after {plural(views, 'view')} or on {expires}"


SHARE_FIELDS = ("share-link", "share-message", "share-manage", "share-qr")
# The print page sits under the manage link, which is on this page (in its field, not state).
OPEN_PRINT_PAGE = rx.call_function(rx.Var(
    "() => { const manage = document.getElementById('share-manage')?.value;"
    " if (manage) window.open(manage + '/print', '_blank', 'noopener'); }"))


class ShareState(rx.State):
    shown: bool = False

    @rx.event
    def create_another(self):
        self.shown = False
        # Take the old links off the page too (harmless when the fields aren't there yet).
        return [rx.set_value(field, "") for field in SHARE_FIELDS]


def share_events(created: CreatedPush) -> list:
    """The events that fill the share section with the new push's links and list it under My pushes."""
    push = created.push
    settings = get_settings()
    link = links.secret_link(settings, created.url_token)
    return [
        rx.set_value("share-link", link),
        rx.set_value("share-message", share_message(link, push.expire_after_views, format_time(push.expires_at))),
        rx.set_value("share-manage", links.manage_link(settings, created.manage_token)),
        rx.set_value("share-qr", qr_data_uri(link, "QR code of the secret link")),
        remember_push_event(created.manage_token, push.name, format_time(push.created_at), format_time(push.expires_at)),
    ]


def _copy_field(field_id: str, label: str, multiline: bool = False) -> rx.Component:
    field = (
        rx.text_area(id=field_id, read_only=True, width="100%", resize="none", style={"& textarea": {"fieldSizing": "content"}})
        if multiline
        else rx.input(id=field_id, read_only=True, width="100%", size="3")
    )
    return rx.vstack(
        field_label(label, field_id),
        rx.hstack(rx.box(field, flex="1", min_width="0"), copy_button(field_id), width="100%", align="start"),
        width="100%",
        spacing="1",
    )


def share_section() -> rx.Component:
    """Always mounted (hidden until a push is created), so the create event can fill it."""
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
                _copy_field("share-link", "Secret link"),
                rx.flex(
                    rx.box(
                        value_image(id="share-qr", alt="QR code of the secret link", width="160px", height="160px"),
                        background="white",
                        padding="0.5rem",
                        border_radius="var(--radius-3)",
                        flex_shrink="0",
                    ),
                    rx.box(
                        _copy_field("share-message", "Message to paste", multiline=True),
                        flex="1",
                        width="100%",
                    ),
                    direction={"initial": "column", "sm": "row"},
                    gap="4",
                    align={"initial": "center", "sm": "start"},
                    width="100%",
                ),
                rx.button(rx.icon("printer", size=16, aria_hidden="true"), "Print for handing over", type="button",
                          variant="soft", color_scheme="gray", on_click=OPEN_PRINT_PAGE, id="share-print"),
                spacing="4",
                width="100%",
            ),
            width="100%",
        ),
        rx.card(
            rx.vstack(
                _copy_field("share-manage", "Your manage link (keep it to yourself)"),
                rx.text(
                    "Open it to see who viewed the secret and to expire it early. "
                    "This browser also lists it under ",
                    rx.link("My pushes", href="/my-pushes"),
                    ".",
                    size="2",
                    color_scheme="gray",
                ),
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
        remember_push(),
        width="100%",
        spacing="4",
        display=rx.cond(ShareState.shown, "flex", "none"),
    )
