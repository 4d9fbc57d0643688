"""`/admin`: the administrators' users page (email, created, two-factor, locked; search).

Every event asks the core (`admin.list_users`, which calls `admin.require_admin`): a page
event crafted by someone who is not an administrator gets the refusal and no list.  A
stranger is sent to log in.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import admin
from pwpush_app.core.errors import ServerBusy
from pwpush_app.ui.common import BUSY_MESSAGE, form_text, format_time, in_thread, runtime
from pwpush_app.ui.components.fields import field_label, submit_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.session import current_user

REFUSED = "Only administrators can see this page. Ask one to run `python -m pwpush_app make-admin` for you."


def _row(user: admin.UserRow) -> dict[str, str]:
    return {"email": user.email, "created": format_time(user.created_at),
            "two_factor": "On" if user.two_factor_on else "Off", "locked": "Locked" if user.locked else "",
            "role": "Administrator" if user.is_admin else ""}


class AdminState(rx.State):
    allowed: bool = False
    checked: bool = False
    refusal: str = ""
    users: list[dict[str, str]] = []
    search_text: str = ""

    async def _list(self, search: str):
        user = await current_user(self)
        if user is None:
            self.allowed, self.users = False, []
            return rx.redirect("/login")
        try:
            rows = await in_thread(admin.list_users, runtime(), user.id, search)
        except admin.NotAdmin:
            self.allowed, self.users, self.refusal = False, [], REFUSED
            return None
        except ServerBusy:
            self.refusal = BUSY_MESSAGE
            return None
        self.allowed, self.refusal, self.search_text = True, "", search
        self.users = [_row(r) for r in rows]
        return None

    @rx.event
    async def load(self):
        self.checked = False
        redirect = await self._list("")
        self.checked = True
        return redirect

    @rx.event
    async def search(self, form_data: dict):
        return await self._list(form_text(form_data, "search")[:admin.MAX_SEARCH_CHARS])


def _users_list() -> rx.Component:
    """One line per account (a list, not a wide table: it reads the same on a phone)."""

    def row(user) -> rx.Component:
        return rx.el.li(
            rx.flex(
                rx.text(user["email"], weight="bold", size="2", class_name="admin-email"),
                rx.text("Created ", user["created"], size="2", color_scheme="gray"),
                rx.badge("Two-factor ", user["two_factor"], color_scheme=rx.cond(user["two_factor"] == "On", "green", "gray"),
                         high_contrast=True),
                rx.cond(user["locked"] != "", rx.badge(user["locked"], color_scheme="red", high_contrast=True)),
                rx.cond(user["role"] != "", rx.badge(user["role"], color_scheme="indigo", high_contrast=True)),
                gap="0.5rem", wrap="wrap", align="center",
            ),
            class_name="admin-user",
            style={"padding": "0.6rem 0", "borderBottom": "1px solid var(--gray-a5)", "listStyle": "none"},
        )

    return rx.el.ul(rx.foreach(AdminState.users, row), style={"margin": "0", "padding": "0", "width": "100%"},
                    aria_label="Accounts")


def admin_page() -> rx.Component:
    return page_shell(
        rx.cond(
            AdminState.allowed,
            rx.vstack(
                rx.form(
                    rx.hstack(
                        rx.box(field_label("Search by email", "search"),
                               rx.input(id="search", name="search", type="search", size="3", max_length=254,
                                        default_value=AdminState.search_text),
                               flex="1"),
                        submit_button("Search", id="search-users", size="3"),
                        align="end", spacing="2", width="100%",
                    ),
                    on_submit=AdminState.search, width="100%",
                ),
                rx.text(AdminState.users.length(), rx.cond(AdminState.users.length() == 1, " account", " accounts"),
                        f" shown (at most {admin.USERS_SHOWN}, newest first).", size="1", color_scheme="gray",
                        id="users-shown"),
                _users_list(),
                spacing="4", width="100%",
            ),
            rx.cond(AdminState.refusal != "",
                    rx.callout(AdminState.refusal, icon="lock", color_scheme="red", role="alert", id="admin-refused",
                               width="100%")),
        ),
        heading="Administration: users",
    )
