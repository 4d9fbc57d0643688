"""Print (`/manage/[manage_token]/print`): a sheet for handing a secret link over on paper.

The link, its QR code, when it stops working and whether a passphrase is needed (never the
passphrase, never the secret).  Reached from the share section right after creating and
from the manage page, through the manage link: its holder is the push's creator.  The link
is opened from its sealed copy only while the push lives, and reaches the page as event
results (`rx.set_value` into a text and an image), never state, as on the share section.
Opening it logs nothing and takes no view.  `@media print` leaves the sheet alone on the
paper, black on white in either colour mode.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import links
from pwpush_app.core.clock import utcnow
from pwpush_app.core.errors import PushUnavailable, ServerBusy
from pwpush_app.core.qr import qr_data_uri
from pwpush_app.core.records import find_managed, open_link_token
from pwpush_app.settings import get_settings
from pwpush_app.ui.common import BUSY_MESSAGE, in_thread, runtime, site_base_url
from pwpush_app.ui.components.audit_words import iso_moment
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.components.value_image import value_image
from pwpush_app.ui.components.value_text import value_text
from pwpush_app.ui.i18n import N_, local_time, t, t_var

PRINT_LINK = "print-link"
PRINT_QR = "print-qr"

PRINT_CSS = """
@page { margin: 18mm; }
@media print {
  header, footer, .no-print { display: none !important; }
  html, body, .radix-themes { background: #fff !important; }
  .print-sheet, .print-sheet * { color: #000 !important; background: #fff !important; box-shadow: none !important; }
  .print-sheet { border: 1px solid #000 !important; break-inside: avoid; }
}
"""


class PrintState(rx.State):
    # loading | found | unavailable
    status: str = "loading"
    # How many more times it opens, until when (an ISO moment, written in the viewer's zone).
    views_left: int = 0
    expires_at: str = ""
    needs_passphrase: bool = False
    message: str = ""

    def _manage_token(self) -> str:
        parts = self.router.url.path.strip("/").split("/")
        return parts[1] if len(parts) == 3 and parts[0] == "manage" and parts[2] == "print" else ""

    async def _live_link(self) -> tuple[object, str] | None:
        """The push and its secret link while it lives; None otherwise (unknown, expired)."""
        push = await in_thread(find_managed, runtime(), self._manage_token())
        # End-to-end: the key is not here, and a link without it opens nothing.
        token = await in_thread(open_link_token, runtime(), push) if push.is_live(utcnow()) and not push.end_to_end else None
        return (push, token) if token else None

    @rx.event
    async def load(self):
        self.reset()
        try:
            found = await self._live_link()
        except PushUnavailable:
            found = None
        except ServerBusy:
            self.status, self.message = "unavailable", BUSY_MESSAGE
            return
        if found is None:
            self.status = "unavailable"
            return
        push, _token = found
        self.status = "found"
        self.views_left, self.expires_at = push.views_left, iso_moment(push.expires_at)
        self.needs_passphrase = push.has_passphrase

    @rx.event
    async def send_link(self):
        """Fill the sheet once it is on the page: the link and its QR code, as event results."""
        try:
            found = await self._live_link()
        except (PushUnavailable, ServerBusy):
            found = None
        if found is None:
            self.status = "unavailable"
            return
        link = links.secret_link(site_base_url(self), found[1])
        return [rx.set_value(PRINT_LINK, link), rx.set_value(PRINT_QR, qr_data_uri(link, QR_ALT))]


QR_ALT = N_("QR code of the secret link")
PRINT = rx.call_function(rx.Var("() => { window.print() }"))


def _sheet() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("A secret has been shared with you"), as_="h2", size="6"),
            rx.text(t("Open this link in a browser, or scan the code with your phone's camera:"), size="3"),
            value_text(id=PRINT_LINK, font_family="var(--code-font-family)", font_size="1.15rem", word_break="break-all",
                       margin="0", width="100%", aria_label=t("The secret link"), dir="ltr"),
            rx.box(
                value_image(id=PRINT_QR, alt=t(QR_ALT), width="100%", height="100%"),
                background="white",
                padding="0.5rem",
                width="min(100%, 15rem)",
                aspect_ratio="1",
                border="1px solid var(--gray-a6)",
                border_radius="var(--radius-3)",
            ),
            rx.text(rx.cond(
                PrintState.views_left == 1,
                t("It can be opened 1 more time, until {time}, whichever comes first. Then the secret is deleted.",
                  time=local_time(PrintState.expires_at)),
                t("It can be opened {count} more times, until {time}, whichever comes first. Then the secret is deleted.",
                  count=PrintState.views_left, time=local_time(PrintState.expires_at)),
            ), size="3", id="print-limits"),
            rx.cond(
                PrintState.needs_passphrase,
                rx.text(rx.text.strong(t("You also need a passphrase.")), " ",
                        t("The sender gives it to you separately: it is not on this paper."), size="3",
                        id="print-passphrase"),
            ),
            rx.text(t("Keep this paper to yourself and destroy it once you have opened the link."), size="2",
                    color_scheme="gray"),
            rx.text(get_settings().brand_title, size="1", color_scheme="gray"),
            spacing="4",
            width="100%",
        ),
        class_name="print-sheet",
        width="100%",
        on_mount=PrintState.send_link,
    )


def _unavailable() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Nothing to print"), as_="h2", size="5"),
            rx.text(t("This push has expired or the manage link is incomplete: its secret link no longer works."),
                    color_scheme="gray"),
            rx.text(t_var(PrintState.message), color_scheme="red", size="2"),
            rx.link(t("Share a new secret"), href="/"),
            spacing="3",
        ),
        width="100%",
        id="print-unavailable",
    )


def print_page() -> rx.Component:
    return page_shell(
        rx.el.style(PRINT_CSS),
        rx.hstack(
            rx.button(rx.icon("printer", size=16, aria_hidden="true"), t("Print"), on_click=PRINT, id="print-now",
                      disabled=PrintState.status != "found"),
            rx.text(t("Only the link, its QR code and its limits are printed: never the secret or its passphrase."),
                    size="2", color_scheme="gray"),
            class_name="no-print",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        rx.match(
            PrintState.status,
            ("loading", rx.card(rx.skeleton(rx.box(height="16rem")), width="100%")),
            ("unavailable", _unavailable()),
            _sheet(),
        ),
        languages=True,
    )
