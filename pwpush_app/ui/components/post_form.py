"""A plain HTML form that the browser itself posts (Reflex's forms always prevent that).

Used where the answer must set or clear the HttpOnly session cookie: log in, sign up,
log out, change password, delete account.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML


class PostForm(BaseHTML):
    tag = "form"
    action: rx.Var[str]
    method: rx.Var[str]


def post_form(*children: rx.Component, action: str, **props) -> rx.Component:
    return PostForm.create(*children, action=action, method="post", **props)
