"""`/admin`: the administrators' page: users (search, lock and unlock, reset two-factor,
promote and demote, sign out everywhere, delete), the instance's figures and the audit log
of admin actions.

Thin: every rule is in core/admin*.py, asked by AdminState (ui/admin_state.py).  Actions
that can't be undone ask first, as the manage page's "Expire now" does.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import admin, admin_figures
from pwpush_app.ui.admin_state import AdminState
from pwpush_app.ui.components.admin_nav import admin_nav
from pwpush_app.ui.components.confirm import confirm_button
from pwpush_app.ui.components.fields import field_label, submit_button
from pwpush_app.ui.components.layout import page_shell

__all__ = ["AdminState", "admin_page"]


def _confirmed(user, action: str, label: str, icon: str, title: str, description: str, confirm_label: str):
    return confirm_button(
        label=label, icon=icon, class_name=f"admin-{action}", size="1", title=title,
        description=rx.fragment(user["email"], description), confirm_label=confirm_label,
        confirm_id=f"confirm-{action}", cancel_label="Cancel",
        on_confirm=AdminState.act(action, user["id"].to(str)),
    )


def _plain(user, action: str, label: str, icon: str) -> rx.Component:
    return rx.button(rx.icon(icon, size=14, aria_hidden="true"), label, size="1", variant="soft", color_scheme="gray",
                     class_name=f"admin-{action}", on_click=AdminState.act(action, user["id"].to(str)))


def _actions(user) -> rx.Component:
    others = user["email"] != AdminState.me
    return rx.flex(
        rx.cond(
            user["locked"] != "",
            _plain(user, "unlock", "Unlock", "lock-open"),
            rx.cond(others, _confirmed(user, "lock", "Lock", "lock", "Lock this account?",
                                       ": every login is refused and every session ends, until an administrator "
                                       "unlocks it. Its API token keeps working.", "Lock")),
        ),
        _confirmed(user, "sign_out", "Sign out everywhere", "log-out", "Sign out everywhere?",
                   ": every session and half-done login of this account ends.", "Sign out"),
        rx.cond(user["two_factor"] == "On",
                _confirmed(user, "reset_2fa", "Reset two-factor", "key-round", "Reset two-factor sign-in?",
                           ": two-factor is turned off, the backup codes and passkeys are deleted. Do this only when you "
                           "are sure who asks (someone who lost their phone and codes).", "Reset")),
        rx.cond(
            user["role"] != "",
            rx.cond(others, _confirmed(user, "demote", "Remove administrator", "shield-off",
                                       "Remove this administrator?", " can no longer open this page.", "Remove")),
            _plain(user, "promote", "Make administrator", "shield"),
        ),
        rx.cond(others, _confirmed(user, "delete", "Delete", "trash-2", "Delete this account and its pushes?",
                                   ": the account goes, and with it every push it made: their secrets and files are "
                                   "deleted. This cannot be undone.", "Delete")),
        gap="0.5rem", wrap="wrap", align="center",
    )


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
                rx.cond(user["email"] == AdminState.me, rx.badge("You", color_scheme="gray", high_contrast=True)),
                gap="0.5rem", wrap="wrap", align="center",
            ),
            rx.box(_actions(user), margin_top="0.4rem"),
            class_name="admin-user",
            style={"padding": "0.6rem 0", "borderBottom": "1px solid var(--gray-a5)", "listStyle": "none"},
        )

    return rx.el.ul(rx.foreach(AdminState.users, row), style={"margin": "0", "padding": "0", "width": "100%"},
                    aria_label="Accounts")


def _section(title: str, *children, **props) -> rx.Component:
    return rx.el.section(rx.heading(title, as_="h2", size="5", margin_bottom="0.5rem"), *children,
                         style={"width": "100%"}, **props)


def _fact(label: str, value, fact_id: str) -> rx.Component:
    return rx.flex(rx.text(label, weight="medium", size="2", min_width="9rem"), rx.text(value, size="2", id=fact_id),
                   gap="0.5rem", wrap="wrap")


def _figures() -> rx.Component:
    def push_row(row) -> rx.Component:
        return rx.table.row(rx.table.row_header_cell(row["kind"]), rx.table.cell(row["active"]),
                            rx.table.cell(row["expired"]), class_name="admin-push-row")

    def day(row) -> rx.Component:
        return rx.el.li(
            rx.flex(rx.text(row["day"], size="1", min_width="3.5rem"),
                    rx.box(style={"width": row["width"], "height": "0.7rem", "background": "var(--accent-9)",
                                  "borderRadius": "2px"}, aria_hidden="true"),
                    rx.text(row["count"], size="1", weight="medium"),
                    gap="0.5rem", align="center"),
            class_name="admin-day", style={"listStyle": "none"},
        )

    return _section(
        "This instance",
        rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("Pushes"), rx.table.column_header_cell("Active"),
                                         rx.table.column_header_cell("Expired"))),
            rx.table.body(rx.foreach(AdminState.pushes, push_row)),
            size="1", variant="surface", id="admin-pushes", max_width="24rem",
        ),
        rx.vstack(
            _fact("Files stored", AdminState.storage, "admin-storage"),
            _fact("Mail outbox", AdminState.mail, "admin-mail"),
            _fact("Last purge", AdminState.purge, "admin-purge"),
            spacing="1", margin_y="1rem",
        ),
        rx.text(f"Views per day (last {admin_figures.VIEW_DAYS} days, UTC)", weight="medium", size="2"),
        rx.el.ul(rx.foreach(AdminState.views, day), id="admin-views",
                 style={"margin": "0.4rem 0 0", "padding": "0", "maxWidth": "28rem"}),
        id="admin-figures",
    )


def _audit_log() -> rx.Component:
    def entry(row) -> rx.Component:
        return rx.el.li(
            rx.text(rx.text.strong(row["admin"]), " · ", row["what"], " ", rx.text.strong(row["whom"]),
                    rx.cond(row["detail"] != "", rx.fragment(" (", row["detail"], ")")), size="2"),
            rx.text(row["when"], " from ", row["ip"], size="1", color_scheme="gray"),
            class_name="admin-log-row",
            style={"padding": "0.4rem 0", "borderBottom": "1px solid var(--gray-a5)", "listStyle": "none"},
        )

    return _section(
        "Audit log",
        rx.cond(AdminState.log.length() == 0,
                rx.text("No administrator has acted yet.", size="2", color_scheme="gray", id="admin-log-empty"),
                rx.el.ul(rx.foreach(AdminState.log, entry), id="admin-log", aria_label="Admin actions, newest first",
                         style={"margin": "0", "padding": "0"})),
        id="admin-audit",
    )


def admin_page() -> rx.Component:
    return page_shell(
        rx.cond(
            AdminState.allowed,
            rx.vstack(
                admin_nav("/admin"),
                rx.cond(AdminState.done != "",
                        rx.callout(AdminState.done, icon="check", color_scheme="green", high_contrast=True,
                                   role="status", id="admin-done", width="100%")),
                rx.cond(AdminState.action_error != "",
                        rx.callout(AdminState.action_error, icon="triangle-alert", color_scheme="red", role="alert",
                                   id="admin-action-error", width="100%")),
                _section(
                    "Users",
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
                            id="users-shown", margin_y="0.5rem"),
                    _users_list(),
                ),
                _figures(),
                _audit_log(),
                spacing="6", width="100%",
            ),
            rx.cond(AdminState.refusal != "",
                    rx.callout(AdminState.refusal, icon="lock", color_scheme="red", role="alert", id="admin-refused",
                               width="100%")),
        ),
        heading="Administration",
    )
