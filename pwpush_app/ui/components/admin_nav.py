"""The admin pages' own links: users and figures, pushes, settings (the current one marked)."""

from __future__ import annotations

import reflex as rx

ADMIN_PAGES = (("/admin", "Users and figures", "users"), ("/admin/pushes", "Pushes", "list"),
               ("/admin/settings", "Settings", "settings"))


def admin_nav(current: str) -> rx.Component:
    links = []
    for href, label, icon in ADMIN_PAGES:
        here = href == current
        links.append(rx.link(rx.icon(icon, size=16, aria_hidden="true"), label, href=href,
                             aria_current="page" if here else None, weight="bold" if here else "regular",
                             underline="always" if here else "hover",
                             style={"display": "inline-flex", "alignItems": "center", "gap": "0.35rem"}))
    return rx.el.nav(rx.flex(*links, gap="0.5rem 1.25rem", wrap="wrap"), aria_label="Administration", id="admin-nav",
                     style={"width": "100%"})
