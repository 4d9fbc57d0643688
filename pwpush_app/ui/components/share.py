"""The share page: shown on `/` right after a push is created.

It gives the sender the secret link (copy button and QR code), a message ready to paste,
and the private manage link. The secret itself is never shown again.

The links are as good as the secret, so they too stay out of state: the create event
hands them to the browser once (`share_events`), into fields that are always on the page.
Reloading the page forgets them; the manage link stays listed under My pushes, which the
same events add it to (in the browser's local storage, never in state).
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

import reflex as rx
from babel import Locale
from babel.dates import format_date
from babel.dates import format_time as babel_time

from pwpush_app.core import links
from pwpush_app.core.create import CreatedPush
from pwpush_app.core.i18n import N_, translate
from pwpush_app.core.qr import qr_data_uri
from pwpush_app.core.recipients import MAX_RECIPIENTS, CreatedGroup
from pwpush_app.core.runtime import get_runtime
from pwpush_app.ui.common import format_time
from pwpush_app.ui.components.audit_words import iso_moment
from pwpush_app.ui.components.browser_pushes import remember_push, remember_push_event
from pwpush_app.ui.components.e2e import sealer_links
from pwpush_app.ui.components.fields import READABLE, copy_button, field_label
from pwpush_app.ui.components.value_image import value_image
from pwpush_app.ui.i18n import local_time, refusal_text, t, time_from_now


def share_message(link: str, views: int, expires: str, passphrase: bool = False, code: str = "en") -> str:
    """The message to paste, in the sender's language `code` (`expires`: its time, written for them)."""
    template = (N_("I've shared a secret with you: {link} - it expires after 1 view or on {time}") if views == 1
                else N_("I've shared a secret with you: {link} - it expires after {count} views or on {time}"))
    message = translate(code, template).replace("{count}", str(views)).replace("{time}", expires)
    if passphrase:
        # The link alone opens nothing: say so, and that the passphrase comes another way.
        message = translate(code, N_("{message}. It is protected by a passphrase, which I'll send you separately.")
                            ).replace("{message}", message)
    return message.replace("{link}", link)


def message_time(moment: datetime, code: str = "en") -> str:
    """The expiry in the pasted message: in UTC, unambiguous wherever the recipient reads it, written
    in the sender's language ("2 déc. 2026, 09:05 UTC")."""
    if code == "en":
        return format_time(moment)
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    try:
        locale = Locale.parse(code.replace("-", "_"))
        day = format_date(moment, "medium", locale=locale)
        hour = babel_time(moment, "short", tzinfo=timezone.utc, locale=locale)
        return f"{str(locale.datetime_formats['medium']).replace('{1}', day).replace('{0}', hour)} UTC"
    except (ValueError, LookupError):
        return format_time(moment)


SHARE_FIELDS = ("share-link", "share-message", "share-manage", "share-qr")
# The print page sits under the manage link, which is on this page (in its field, not state).
OPEN_PRINT_PAGE = rx.call_function(rx.Var(
    "() => { const manage = document.getElementById('share-manage')?.value;"
    " if (manage) window.open(manage + '/print', '_blank', 'noopener'); }"))


class ShareState(rx.State):
    shown: bool = False
    # The addresses the link is being mailed to (not secret: the sender typed them).
    mailed_to: str = ""
    # Said when the links name another address than the one in the address bar (no base
    # URL configured and this host not allowed): the recipient may not reach it.
    host_warning: str = ""
    host_warning_sentences: list[dict] = []
    # When the (single) push ends, shown in the sender's zone and language: not secret.
    expires_at: str = ""
    views: int = 0
    # A push for each of several recipients (core/recipients.py): their labels, in the
    # order named (not secret: the sender typed them); their links are in the page's fields.
    group_labels: list[str] = []
    # End-to-end (ui/create_e2e.py): the link's key lives only in this page's fields.
    end_to_end: bool = False

    @rx.event
    def create_another(self):
        self.shown, self.mailed_to, self.host_warning, self.end_to_end = False, "", "", False
        self.host_warning_sentences, self.expires_at, self.views = [], "", 0
        self.group_labels = []
        # Take the old links off the page too (harmless when the fields aren't there yet).
        return [rx.set_value(field, "") for field in (*SHARE_FIELDS, *GROUP_FIELDS)]


GROUP_FIELDS = tuple(f"share-group-{part}-{i}" for i in range(MAX_RECIPIENTS) for part in ("link", "manage"))


HOST_WARNING = N_("This link starts with {base_url}, not with the address you opened this site at ({page_host}): "
                  "the recipient may not be able to open it. Ask whoever runs this site to set PWP__OVERRIDE_BASE_URL "
                  "(or to allow this address in PWP__ALLOWED_HOSTS).")


def host_warning(base_url: str, page_origin: str) -> str:
    """What to tell the sender when the links don't start with the address they are using."""
    link_host, page_host = urlsplit(base_url).netloc, urlsplit(page_origin or "").netloc
    if not page_host or link_host == page_host:
        return ""
    return HOST_WARNING.replace("{base_url}", base_url).replace("{page_host}", page_host)


def _warn(share: ShareState, base_url: str, page_origin: str) -> None:
    share.host_warning = host_warning(base_url, page_origin)
    share.host_warning_sentences = [{"text": HOST_WARNING, "values": {
        "base_url": base_url, "page_host": urlsplit(page_origin or "").netloc}}] if share.host_warning else []


def share_events(created: CreatedPush, base_url: str, code: str = "en") -> list:
    """The events that fill the share section with the new push's links (starting with
    `base_url`, ui.common.site_base_url) and list it under My pushes; the message in language `code`."""
    push = created.push
    link = links.secret_link(base_url, created.url_token)
    message = share_message(link, push.expire_after_views, message_time(push.expires_at, code), push.has_passphrase, code)
    # End-to-end: the browser holds the key; it completes the links and draws the QR code.
    shown = [sealer_links({"share-link": link, "share-message": message}, [link], "share-link", "share-qr")] \
        if push.end_to_end else [rx.set_value("share-link", link), rx.set_value("share-message", message),
                                 rx.set_value("share-qr", qr_data_uri(link, translate(code, QR_ALT)))]
    return [
        *shown,
        rx.set_value("share-manage", links.manage_link(base_url, created.manage_token)),
        # Moments, written by My pushes in the viewer's zone and language.
        remember_push_event(created.manage_token, push.name, iso_moment(push.created_at), iso_moment(push.expires_at),
                            push.kind),
        # The form left the page with the focus in it: the link is what comes next.
        rx.set_focus("share-link"),
    ]


def show_share(share: ShareState, created: CreatedPush, page_origin: str, mailed_to: str = "", code: str = "en") -> list:
    """Show the share section for a push just created from a page at `page_origin` (its
    router's url.origin), saying to whom the link is being mailed; the events that fill it."""
    base_url = links.base_url_for(get_runtime().settings, page_origin)
    share.shown = True
    share.mailed_to = mailed_to
    _warn(share, base_url, page_origin)
    share.end_to_end = created.push.end_to_end
    share.expires_at, share.views = iso_moment(created.push.expires_at), created.push.expire_after_views
    return share_events(created, base_url, code)


def show_group(share: ShareState, group: CreatedGroup, page_origin: str, mailed_to: str = "", code: str = "en") -> list:
    """The share section for a push per recipient: each recipient's link and manage link,
    each push listed under My pushes."""
    base_url = links.base_url_for(get_runtime().settings, page_origin)
    share.shown = True
    share.mailed_to = mailed_to
    _warn(share, base_url, page_origin)
    share.group_labels = [one.push.recipient or "" for one in group.pushes]
    share.end_to_end = any(one.push.end_to_end for one in group.pushes)
    events, sealed = [], {}
    for i, one in enumerate(group.pushes):
        push = one.push
        link = links.secret_link(base_url, one.url_token)
        if push.end_to_end:  # one envelope for all: the browser adds the same key to each link
            sealed[f"share-group-link-{i}"] = link
        events += [
            rx.set_value(f"share-group-link-{i}", "" if push.end_to_end else link),
            rx.set_value(f"share-group-manage-{i}", links.manage_link(base_url, one.manage_token)),
            remember_push_event(one.manage_token, translate(code, N_("{name} (for {recipient})")).replace(
                                "{recipient}", push.recipient or "").replace("{name}", push.name) if push.name
                                else translate(code, N_("For {recipient}")).replace("{recipient}", push.recipient or ""),
                                iso_moment(push.created_at), iso_moment(push.expires_at), push.kind),
        ]
    if sealed:
        events.append(sealer_links(sealed, list(sealed.values())))
    return [*events, rx.set_focus("share-group-link-0")]


def _group_row(i: int) -> rx.Component:
    """Recipient `i`'s links (shown while the group has that many)."""
    label_id, link_id, manage_id = f"share-group-label-{i}", f"share-group-link-{i}", f"share-group-manage-{i}"
    return rx.box(
        rx.vstack(
            rx.text(rx.text.strong(ShareState.group_labels[i]), id=label_id, size="3"),
            rx.hstack(rx.box(rx.input(id=link_id, read_only=True, width="100%", size="3", style=READABLE,
                                      aria_labelledby=label_id), flex="1", min_width="0"),
                      _copy(link_id), width="100%", align="start"),
            rx.hstack(rx.box(rx.input(id=manage_id, read_only=True, width="100%", size="1", style=READABLE,
                                      aria_label=t("Manage link {number} (keep it to yourself)", number=i + 1)), flex="1",
                             min_width="0"),
                      _copy(manage_id, t("Copy manage link"), t("Copy the manage link to the clipboard")), width="100%", align="center"),
            spacing="2",
            width="100%",
        ),
        display=rx.cond(ShareState.group_labels.length() > i, "block", "none"),
        width="100%",
        padding_y="0.5rem",
        border_bottom="1px solid var(--gray-a5)",
    )


def _group_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(t("One link per recipient: send each only their own. Each counts its own views and can be revoked "
                      "alone from its manage link."), " ", rx.link(t("This browser lists them under My pushes."),
                                                                   href="/my-pushes"), size="2", color_scheme="gray"),
            *[_group_row(i) for i in range(MAX_RECIPIENTS)],
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="share-group",
        display=rx.cond(ShareState.group_labels.length() > 0, "block", "none"),
    )


QR_ALT = N_("QR code of the secret link")


def _copy(field_id: str, label=None, aria_label=None) -> rx.Component:
    return copy_button(field_id, t("Copy") if label is None else label,
                       t("Copy to the clipboard") if aria_label is None else aria_label, t("Copied to the clipboard"))


def _copy_field(field_id: str, label, multiline: bool = False) -> rx.Component:
    field = (
        rx.text_area(id=field_id, read_only=True, width="100%", resize="none",
                     style={**READABLE, "& textarea": {**READABLE["& textarea, & input"], "fieldSizing": "content"}})
        if multiline
        else rx.input(id=field_id, read_only=True, width="100%", size="3", style=READABLE, dir="ltr")
    )
    return rx.vstack(
        field_label(label, field_id),
        rx.hstack(rx.box(field, flex="1", min_width="0"), _copy(field_id), width="100%", align="start"),
        width="100%",
        spacing="1",
    )


def _expiry() -> rx.Component:
    """When the link stops working, in the sender's zone and language."""
    values = {"time": local_time(ShareState.expires_at), "relative": time_from_now(ShareState.expires_at)}
    return rx.text(
        rx.cond(ShareState.views == 1, t("It works for 1 view, until {time} ({relative}).", **values),
                t("It works for {count} views, until {time} ({relative}).", count=ShareState.views, **values)),
        id="share-expires", size="2", color_scheme="gray",
    )


def share_section() -> rx.Component:
    """Always mounted (hidden until a push is created), so the create event can fill it."""
    return rx.vstack(
        rx.callout(
            rx.cond(ShareState.group_labels.length() > 0,
                    t("Your secret links are ready, one per recipient. The secret is not shown again."),
                    t("Your secret link is ready. Send it to the recipient; the secret is not shown again.")),
            icon="circle-check",
            color_scheme="green",
            high_contrast=True,
            width="100%",
        ),
        rx.cond(
            ShareState.mailed_to != "",
            rx.callout(
                rx.text(t("We're mailing the link to {addresses}.", addresses=ShareState.mailed_to), " ",
                        t("Your dashboard's audit log shows when each mail went.")),
                icon="mail", color_scheme="blue", width="100%", id="share-mailed",
            ),
        ),
        rx.cond(
            ShareState.host_warning != "",
            rx.callout(refusal_text(ShareState.host_warning, ShareState.host_warning_sentences), icon="triangle-alert", color_scheme="amber", role="alert", width="100%",
                       id="share-host-warning"),
        ),
        rx.cond(
            ShareState.end_to_end,
            rx.callout(
                t("End-to-end encrypted: your browser encrypted the secret, and the key is only in this link (after #). "
                  "Copy it now: this site cannot give it again (your dashboard and manage link lack the key)."),
                icon="lock", color_scheme="blue", width="100%", id="share-e2e",
            ),
        ),
        _group_card(),
        rx.card(
            rx.vstack(
                _copy_field("share-link", t("Secret link")),
                _expiry(),
                rx.flex(
                    rx.box(
                        value_image(id="share-qr", alt=t(QR_ALT), width="160px", height="160px"),
                        background="white",
                        padding="0.5rem",
                        border_radius="var(--radius-3)",
                        flex_shrink="0",
                    ),
                    rx.box(
                        _copy_field("share-message", t("Message to paste"), multiline=True),
                        flex="1",
                        width="100%",
                    ),
                    direction={"initial": "column", "sm": "row"},
                    gap="4",
                    align={"initial": "center", "sm": "start"},
                    width="100%",
                ),
                # The print page has the link without its key: not for end-to-end pushes.
                rx.cond(ShareState.end_to_end, rx.fragment(),
                        rx.button(rx.icon("printer", size=16, aria_hidden="true"), t("Print for handing over"), type="button",
                                  variant="soft", color_scheme="gray", on_click=OPEN_PRINT_PAGE, id="share-print")),
                spacing="4",
                width="100%",
            ),
            width="100%",
            display=rx.cond(ShareState.group_labels.length() > 0, "none", "block"),
        ),
        rx.card(
            rx.vstack(
                _copy_field("share-manage", t("Your manage link (keep it to yourself)")),
                rx.text(
                    t("Open it to see who viewed the secret and to expire it early."), " ",
                    rx.link(t("This browser also lists it under My pushes."), href="/my-pushes"),
                    size="2",
                    color_scheme="gray",
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            display=rx.cond(ShareState.group_labels.length() > 0, "none", "block"),
        ),
        rx.button(
            rx.icon("plus", size=16, aria_hidden="true"),
            t("Create another"),
            size="3",
            on_click=ShareState.create_another,
            id="create-another",
        ),
        remember_push(),
        width="100%",
        spacing="4",
        display=rx.cond(ShareState.shown, "flex", "none"),
    )
