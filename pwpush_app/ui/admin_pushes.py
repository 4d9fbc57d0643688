"""`/admin/pushes`: every push's metadata, paged and searchable, with "Expire" (asks first).

Thin: the rules are core/admin_pushes.py's, which checks the administrator afresh at every
event: a crafted event from someone else gets the refusal, no rows, and changes nothing.
The state holds metadata only (kinds, dates, addresses, counts), never a secret.
"""

from __future__ import annotations

import reflex as rx

from pwpush_app.core import admin, admin_actions, admin_pushes
from pwpush_app.core.errors import ServerBusy
from pwpush_app.ui.admin_state import REFUSED, describe_bytes, iso, sentence, size_in_words
from pwpush_app.ui.common import BUSY_MESSAGE, KIND_LABELS, client_of, form_text, in_thread, runtime
from pwpush_app.ui.components.admin_nav import admin_nav
from pwpush_app.ui.components.confirm import confirm_button
from pwpush_app.ui.components.fields import field_label, submit_button
from pwpush_app.ui.components.layout import page_shell
from pwpush_app.ui.i18n import N_, local_time, refusal_text, sentences_of, t, t_var
from pwpush_app.ui.session import current_user

# Why a push ended (English, shown in the viewer's language).
REASONS = {"views": N_("views ran out"), "time": N_("time ran out"), "owner": N_("by its owner"),
           "viewer": N_("by the recipient"), "guesses": N_("wrong passphrases"), "admin": N_("by an administrator")}
EXPIRED_BY_ADMIN = N_("The push of {owner} is expired: its secret and files are deleted.")
# The pager's arrows point the way the page reads (Arabic and Urdu: right to left).
MIRRORED = {"[dir='rtl'] &": {"transform": "scaleX(-1)"}}
EXPIRED_ANONYMOUS = N_("The push of an anonymous sender is expired: its secret and files are deleted.")


def _row(row: admin_pushes.PushRow) -> dict[str, str]:
    """Words in English (translated on the page), numbers as text, moments as ISO."""
    ended = REASONS.get(row.expired_reason or "", N_("expired")) if row.expired_reason else ""
    return {"id": row.id, "kind": KIND_LABELS.get(row.kind, row.kind), "created": iso(row.created_at),
            "owner": row.owner_email or N_("Anonymous"), "used": str(row.views_used), "allowed": str(row.views_allowed),
            "expires": iso(row.expires_at), "state": "Active" if row.state == admin_pushes.ACTIVE else "Expired",
            "ended": ended, "files": str(row.files), "size": describe_bytes(row.file_bytes) if row.files else "",
            "bytes": str(row.file_bytes)}


class AdminPushesState(rx.State):
    allowed: bool = False
    refusal: str = ""
    done: str = ""
    done_sentences: list[dict] = []
    action_error: str = ""
    action_error_sentences: list[dict] = []
    rows: list[dict[str, str]] = []
    page: int = 1
    total: int = 0
    has_more: bool = False
    search_text: str = ""
    state_filter: str = ""
    kind_filter: str = ""

    def _shut(self, refusal: str) -> None:
        self.allowed, self.rows, self.total, self.has_more, self.refusal, self.done = False, [], 0, False, refusal, ""

    async def _reload(self, search: str, state: str, kind: str, page):
        user = await current_user(self)
        if user is None:
            self._shut("")
            return rx.redirect("/login")
        try:
            listing = await in_thread(admin_pushes.list_pushes, runtime(), user.id, search, state, kind, page)
        except admin.NotAdmin as refused:
            self._shut(str(refused) if isinstance(refused, admin.LoginsClosed) else REFUSED)
            return None
        except admin_actions.AdminRefused as refused:
            self.action_error, self.action_error_sentences = str(refused), sentences_of(refused)
            return None
        except ServerBusy:
            self.action_error, self.action_error_sentences = BUSY_MESSAGE, []
            return None
        self.allowed, self.refusal = True, ""
        self.search_text, self.state_filter, self.kind_filter = search, state, kind
        self.rows, self.page, self.total, self.has_more = [_row(r) for r in listing.rows], listing.page, \
            listing.total, listing.has_more
        return None

    @rx.event
    async def load(self):
        self.done, self.action_error = "", ""
        return await self._reload("", "", "", 1)

    @rx.event
    async def search(self, form_data: dict):
        self.done, self.action_error = "", ""
        state, kind = form_text(form_data, "state"), form_text(form_data, "kind")
        return await self._reload(form_text(form_data, "search")[:admin.MAX_SEARCH_CHARS],
                                  "" if state == "all" else state, "" if kind == "all" else kind, 1)

    @rx.event
    async def go(self, page: int):
        self.done, self.action_error = "", ""
        return await self._reload(self.search_text, self.state_filter, self.kind_filter, page)

    @rx.event
    async def expire(self, push_id: str):
        """Expire one push (the core checks who asks, and every rule)."""
        self.done, self.action_error = "", ""
        user = await current_user(self)
        if user is None:
            self._shut("")
            return rx.redirect("/login")
        try:
            outcome = await in_thread(admin_pushes.expire_push, runtime(), user.id,
                                      push_id if isinstance(push_id, str) else "", client_of(self))
        except admin.NotAdmin as refused:
            self._shut(str(refused) if isinstance(refused, admin.LoginsClosed) else REFUSED)
            return None
        except admin_actions.AdminRefused as refused:
            self.action_error, self.action_error_sentences = str(refused), sentences_of(refused)
        except ServerBusy:
            self.action_error, self.action_error_sentences = BUSY_MESSAGE, []
            return None
        else:
            if outcome.target_email == admin_pushes.ANONYMOUS:
                self.done, self.done_sentences = sentence(EXPIRED_ANONYMOUS)
            else:
                self.done, self.done_sentences = sentence(EXPIRED_BY_ADMIN, owner=outcome.target_email)
        return await self._reload(self.search_text, self.state_filter, self.kind_filter, self.page)


def _size(row) -> rx.Var:
    return size_in_words(row["bytes"], row["size"])


def _push_item(row) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.badge(t_var(row["kind"]), color_scheme="gray", high_contrast=True),
            rx.text(t_var(row["owner"]), weight="bold", size="2", class_name="admin-push-owner"),
            rx.badge(rx.cond(row["state"] == "Active", t("Active"),
                             rx.cond(row["ended"] != "", t("Expired ({reason})", reason=t_var(row["ended"])), t("Expired"))),
                     color_scheme=rx.cond(row["state"] == "Active", "green", "gray"),
                     high_contrast=True, class_name="admin-push-state"),
            gap="0.5rem", wrap="wrap", align="center",
        ),
        rx.flex(
            rx.text(t("Created {time}", time=local_time(row["created"])), size="2", color_scheme="gray"),
            rx.text(t("{used} of {allowed} views used", used=row["used"], allowed=row["allowed"]), size="2",
                    color_scheme="gray", class_name="admin-push-views"),
            rx.text(t("Expires {time}", time=local_time(row["expires"])), size="2", color_scheme="gray"),
            rx.cond(row["size"] != "", rx.text(rx.cond(row["files"] == "1", t("1 file, {size}", size=_size(row)),
                                                       t("{count} files, {size}", count=row["files"], size=_size(row))),
                                               size="2", color_scheme="gray", class_name="admin-push-files")),
            gap="0 1rem", wrap="wrap", margin_top="0.25rem",
        ),
        rx.cond(row["state"] == "Active", rx.box(confirm_button(
            label=t("Expire"), icon="timer-off", class_name="admin-expire", size="1", title=t("Expire this push now?"),
            description=t("The {kind} push of {owner} expires at once: its secret and files are deleted and its link "
                          "stops working. This cannot be undone.", kind=t_var(row["kind"]), owner=t_var(row["owner"])),
            confirm_label=t("Expire"), confirm_id="confirm-expire", cancel_label=t("Cancel"),
            on_confirm=AdminPushesState.expire(row["id"].to(str)),
        ), margin_top="0.4rem")),
        class_name="admin-push",
        style={"padding": "0.6rem 0", "borderBottom": "1px solid var(--gray-a5)", "listStyle": "none"},
    )


def _select(name: str, label: str, choices: list[tuple[str, str]], value) -> rx.Component:
    return rx.box(field_label(t(label), f"filter-{name}"),
                  rx.el.select(*[rx.el.option(t(text), value=v) for v, text in choices], id=f"filter-{name}", name=name,
                               default_value=value,
                               style={"height": "var(--space-7)", "padding": "0 0.5rem", "borderRadius": "var(--radius-2)",
                                      "border": "1px solid var(--gray-a7)", "background": "var(--color-surface)",
                                      "color": "var(--gray-12)", "font": "inherit"}))


def _filters() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.box(field_label(t("Owner's email (or “anonymous”)"), "push-search"),
                   rx.input(id="push-search", name="search", type="search", size="3", max_length=admin.MAX_SEARCH_CHARS),
                   flex="1 1 14rem"),
            _select("state", N_("State"), [("all", N_("Any")), ("active", N_("Active")), ("expired", N_("Expired"))], "all"),
            _select("kind", N_("Kind"), [("all", N_("Any"))] + list(KIND_LABELS.items()), "all"),
            submit_button(t("Search"), id="search-pushes", size="3"),
            gap="0.75rem", align="end", wrap="wrap", width="100%",
        ),
        on_submit=AdminPushesState.search, width="100%",
    )


def _pager() -> rx.Component:
    return rx.flex(
        rx.button(rx.icon("chevron-left", size=16, aria_hidden="true", style=MIRRORED), t("Newer"), variant="soft",
                  id="pushes-newer",
                  disabled=AdminPushesState.page <= 1, on_click=AdminPushesState.go(AdminPushesState.page - 1)),
        rx.text(t("Page {page}", page=AdminPushesState.page), size="2", id="pushes-page"),
        rx.button(t("Older"), rx.icon("chevron-right", size=16, aria_hidden="true", style=MIRRORED), variant="soft",
                  id="pushes-older",
                  disabled=~AdminPushesState.has_more, on_click=AdminPushesState.go(AdminPushesState.page + 1)),
        gap="0.75rem", align="center",
    )


def admin_pushes_page() -> rx.Component:
    return page_shell(
        rx.heading(t("Pushes"), as_="h1", size="7", weight="bold"),
        rx.cond(
            AdminPushesState.allowed,
            rx.vstack(
                admin_nav("/admin/pushes"),
                rx.cond(AdminPushesState.done != "",
                        rx.callout(refusal_text(AdminPushesState.done, AdminPushesState.done_sentences), icon="check", color_scheme="green", high_contrast=True,
                                   role="status", id="admin-done", width="100%")),
                rx.cond(AdminPushesState.action_error != "",
                        rx.callout(refusal_text(AdminPushesState.action_error, AdminPushesState.action_error_sentences),
                                   icon="triangle-alert", color_scheme="red", role="alert",
                                   id="admin-action-error", width="100%")),
                rx.text(t("What every push is, never what it holds: no secret, note, passphrase, name or link is "
                          "shown here."), size="2", color_scheme="gray"),
                _filters(),
                rx.text(rx.cond(AdminPushesState.total == 1,
                                t("1 push found, newest first ({per_page} a page).",
                                  per_page=admin_pushes.PUSHES_PER_PAGE),
                                t("{count} pushes found, newest first ({per_page} a page).",
                                  count=AdminPushesState.total, per_page=admin_pushes.PUSHES_PER_PAGE)),
                        size="1", color_scheme="gray", id="pushes-found"),
                rx.el.ul(rx.foreach(AdminPushesState.rows, _push_item), aria_label=t("Pushes"),
                         style={"margin": "0", "padding": "0", "width": "100%"}),
                _pager(),
                spacing="4", width="100%",
            ),
            rx.cond(AdminPushesState.refusal != "",
                    rx.callout(t_var(AdminPushesState.refusal), icon="lock", color_scheme="red", role="alert",
                               id="admin-refused", width="100%")),
        ),
        languages=True,
    )
