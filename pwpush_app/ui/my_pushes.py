"""My pushes (`/my-pushes`): the pushes this browser created, kept in its local storage.

Only what the creator needs to find a push again is remembered: its name, when it was
made, when it expires and its manage token. Never the secret, never the secret link.
"""

from __future__ import annotations

import json

import reflex as rx

from pwpush_app.ui.components.layout import page_shell

MAX_REMEMBERED = 200


class MyPushesState(rx.State):
    remembered: str = rx.LocalStorage("[]", name="pwpush.my_pushes", sync=True)

    @rx.var
    def pushes(self) -> list[dict[str, str]]:
        """Newest first; a damaged store reads as empty rather than breaking the page."""
        try:
            entries = json.loads(self.remembered or "[]")
        except ValueError:
            return []
        if not isinstance(entries, list):
            return []
        rows = [
            {key: str(entry.get(key, "")) for key in ("manage_token", "name", "created", "expires")}
            for entry in entries
            if isinstance(entry, dict) and entry.get("manage_token")
        ]
        return list(reversed(rows))

    def remember(self, manage_token: str, name: str, created: str, expires: str) -> None:
        """Called by the create page's event (a plain method, not an event handler)."""
        try:
            entries = json.loads(self.remembered or "[]")
            if not isinstance(entries, list):
                entries = []
        except ValueError:
            entries = []
        entries.append({"manage_token": manage_token, "name": name, "created": created, "expires": expires})
        self.remembered = json.dumps(entries[-MAX_REMEMBERED:])

    @rx.event
    def forget(self, manage_token: str):
        entries = [row for row in reversed(self.pushes) if row["manage_token"] != manage_token]
        self.remembered = json.dumps(entries)

    @rx.event
    def forget_all(self):
        self.remembered = "[]"


def _push_row(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.link(
                    rx.cond(row["name"] != "", row["name"], "Unnamed push"),
                    href="/manage/" + row["manage_token"].to(str),
                    weight="medium",
                ),
                rx.text("Created ", row["created"], " · expires ", row["expires"], size="1", color_scheme="gray"),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.icon_button(
                rx.icon("x", size=16),
                variant="ghost",
                color_scheme="gray",
                aria_label="Forget this push in this browser",
                title="Forget in this browser",
                on_click=MyPushesState.forget(row["manage_token"].to(str)),
            ),
            align="center",
            width="100%",
        ),
        width="100%",
        class_name="my-push",
    )


def my_pushes_page() -> rx.Component:
    return page_shell(
        rx.cond(
            MyPushesState.pushes.length() > 0,
            rx.vstack(
                rx.foreach(MyPushesState.pushes, _push_row),
                rx.button(
                    "Forget all in this browser",
                    variant="ghost",
                    color_scheme="gray",
                    size="1",
                    on_click=MyPushesState.forget_all,
                ),
                width="100%",
                spacing="2",
            ),
            rx.callout(
                "This browser has not created any pushes yet (or its list was cleared).",
                icon="info",
                color_scheme="gray",
                width="100%",
            ),
        ),
        heading="My pushes",
        subheading="Pushes created in this browser. Open one to see its audit log or expire it. "
        "This list lives only in this browser.",
    )
