"""A button that asks before it does something that can't be undone (expire, delete, revoke)."""

import reflex as rx

from pwpush_app.ui.i18n import t


def confirm_button(
    *, label: str, icon: str, button_id: str | None = None, title: str, description, confirm_label: str,
    confirm_id: str, on_confirm, cancel_label: str | rx.Var | None = None, color_scheme: str = "red", size: str = "2",
    class_name: str | None = None,
) -> rx.Component:
    """`description` may be text or a Var (a push's name in it); `class_name` marks the button
    where several are on a page (the dashboard's rows) and an id can't be unique."""
    cancel_label = t("Keep it") if cancel_label is None else cancel_label
    trigger = {"id": button_id} if button_id else {}
    if class_name:
        trigger["class_name"] = class_name
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon(icon, size=14 if size == "1" else 16, aria_hidden="true"), label, color_scheme=color_scheme,
                      variant="soft", size=size, **trigger)
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(cancel_label, variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(confirm_label, color_scheme=color_scheme, on_click=on_confirm, id=confirm_id)),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
            max_width="26rem",
        ),
    )
