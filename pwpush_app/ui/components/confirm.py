"""A red button that asks before it destroys something (expire, delete)."""

import reflex as rx


def confirm_button(
    *, label: str, icon: str, button_id: str, title: str, description: str, confirm_label: str, confirm_id: str, on_confirm
) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon(icon, size=16, aria_hidden="true"), label, color_scheme="red", variant="soft", id=button_id)
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(confirm_label, color_scheme="red", on_click=on_confirm, id=confirm_id)),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
            max_width="26rem",
        ),
    )
