"""`/admin`: the administrators' page: users (search, lock and unlock, reset two-factor,
promote and demote, sign out everywhere, delete), the instance's figures and the audit log
of admin actions.

Thin: every rule is in core/admin*.py, asked by AdminState (ui/admin_state.py).  Actions
that can't be undone ask first, as the manage page's "Expire now" does.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import VarData

from pwpush_app.core import admin, admin_figures
from pwpush_app.ui.admin_state import AdminState, size_in_words
from pwpush_app.ui.components.admin_nav import admin_nav
from pwpush_app.ui.components.confirm import confirm_button
from pwpush_app.ui.components.fields import field_label, submit_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.i18n import N_, LanguageState, local_time, refusal_text, stored_text, t, t_var

__all__ = ["AdminState", "admin_page"]


def _confirmed(user, action: str, label: str, icon: str, title: str, description: str, confirm_label: str):
    """`description`: a sentence with the account's `{email}`."""
    return confirm_button(
        label=t(label), icon=icon, class_name=f"admin-{action}", size="1", title=t(title),
        description=t(description, email=user["email"]), confirm_label=t(confirm_label),
        confirm_id=f"confirm-{action}", cancel_label=t("Cancel"),
        on_confirm=AdminState.act(action, user["id"].to(str)),
    )


def _plain(user, action: str, label: str, icon: str) -> rx.Component:
    return rx.button(rx.icon(icon, size=14, aria_hidden="true"), t(label), size="1", variant="soft", color_scheme="gray",
                     class_name=f"admin-{action}", on_click=AdminState.act(action, user["id"].to(str)))


def _actions(user) -> rx.Component:
    others = user["email"] != AdminState.me
    return rx.flex(
        rx.cond(
            user["locked"] != "",
            _plain(user, "unlock", N_("Unlock"), "lock-open"),
            rx.cond(others, _confirmed(user, "lock", N_("Lock"), "lock", N_("Lock this account?"),
                                       N_("{email}: every login is refused and every session ends, until an "
                                          "administrator unlocks it. Its API token keeps working."), N_("Lock"))),
        ),
        _confirmed(user, "sign_out", N_("Sign out everywhere"), "log-out", N_("Sign out everywhere?"),
                   N_("{email}: every session and half-done login of this account ends."), N_("Sign out")),
        rx.cond(user["two_factor"] == "On",
                _confirmed(user, "reset_2fa", N_("Reset two-factor"), "key-round", N_("Reset two-factor sign-in?"),
                           N_("{email}: two-factor is turned off, the backup codes and passkeys are deleted. Do this "
                              "only when you are sure who asks (someone who lost their phone and codes)."), N_("Reset"))),
        rx.cond(
            user["role"] != "",
            rx.cond(others, _confirmed(user, "demote", N_("Remove administrator"), "shield-off",
                                       N_("Remove this administrator?"), N_("{email} can no longer open this page."),
                                       N_("Remove"))),
            _plain(user, "promote", N_("Make administrator"), "shield"),
        ),
        rx.cond(others, _confirmed(user, "delete", N_("Delete"), "trash-2", N_("Delete this account and its pushes?"),
                                   N_("{email}: the account goes, and with it every push it made: their secrets and "
                                      "files are deleted. This cannot be undone."), N_("Delete"))),
        gap="0.5rem", wrap="wrap", align="center",
    )


def _users_list() -> rx.Component:
    """One line per account (a list, not a wide table: it reads the same on a phone)."""

    def row(user) -> rx.Component:
        return rx.el.li(
            rx.flex(
                rx.text(user["email"], weight="bold", size="2", class_name="admin-email"),
                rx.text(t("Created {time}", time=local_time(user["created"])), size="2", color_scheme="gray"),
                rx.badge(rx.cond(user["two_factor"] == "On", t("Two-factor On"), t("Two-factor Off")),
                         color_scheme=rx.cond(user["two_factor"] == "On", "green", "gray"), high_contrast=True),
                rx.cond(user["locked"] != "", rx.badge(t_var(user["locked"]), color_scheme="red", high_contrast=True)),
                rx.cond(user["role"] != "", rx.badge(t_var(user["role"]), color_scheme="indigo", high_contrast=True)),
                rx.cond(user["email"] == AdminState.me, rx.badge(t("You"), color_scheme="gray", high_contrast=True)),
                gap="0.5rem", wrap="wrap", align="center",
            ),
            rx.box(_actions(user), margin_top="0.4rem"),
            class_name="admin-user",
            style={"padding": "0.6rem 0", "borderBottom": "1px solid var(--gray-a5)", "listStyle": "none"},
        )

    return rx.el.ul(rx.foreach(AdminState.users, row), style={"margin": "0", "padding": "0", "width": "100%"},
                    aria_label=t("Accounts"))


def _section(title: str, *children, **props) -> rx.Component:
    return rx.el.section(rx.heading(t(title), as_="h2", size="5", margin_bottom="0.5rem"), *children,
                         style={"width": "100%"}, **props)


def _fact(label: str, value, fact_id: str) -> rx.Component:
    return rx.flex(rx.text(t(label), weight="medium", size="2", min_width="9rem"), rx.text(value, size="2", id=fact_id),
                   gap="0.5rem", wrap="wrap")


def _figures() -> rx.Component:
    def push_row(row) -> rx.Component:
        return rx.table.row(rx.table.row_header_cell(t_var(row["kind"])), rx.table.cell(row["active"]),
                            rx.table.cell(row["expired"]), class_name="admin-push-row")

    def day(row) -> rx.Component:
        return rx.el.li(
            rx.flex(rx.text(_day_and_month(row["day"]), size="1", min_width="3.5rem"),
                    rx.box(style={"width": row["width"], "height": "0.7rem", "background": "var(--accent-9)",
                                  "borderRadius": "2px"}, aria_hidden="true"),
                    rx.text(row["count"], size="1", weight="medium"),
                    gap="0.5rem", align="center"),
            class_name="admin-day", style={"listStyle": "none"},
        )

    return _section(
        N_("This instance"),
        rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell(t("Pushes")),
                                         rx.table.column_header_cell(t("Active")),
                                         rx.table.column_header_cell(t("Expired")))),
            rx.table.body(rx.foreach(AdminState.pushes, push_row)),
            size="1", variant="surface", id="admin-pushes", max_width="24rem",
        ),
        rx.vstack(
            _fact(N_("Files stored"), rx.cond(AdminState.files == 1,
                                              t("{size} in 1 file", size=_storage()),
                                              t("{size} in {count} files", size=_storage(),
                                                count=AdminState.files)), "admin-storage"),
            _fact(N_("Mail outbox"), t("{queued} queued, {failed} failed", queued=AdminState.mail_queued,
                                       failed=AdminState.mail_failed), "admin-mail"),
            _fact(N_("Last purge"), rx.cond(AdminState.purge != "", local_time(AdminState.purge),
                                            t("Not yet run on this database")), "admin-purge"),
            spacing="1", margin_y="1rem",
        ),
        rx.text(t("Views per day (last {days} days, UTC)", days=admin_figures.VIEW_DAYS), weight="medium", size="2"),
        rx.el.ul(rx.foreach(AdminState.views, day), id="admin-views",
                 style={"margin": "0.4rem 0 0", "padding": "0", "maxWidth": "28rem"}),
        id="admin-figures",
    )


def _storage() -> rx.Var:
    return size_in_words(AdminState.file_bytes, AdminState.storage)


def _day_and_month(day: rx.Var) -> rx.Var:
    """"2 Dec", "2. Dez.": a day (ISO date, UTC) in the viewer's language."""
    return rx.Var(f"new Intl.DateTimeFormat({LanguageState.locale} || \"en\", {{day: \"numeric\", month: \"short\", "
                  f"timeZone: \"UTC\"}}).format(new Date({day}))",
                  _var_data=VarData.merge(LanguageState.locale._get_all_var_data(), day._get_all_var_data())).to(str)


def _audit_log() -> rx.Component:
    def entry(row) -> rx.Component:
        return rx.el.li(
            rx.text(rx.text.strong(row["admin"]), " · ", t_var(row["what"]), " ", rx.text.strong(row["whom"]),
                    rx.cond(row["detail"] != "", rx.fragment(" (", stored_text(row["detail"], row["detail_sentences"]), ")")),
                    size="2"),
            rx.text(t("{when} from {address}", when=local_time(row["when"]), address=t_var(row["ip"])), size="1",
                    color_scheme="gray"),
            class_name="admin-log-row",
            style={"padding": "0.4rem 0", "borderBottom": "1px solid var(--gray-a5)", "listStyle": "none"},
        )

    return _section(
        N_("Audit log"),
        rx.cond(AdminState.log.length() == 0,
                rx.text(t("No administrator has acted yet."), size="2", color_scheme="gray", id="admin-log-empty"),
                rx.el.ul(rx.foreach(AdminState.log, entry), id="admin-log", aria_label=t("Admin actions, newest first"),
                         style={"margin": "0", "padding": "0"})),
        id="admin-audit",
    )


def admin_page() -> rx.Component:
    return page_shell(
        rx.heading(t("Administration"), as_="h1", size="7", weight="bold"),
        rx.cond(
            AdminState.allowed,
            rx.vstack(
                admin_nav("/admin"),
                rx.cond(AdminState.done != "",
                        rx.callout(refusal_text(AdminState.done, AdminState.done_sentences), icon="check", color_scheme="green", high_contrast=True,
                                   role="status", id="admin-done", width="100%")),
                rx.cond(AdminState.action_error != "",
                        rx.callout(refusal_text(AdminState.action_error, AdminState.action_error_sentences), icon="triangle-alert", color_scheme="red", role="alert",
                                   id="admin-action-error", width="100%")),
                _section(
                    N_("Users"),
                    rx.form(
                        rx.hstack(
                            rx.box(field_label(t("Search by email"), "search"),
                                   rx.input(id="search", name="search", type="search", size="3", max_length=254,
                                            default_value=AdminState.search_text),
                                   flex="1"),
                            submit_button(t("Search"), id="search-users", size="3"),
                            align="end", spacing="2", width="100%",
                        ),
                        on_submit=AdminState.search, width="100%",
                    ),
                    rx.text(rx.cond(AdminState.users.length() == 1,
                                    t("1 account shown (at most {most}, newest first).", most=admin.USERS_SHOWN),
                                    t("{count} accounts shown (at most {most}, newest first).",
                                      count=AdminState.users.length(), most=admin.USERS_SHOWN)),
                            size="1", color_scheme="gray", id="users-shown", margin_y="0.5rem"),
                    _users_list(),
                ),
                _figures(),
                _audit_log(),
                spacing="6", width="100%",
            ),
            rx.cond(AdminState.refusal != "",
                    rx.callout(t_var(AdminState.refusal), icon="lock", color_scheme="red", role="alert", id="admin-refused",
                               width="100%")),
        ),
        languages=True,
    )
