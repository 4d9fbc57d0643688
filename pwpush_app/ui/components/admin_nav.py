"""The admin pages' own links: users and figures, pushes, settings (the current one marked)."""

from __future__ import annotations

import reflex as rx

from pwpush_app.ui.i18n import N_, t

ADMIN_PAGES = (("/admin", N_("Users and figures"), "users"), ("/admin/pushes", N_("Pushes"), "list"),
               ("/admin/settings", N_("Settings"), "settings"))


def admin_nav(current: str) -> rx.Component:
    links = []
    for href, label, icon in ADMIN_PAGES:
        here = href == current
        links.append(rx.link(rx.icon(icon, size=16, aria_hidden="true"), t(label), href=href,
                             aria_current="page" if here else None, weight="bold" if here else "regular",
                             underline="always" if here else "hover",
                             style={"display": "inline-flex", "alignItems": "center", "gap": "0.35rem"}))
    return rx.el.nav(rx.flex(*links, gap="0.5rem 1.25rem", wrap="wrap"), aria_label=t("Administration"), id="admin-nav",
                     style={"width": "100%"})
