"""The shell around every page: brand header with navigation, one calm column, footer."""

from __future__ import annotations

import reflex as rx

from pwpush_app.settings import get_settings
from pwpush_app.ui.components.post_form import post_form
from pwpush_app.ui.components.share import ShareState
from pwpush_app.ui.i18n import document_language, language_switcher, t
from pwpush_app.ui.session import AccountState
from pwpush_app.version import application_version

CONTENT_WIDTH = "44rem"
# Out of sight until the keyboard reaches it.
SKIP_LINK_STYLE = {
    # insetInlineStart: "left" in English; in Arabic and Urdu the right, where an overflow can't
    # be scrolled to (a "left: -10000px" would widen a right-to-left page by 10,000 px).
    "position": "absolute", "insetInlineStart": "-10000px", "top": "0.5rem", "zIndex": "100", "padding": "0.5rem 0.75rem",
    "background": "var(--color-panel-solid)", "color": "var(--accent-11)", "borderRadius": "var(--radius-2)",
    "boxShadow": "var(--shadow-3)", "&:focus": {"insetInlineStart": "0.5rem"},
}
# The header is wider than the column: logged in, its links fit on one line at 1280 px.
HEADER_WIDTH = "64rem"


def _nav_link(label, href: str, **props) -> rx.Component:
    return rx.link(label, href=href, size="2", weight="medium", color_scheme="gray", high_contrast=True, white_space="nowrap", **props)


def account_nav() -> rx.Component:
    """Header links: Log in / Sign up, or the email, Dashboard, API token (Admin for
    administrators) and a Log out button."""
    return rx.hstack(
        rx.cond(
            AccountState.email != "",
            rx.hstack(
                _nav_link(t("Dashboard"), "/dashboard"),
                # A phone's header has room for Dashboard and Log out; the rest is on the dashboard.
                rx.desktop_only(
                    rx.hstack(
                        _nav_link(AccountState.email, "/account", id="nav-account", max_width="12rem", overflow="hidden",
                                  text_overflow="ellipsis"),
                        _nav_link(t("Requests"), "/requests", id="nav-requests"),
                        _nav_link(t("API token"), "/api-token"),
                        rx.cond(AccountState.is_admin, _nav_link(t("Admin"), "/admin", id="nav-admin")),
                        spacing="3",
                    ),
                ),
                post_form(
                    rx.button(t("Log out"), type="submit", id="log-out", variant="ghost", size="2", color_scheme="gray",
                              high_contrast=True),
                    action="/session/logout",
                    display="inline",
                ),
                spacing="3",
                align="center",
            ),
            # PWP__DISABLE_LOGINS: no way in is offered.
            rx.cond(
                AccountState.checked,
                rx.hstack(_nav_link(t("Log in"), "/login", id="nav-login"), _nav_link(t("Sign up"), "/signup"), spacing="3"),
            ) if not get_settings().disable_logins else rx.fragment(),
        ),
        on_mount=AccountState.refresh,
        spacing="3",
        align="center",
    )


def logo() -> rx.Component:
    """The brand's logo (PWP__BRAND__LIGHT_LOGO / DARK_LOGO; assets/logo.svg by default),
    the one for the mode the page is shown in.  The title beside it names the site."""
    pages = get_settings().pages
    brand = pages.brand

    def picture(address: str) -> rx.Component:
        return rx.image(src=address, alt="", height="28px", width="auto", max_width="9rem", object_fit="contain",
                        class_name="brand-logo")

    if brand.light_logo == brand.dark_logo or pages.theme_mode != "auto":
        return picture(brand.dark_logo if pages.theme_mode == "dark" else brand.light_logo)
    return rx.color_mode_cond(light=picture(brand.light_logo), dark=picture(brand.dark_logo))


def theme_switch() -> rx.Component:
    """PWP__THEME_MODE: auto offers the switch; light or dark holds every page in that mode
    (also over a choice this browser made earlier)."""
    mode = get_settings().pages.theme_mode
    if mode == "auto":
        return rx.color_mode.button(size="2", variant="ghost", aria_label=t("Switch light or dark mode"))
    return rx.fragment(on_mount=rx.style.set_color_mode(mode))


def header(languages: bool = False) -> rx.Component:
    settings = get_settings()
    return rx.el.header(
        # Wraps onto two lines on a narrow phone rather than overflowing sideways.
        rx.flex(
            rx.link(
                rx.hstack(
                    logo(),
                    rx.text(settings.brand_title, size={"initial": "3", "sm": "4"}, weight="bold"),
                    align="center",
                    spacing="2",
                ),
                href="/",
                underline="none",
                color_scheme="gray",
                high_contrast=True,
                aria_label=t("{brand}: home", brand=settings.brand_title),
            ),
            rx.el.nav(
                rx.hstack(
                    # "New push" always means an empty form, even right after creating one.
                    _nav_link(t("New push"), "/", on_click=ShareState.create_another),
                    # Logged in, the dashboard lists the account's pushes (and offers to move this
                    # browser's into it): one list in the header, not two.
                    rx.cond(AccountState.email == "", _nav_link(t("My pushes"), "/my-pushes")),
                    account_nav(),
                    theme_switch(),
                    language_switcher() if languages else rx.fragment(),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                    justify="end",
                ),
                aria_label=t("Main"),
                margin_left="auto",
            ),
            align="center",
            wrap="wrap",
            gap="2",
            width="100%",
            max_width=HEADER_WIDTH,
            margin_x="auto",
            padding_x="1rem",
            padding_y="0.75rem",
        ),
        border_bottom="1px solid var(--gray-a5)",
        width="100%",
    )


def _footer_link(label, href: str) -> rx.Component:
    return rx.link(label, href=href, size="1", color_scheme="gray", underline="always")


def footer() -> rx.Component:
    """The promise, the version (PWP__SHOW_VERSION), a small menu (PWP__BRAND__SHOW_FOOTER_MENU)
    and the brand's disclaimer (PWP__BRAND__DISCLAIMER)."""
    pages = get_settings().pages
    line = t("Secrets are encrypted and deleted when their views or time run out.")
    return rx.el.footer(
        rx.vstack(
            rx.text(line, rx.el.span(f" · v{application_version()}", id="app-version") if pages.show_version else "",
                    size="1", color_scheme="gray", align="center"),
            rx.el.nav(
                rx.hstack(_footer_link("API", "/api/docs"), _footer_link(t("My pushes"), "/my-pushes"), spacing="4",
                          justify="center"),
                aria_label=t("Footer"),
                id="footer-menu",
            ) if pages.brand.show_footer_menu else rx.fragment(),
            rx.text(pages.brand.disclaimer, size="1", color_scheme="gray", align="center", font_style="italic",
                    id="brand-disclaimer", max_width="40rem") if pages.brand.disclaimer else rx.fragment(),
            spacing="2",
            align="center",
            width="100%",
        ),
        padding="1.5rem 1rem",
        width="100%",
    )


def page_shell(*children: rx.Component, heading: str | rx.Var | None = None, subheading: str | rx.Var | None = None,
               languages: bool = False) -> rx.Component:
    """One page: header, an optional heading (the brand tagline on the home page), content, footer.
    `languages`: the page is translated (ui/i18n.py): it offers the language switcher and sets
    <html lang dir> to the visitor's language."""
    intro = []
    if heading is not None:
        intro.append(rx.heading(heading, as_="h1", size="7", weight="bold"))
    if subheading is not None:
        intro.append(rx.text(subheading, size="3", color_scheme="gray"))
    return rx.box(
        # The first Tab stop: past the header's links, straight to the page's own content.
        rx.el.a(t("Skip to the content"), href="#main", class_name="skip-link", style=SKIP_LINK_STYLE,
                on_click=rx.call_function(rx.Var("() => document.getElementById('main')?.focus()"))),
        document_language() if languages else rx.fragment(),
        header(languages),
        rx.el.main(
            rx.vstack(
                *intro,
                *children,
                spacing="4",
                width="100%",
                max_width=CONTENT_WIDTH,
                margin_x="auto",
                padding_x="1rem",
                padding_y="1.5rem",
            ),
            flex="1",
            width="100%",
            id="main",
            tab_index=-1,
            style={"outline": "none"},
        ),
        footer(),
        # For scripts and tests: present once the page is connected to the server.
        rx.cond(rx.State.is_hydrated, rx.el.span(id="app-ready", hidden=True)),
        display="flex",
        flex_direction="column",
        min_height="100vh",
    )
