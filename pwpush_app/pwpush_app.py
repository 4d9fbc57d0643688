"""Assembly only: the Reflex app, its pages, the JSON API and the background jobs."""

from pathlib import Path

import reflex as rx
from reflex.utils import prerequisites

from pwpush_app.api.app import build_api
from pwpush_app.http_security import SecurityHeaders
from pwpush_app.jobs import purge_job
from pwpush_app.settings import get_settings
from pwpush_app.ui.account import AccountFormState, account_page, login_page, signup_page
from pwpush_app.ui.components.share import ShareState
from pwpush_app.ui.create import create_page
from pwpush_app.ui.dashboard import DashboardState, dashboard_page
from pwpush_app.ui.manage import ManageState, manage_page
from pwpush_app.ui.my_pushes import my_pushes_page
from pwpush_app.ui.reveal import RevealState, reveal_page
from pwpush_app.ui.session import UploadCookies, keep_cookies_out_of_state
from pwpush_app.ui.tokens import TokenState, api_token_page
from pwpush_app.ui.upload_guard import UploadHandlerGuard

settings = get_settings()
title = settings.brand_title


def built_pages() -> Path:
    """Where `reflex run --env prod` (or export) puts the built pages the server sends."""
    return prerequisites.get_web_dir() / rx.constants.Dirs.STATIC / rx.config.get_config().frontend_path.strip("/")


api = build_api()


class App(rx.App):
    """Reflex's app, with the API's fast door in front of everything Reflex wraps around
    it (the hot create and retrieve routes skip Reflex's and FastAPI's layers: api/hot.py)
    and the security headers outermost, so they cover the door's answers too."""

    def __call__(self):
        return SecurityHeaders(api.in_front_of(super().__call__()), settings.trusted_proxy_hops,
                               pages_dir=built_pages)


app = App(
    api_transformer=[
        UploadCookies,  # inside the guard: only an upload it lets through is remembered
        UploadHandlerGuard,
        # FastAPI mounts Reflex's own app beneath its routes.
        api.fastapi,
    ],
    # The icons live in assets/ (served from the site's root, like /favicon.ico).
    head_components=[
        rx.el.link(rel="icon", href="/favicon.ico", sizes="any"),
        rx.el.link(rel="icon", href="/logo.svg", type="image/svg+xml"),
        rx.el.link(rel="apple-touch-icon", href="/apple-touch-icon.png"),
    ],
)
# Page state (in Redis with several workers) never holds the session cookie.
keep_cookies_out_of_state(app)
# A fresh visit to "/" starts with an empty form; the share section lives for one creation only.
app.add_page(create_page, route="/", title=title, description=settings.brand_tagline, on_load=ShareState.create_another)
app.add_page(reveal_page, route="/p/[token]", title=f"A secret for you · {title}", on_load=RevealState.open_link)
app.add_page(manage_page, route="/manage/[manage_token]", title=f"Manage a push · {title}", on_load=ManageState.load)
app.add_page(my_pushes_page, route="/my-pushes", title=f"My pushes · {title}")
app.add_page(login_page, route="/login", title=f"Log in · {title}", on_load=AccountFormState.load_login)
app.add_page(signup_page, route="/signup", title=f"Sign up · {title}", on_load=AccountFormState.load_login)
app.add_page(account_page, route="/account", title=f"Account · {title}", on_load=AccountFormState.load_account)
app.add_page(dashboard_page, route="/dashboard", title=f"Dashboard · {title}", on_load=DashboardState.load)
app.add_page(api_token_page, route="/api-token", title=f"API token · {title}", on_load=TokenState.load)
app.register_lifespan_task(purge_job)
