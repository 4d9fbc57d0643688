"""Assembly only: the Reflex app, its pages, the JSON API and the background jobs."""

from pathlib import Path

import reflex as rx
from reflex.utils import prerequisites

from pwpush_app.api.app import build_api
from pwpush_app.core import links
from pwpush_app.host_check import HostCheck
from pwpush_app.http_security import ROBOTS_NOINDEX, SecurityHeaders, indexable, picture_origins
from pwpush_app.jobs import mail_job, purge_job, webhook_job
from pwpush_app.settings import get_settings
from pwpush_app.ui.account import (
    AccountFormState,
    account_page,
    forgot_password_page,
    login_code_page,
    login_enrol_page,
    login_page,
    reset_password_page,
    signup_page,
)
from pwpush_app.ui.admin import AdminState, admin_page
from pwpush_app.ui.admin_pushes import AdminPushesState, admin_pushes_page
from pwpush_app.ui.admin_settings import AdminSettingsState, admin_settings_page
from pwpush_app.ui.ask import AskState, ask_page
from pwpush_app.ui.components.e2e import link_key_wrap
from pwpush_app.ui.components.share import ShareState
from pwpush_app.ui.create import create_page
from pwpush_app.ui.create_state import CreateState
from pwpush_app.ui.dashboard import DashboardState, dashboard_page
from pwpush_app.ui.edit import EditState, edit_page
from pwpush_app.ui.i18n import N_, LanguageState, page_title
from pwpush_app.ui.manage import ManageState, manage_page
from pwpush_app.ui.my_pushes import my_pushes_page
from pwpush_app.ui.not_found import not_found_page
from pwpush_app.ui.notifications import NoticesState
from pwpush_app.ui.passkeys import PasskeyLoginState, PasskeysState
from pwpush_app.ui.print_share import PrintState, print_page
from pwpush_app.ui.requests import RequestsState, requests_page
from pwpush_app.ui.reveal import RevealState, reveal_page
from pwpush_app.ui.session import UploadCookies, keep_cookies_out_of_state
from pwpush_app.ui.tokens import TokenState, api_token_page
from pwpush_app.ui.two_factor import TwoFactorState
from pwpush_app.ui.upload_guard import UploadHandlerGuard

settings = get_settings()
title = settings.brand_title


def built_pages() -> Path:
    """Where `reflex run --env prod` (or export) puts the built pages the server sends."""
    return prerequisites.get_web_dir() / rx.constants.Dirs.STATIC / rx.config.get_config().frontend_path.strip("/")


def icon_links(brand) -> list[rx.Component]:
    """The brand's icons (PWP__BRAND__ICON_*), or ours from assets/ (served from the site's root)."""
    if not brand.icons and not brand.ms_icon:
        return [
            rx.el.link(rel="icon", href="/favicon.ico", sizes="any"),
            rx.el.link(rel="icon", href="/logo.svg", type="image/svg+xml"),
            rx.el.link(rel="apple-touch-icon", href="/apple-touch-icon.png"),
        ]
    links = [rx.el.link(rel=rel, href=href, sizes=sizes) for (rel, sizes), href in brand.icons.items()]
    if brand.ms_icon:
        links.append(rx.el.meta(name="msapplication-TileImage", content=brand.ms_icon))
    return links


def page(component, route: str, words: tuple[str, ...], on_load=(), **options) -> None:
    """Add a page; it asks search engines to stay away unless it may be indexed (PWP__NOINDEX).
    Every page first picks the language of the person looking at it (ui/i18n.py); its title is
    `words` in that language, then the brand (ui/i18n.py `page_title`)."""
    meta = [] if indexable(route, settings.pages.noindex) else [{"name": "robots", "content": ROBOTS_NOINDEX}]
    on_load = [LanguageState.choose, *(on_load if isinstance(on_load, (list, tuple)) else [on_load])]
    app.add_page(component, route=route, title=page_title(words, title), meta=meta, on_load=on_load, **options)


api = build_api()


class App(rx.App):
    """Reflex's app, with the API's fast door in front of everything Reflex wraps around
    it (the hot create and retrieve routes skip Reflex's and FastAPI's layers: api/hot.py)
    and the host check and security headers outside it, so they cover the door's answers
    too: PWP__ALLOWED_HOSTS for every request and the websocket (its 400 gets the headers),
    then the security headers around everything (pages, API, static files, errors)."""

    def __call__(self):
        inner = api.in_front_of(super().__call__())
        checked = HostCheck(inner, settings.allowed_hosts, settings.base_url)
        return SecurityHeaders(checked, settings.trusted_proxy_hops, pages_dir=built_pages,
                               noindex=settings.pages.noindex,
                               picture_sources=picture_origins(settings.pages.brand.pictures),
                               trusted_networks=settings.trusted_proxies)


app = App(
    api_transformer=[
        UploadCookies,  # inside the guard: only an upload it lets through is remembered
        UploadHandlerGuard,
        # FastAPI mounts Reflex's own app beneath its routes.
        api.fastapi,
    ],
    head_components=icon_links(settings.pages.brand),
    # Focus rings and reduced motion on every page (assets/a11y.css).
    stylesheets=["/a11y.css"],
    # End-to-end links: their key leaves the address bar before the first event (ui/components/e2e.py).
    extra_app_wraps={(3, "E2ELinkKey"): link_key_wrap},
)
# The websocket takes events from this site's pages only: its configured origins or, without a
# configured base URL, the page's own address when that host is allowed (core/links.py).
app.sio.eio.cors_allowed_origins = lambda origin, environ: links.same_site_origin(settings, origin, environ.get("HTTP_HOST"))
# Page state (in Redis with several workers) never holds the session cookie.
keep_cookies_out_of_state(app)
# A fresh visit to "/" starts with an empty form; the share section lives for one creation only.
page(create_page, "/", (), description=settings.brand_tagline,
     on_load=[ShareState.create_another, CreateState.forget_errors])
page(reveal_page, "/p/[token]", (N_("A secret for you"),), on_load=RevealState.open_link)
page(manage_page, "/manage/[manage_token]", (N_("Manage a push"),), on_load=ManageState.load)
page(edit_page, "/manage/[manage_token]/edit", (N_("Edit a push"),), on_load=EditState.load)
page(print_page, "/manage/[manage_token]/print", (N_("Print a secret link"),), on_load=PrintState.load)
page(edit_page, "/dashboard/edit/[push_id]", (N_("Edit a push"),), on_load=EditState.load)
page(my_pushes_page, "/my-pushes", (N_("My pushes"),))
page(login_page, "/login", (N_("Log in"),), on_load=[AccountFormState.load_login, PasskeyLoginState.clear])
page(login_code_page, "/login/code", (N_("Two-factor sign-in"),),
     on_load=[AccountFormState.load_form, TwoFactorState.load_login_code, PasskeyLoginState.load_step])
page(login_enrol_page, "/login/enrol", (N_("Set up two-factor sign-in"),),
     on_load=[AccountFormState.load_form, TwoFactorState.load_login_enrol])
page(signup_page, "/signup", (N_("Sign up"),), on_load=AccountFormState.load_login)
page(account_page, "/account", (N_("Account"),),
     on_load=[AccountFormState.load_account, NoticesState.load, TwoFactorState.load_account, PasskeysState.load])
page(forgot_password_page, "/forgot-password", (N_("Forgot password"),), on_load=AccountFormState.load_form)
page(reset_password_page, "/reset-password", (N_("New password"),), on_load=AccountFormState.load_form)
page(dashboard_page, "/dashboard", (N_("Dashboard"),), on_load=DashboardState.load)
page(requests_page, "/requests", (N_("Request a secret"),), on_load=RequestsState.load)
page(ask_page, "/ask/[token]", (N_("Someone asks you for a secret"),), on_load=AskState.open_link)
page(api_token_page, "/api-token", (N_("API token"),), on_load=TokenState.load)
page(admin_page, "/admin", (N_("Administration"),), on_load=AdminState.load)
page(admin_pushes_page, "/admin/pushes", (N_("Pushes"), N_("Administration")), on_load=AdminPushesState.load)
page(admin_settings_page, "/admin/settings", (N_("Settings"), N_("Administration")),
     on_load=[LanguageState.include("settings"), AdminSettingsState.load])
page(not_found_page, "404", (N_("Page not found"),))
app.register_lifespan_task(purge_job)
app.register_lifespan_task(mail_job)
app.register_lifespan_task(webhook_job)
