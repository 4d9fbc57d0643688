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
from pwpush_app.ui.components.fields import field_label
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


def _users_table() -> rx.Component:
    def row(user) -> rx.Component:
        return rx.table.row(
            rx.table.row_header_cell(user["email"]),
            rx.table.cell(user["created"]),
            rx.table.cell(user["two_factor"]),
            rx.table.cell(user["locked"]),
            rx.table.cell(user["role"]),
            class_name="admin-user",
        )

    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in
                                           ("Email", "Created", "Two-factor", "Locked", "Role")))),
            rx.table.body(rx.foreach(AdminState.users, row)),
            width="100%", size="1",
        ),
        overflow_x="auto", width="100%",
    )


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
                        rx.button("Search", type="submit", id="search-users", size="3"),
                        align="end", spacing="2", width="100%",
                    ),
                    on_submit=AdminState.search, width="100%",
                ),
                rx.text(AdminState.users.length(), rx.cond(AdminState.users.length() == 1, " account", " accounts"),
                        f" shown (at most {admin.USERS_SHOWN}, newest first).", size="1", color_scheme="gray",
                        id="users-shown"),
                _users_table(),
                spacing="4", width="100%",
            ),
            rx.cond(AdminState.refusal != "",
                    rx.callout(AdminState.refusal, icon="lock", color_scheme="red", role="alert", id="admin-refused",
                               width="100%")),
        ),
        heading="Administration: users",
    )
