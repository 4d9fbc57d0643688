"""Assembly only: the Reflex app, its pages, the JSON API and the background jobs."""

import reflex as rx

from pwpush_app.api import build_api
from pwpush_app.http_security import SecurityHeaders
from pwpush_app.jobs import purge_job
from pwpush_app.settings import get_settings


def index() -> rx.Component:
    settings = get_settings()
    return rx.center(
        rx.vstack(
            rx.heading(settings.brand_title, size="8"),
            rx.text(settings.brand_tagline),
        ),
        min_height="80vh",
    )


app = rx.App(
    api_transformer=[
        build_api(),
        # Last, so it wraps everything: pages, API, static files, errors.
        lambda asgi: SecurityHeaders(asgi, get_settings().trusted_proxy_hops),
    ]
)
app.add_page(index, route="/", title=get_settings().brand_title)
app.register_lifespan_task(purge_job)
