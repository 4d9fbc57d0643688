"""Reflex configuration. Every product setting lives in pwpush_app/settings.py."""

import os

import reflex as rx

from pwpush_app.settings import get_settings

settings = get_settings()


# Behind a proxy the browser must reach the event socket through the public URL (e.g.
# wss://secrets.example.com:8443/_event); Reflex would otherwise point it at
# localhost:<backend port>, or at port 443 of the page's host when the page is https.
public_urls = (
    {"api_url": settings.base_url, "deploy_url": settings.base_url} if os.environ.get("PWP__OVERRIDE_BASE_URL") else {}
)

# The Radix colour scales the pages use (ours, and Reflex's connection-error overlay: crimson);
# tests/ui/test_looks_and_speed.py fails when a compiled page names another.
THEME_COLOURS = ("amber", "blue", "crimson", "gray", "green", "indigo", "iris", "red", "slate")


class RadixThemes(rx.plugins.RadixThemesPlugin):
    """Radix Themes with only the colour scales the pages use, imported part by part as
    Radix documents it: its whole styles.css carries all 30 scales (~180 of its ~700 KB)."""

    def get_stylesheet_paths(self, **context) -> tuple[str, ...]:
        if not self.enabled:
            return ()
        return ("@radix-ui/themes/tokens/base.css",
                *(f"@radix-ui/themes/tokens/colors/{colour}.css" for colour in THEME_COLOURS),
                "@radix-ui/themes/components.css", "@radix-ui/themes/utilities.css")

    def get_frontend_dependencies(self, **context) -> tuple[str, ...]:
        # Not "bundled" for dynamic components (which our CSP's no-eval rules out anyway): a
        # bundled library is imported whole by every page's root, every Radix component with
        # it. The package is installed all the same: each Radix component names it.
        return ()


config = rx.Config(
    app_name="pwpush_app",
    db_url=settings.db_url,
    # A product that holds secrets reports nothing home and shows no badge.
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Memory keeps revealed secrets off disk (the default "disk" mode pickles state to
    # .states/); REFLEX_REDIS_URL switches to the Redis state manager for several workers.
    state_manager_mode="redis" if os.environ.get("REFLEX_REDIS_URL") else "memory",
    cors_allowed_origins=settings.site_origins,
    # Reflex's own reading of X-Forwarded-For stays off: the pages resolve the client by the
    # API's rule (ui/common.client_of), from the peer Reflex then keeps as the client's IP.
    trusted_proxy_hops=0,
    disable_plugins=[rx.plugins.SitemapPlugin],
    **public_urls,
    # The look of every page: calm iris on slate, light or dark as the visitor chooses
    # (PWP__THEME_MODE=light or dark: that mode for everyone).
    plugins=[RadixThemes(theme=rx.theme(
        accent_color="iris", gray_color="slate", radius="medium",
        **({"appearance": settings.pages.theme_mode} if settings.pages.theme_mode != "auto" else {}),
    ))],
)
