"""`/admin/settings`: the settings this site runs with, where each value came from, secrets
redacted (core/admin_settings.py; redaction by each setting's declaration, settings_effective.py).
The state holds the redacted values only."""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import admin, admin_settings
from pwpush_app.core.errors import ServerBusy
from pwpush_app.settings_effective import ENVIRONMENT
from pwpush_app.ui.admin_state import REFUSED
from pwpush_app.ui.common import BUSY_MESSAGE, in_thread, runtime
from pwpush_app.ui.components.admin_nav import admin_nav
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.i18n import t, t_var
from pwpush_app.ui.session import current_user


class AdminSettingsState(rx.State):
    allowed: bool = False
    refusal: str = ""
    rows: list[dict[str, str]] = []
    from_environment: int = 0

    @rx.event
    async def load(self):
        user = await current_user(self)
        if user is None:
            self.allowed, self.rows = False, []
            return rx.redirect("/login")
        try:
            rows = await in_thread(admin_settings.settings_for_admin, runtime(), user.id)
        except admin.NotAdmin as refused:
            self.allowed, self.rows = False, []
            self.refusal = str(refused) if isinstance(refused, admin.LoginsClosed) else REFUSED
            return None
        except ServerBusy:
            self.refusal = BUSY_MESSAGE
            return None
        self.allowed, self.refusal = True, ""
        self.rows = [{"name": r.name, "value": r.value, "source": "Environment" if r.source == ENVIRONMENT else "Default",
                      "hidden": "yes" if r.redacted else "", "about": r.description, "listed": r.listed} for r in rows]
        self.from_environment = sum(1 for r in rows if r.source == ENVIRONMENT)
        return None


def _setting(row) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.code(row["name"], size="2", class_name="setting-name", style={"overflowWrap": "anywhere"}),
            rx.badge(rx.cond(row["source"] == "Environment", t("Environment"), t("Default")),
                     color_scheme=rx.cond(row["source"] == "Environment", "indigo", "gray"),
                     high_contrast=True, class_name="setting-source"),
            rx.cond(row["hidden"] != "", rx.badge(rx.icon("eye-off", size=12, aria_hidden="true"), t("Hidden"),
                                                   color_scheme="amber", high_contrast=True)),
            gap="0.5rem", wrap="wrap", align="center",
        ),
        rx.text(row["value"], size="2", class_name="setting-value", font_family="monospace",
                style={"overflowWrap": "anywhere", "margin": "0.2rem 0"}),
        rx.text(t_var(row["about"]), rx.cond(row["listed"] != "", rx.fragment(" ", row["listed"], ".")), size="1",
                color_scheme="gray", class_name="setting-about"),
        class_name="admin-setting",
        style={"padding": "0.55rem 0", "borderBottom": "1px solid var(--gray-a5)", "listStyle": "none"},
    )


def admin_settings_page() -> rx.Component:
    return page_shell(
        rx.heading(t("Settings"), as_="h1", size="7", weight="bold"),
        rx.cond(
            AdminSettingsState.allowed,
            rx.vstack(
                admin_nav("/admin/settings"),
                rx.text(t("Every setting with the value in force: from the environment, or the default. Secrets "
                          "(keys, passwords, the passwords in database and Redis URLs) are never shown. Change a "
                          "setting in the environment and restart."), size="2", color_scheme="gray"),
                rx.text(t("{count} set in the environment, {total} in all.", count=AdminSettingsState.from_environment,
                          total=AdminSettingsState.rows.length()), size="1", color_scheme="gray", id="settings-count"),
                rx.el.ul(rx.foreach(AdminSettingsState.rows, _setting), aria_label=t("Settings"), id="admin-settings",
                         style={"margin": "0", "padding": "0", "width": "100%"}),
                spacing="4", width="100%",
            ),
            rx.cond(AdminSettingsState.refusal != "",
                    rx.callout(t_var(AdminSettingsState.refusal), icon="lock", color_scheme="red", role="alert",
                               id="admin-refused", width="100%")),
        ),
        languages=True,
    )
