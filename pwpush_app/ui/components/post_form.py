"""A plain HTML form that the browser itself posts (Reflex's forms always prevent that).

Used where the answer must set or clear the HttpOnly session cookie: log in, sign up,
log out, change password, delete account.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML

from pwpush_app.ui.i18n import t


class PostForm(BaseHTML):
    tag = "form"
    action: rx.Var[str]
    method: rx.Var[str]


def post_form(*children: rx.Component, action: str, **props) -> rx.Component:
    return PostForm.create(*children, action=action, method="post", **props)


def log_in_again(button_id: str) -> rx.Component:
    """For a refusal that asks for a recent login (core accounts.require_recent_login): logs out,
    which leads to the login page."""
    return post_form(
        rx.button(rx.icon("log-in", size=16, aria_hidden="true"), t("Log in again"), type="submit", id=button_id,
                  variant="soft", size="2"),
        action="/session/logout",
    )
