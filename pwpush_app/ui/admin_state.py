"""The state of `/admin`: the users list with its actions, the audit log and the instance figures.

Every event asks the core, which checks the administrator afresh (`admin.require_admin_area`
and, for actions, inside the action's transaction): an event crafted by someone who is not an
administrator gets the refusal, no data, and changes nothing.  A stranger is sent to log in.
The state holds addresses, dates and counts: never a secret.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import VarData

from pwpush_app.core import admin, admin_actions, admin_figures
from pwpush_app.core.errors import ServerBusy
from pwpush_app.ui.common import BUSY_MESSAGE, KIND_LABELS, client_of, form_text, in_thread, runtime
from pwpush_app.ui.i18n import N_, LanguageState, sentences_of, stored_sentences
from pwpush_app.ui.session import current_user

REFUSED = N_("Only administrators can see this page. Ask one to run `python -m pwpush_app make-admin` for you.")
UNKNOWN_ACTION = N_("Unknown action: reload the page.")

# The page's action names, each the core call that does it.
ACTIONS = {
    admin_actions.LOCK: admin_actions.lock,
    admin_actions.UNLOCK: admin_actions.unlock,
    admin_actions.DELETE: admin_actions.delete_user,
    admin_actions.RESET_2FA: admin_actions.reset_two_factor,
    admin_actions.PROMOTE: admin_actions.promote,
    admin_actions.DEMOTE: admin_actions.demote,
    admin_actions.SIGN_OUT: admin_actions.sign_out_everywhere,
}
# What an action did: English sentences, filled and translated in the browser (`refusal_text`).
DONE_WORDS = {
    admin_actions.LOCK: N_("{email} is locked and signed out everywhere."),
    admin_actions.UNLOCK: N_("{email} is unlocked."),
    admin_actions.DELETE: N_("{email} is deleted ({detail})."),
    admin_actions.RESET_2FA: N_("Two-factor sign-in of {email} is off and their passkeys are removed: their next login "
                                "asks for the password only."),
    admin_actions.PROMOTE: N_("{email} is an administrator."),
    admin_actions.DEMOTE: N_("{email} is no longer an administrator."),
    admin_actions.SIGN_OUT: N_("{email} is signed out everywhere ({detail})."),
}


def iso(moment) -> str:
    """A moment for the page (the browser writes it in the viewer's time zone and language)."""
    return moment.isoformat() if moment else ""


def sentence(template: str, **values: str) -> tuple[str, list[dict]]:
    """(the English text, the same as one sentence for `refusal_text`) of a message with values."""
    return template.format(**values), [{"text": template, "values": values}]


def _row(user: admin.UserRow) -> dict[str, str]:
    return {"id": user.id, "email": user.email, "created": iso(user.created_at),
            "two_factor": "On" if user.two_factor_on or user.passkeys else "Off",
            "passkeys": str(user.passkeys), "locked": N_("Locked") if user.locked else "",
            "role": N_("Administrator") if user.is_admin else ""}


def describe_bytes(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def size_in_words(size: rx.Var, english: rx.Var) -> rx.Var:
    """A size in the viewer's language ("1,5 Mo", "0 octet"); English reads `describe_bytes`'s words."""
    locale = LanguageState.locale
    written = rx.Var(
        f"((n, lang) => {{ const [unit, scale] = n >= 1073741824 ? ['gigabyte', 1073741824] : n >= 1048576 ? "
        f"['megabyte', 1048576] : n >= 1024 ? ['kilobyte', 1024] : ['byte', 1]; const digits = scale === 1 ? 0 : 1; "
        f"return new Intl.NumberFormat(lang, {{style: 'unit', unit, unitDisplay: scale === 1 ? 'long' : 'short', "
        f"minimumFractionDigits: digits, maximumFractionDigits: digits}}).format(n / scale); }})(Number({size}), {locale})",
        _var_data=VarData.merge(size._get_all_var_data(), locale._get_all_var_data())).to(str)
    return rx.cond(locale == "en", english, written)


def _figures(figures: admin_figures.Figures) -> dict:
    most = max([n for _day, n in figures.views_per_day] + [1])
    return {
        "pushes": [{"kind": KIND_LABELS.get(kind, kind),
                    "active": str(figures.pushes[(kind, admin_figures.ACTIVE)]),
                    "expired": str(figures.pushes[(kind, admin_figures.EXPIRED)])}
                   for kind in dict.fromkeys(k for k, _state in figures.pushes)],
        "views": [{"day": day.isoformat(), "count": str(n), "width": f"{max(n * 100 // most, 1 if n else 0)}%"}
                  for day, n in figures.views_per_day],
        "storage": describe_bytes(figures.file_bytes), "file_bytes": figures.file_bytes, "files": figures.files,
        "mail_queued": figures.mail_queued, "mail_failed": figures.mail_failed,
        "purge": iso(figures.last_purge),
    }


def _log_row(row: admin_actions.LogRow) -> dict[str, str]:
    return {"when": iso(row.created_at), "admin": row.admin_email, "what": row.words,
            "whom": row.target_email, "detail": row.detail, "ip": row.ip or N_("unknown address"),
            "detail_sentences": stored_sentences(row.detail, admin_actions.DETAILS)}


def _everything(admin_id: str, search: str) -> tuple[list, dict, list]:
    rt = runtime()
    return (admin.list_users(rt, admin_id, search), _figures(admin_figures.instance_figures(rt, admin_id)),
            admin_actions.audit_log(rt, admin_id))


class AdminState(rx.State):
    allowed: bool = False
    checked: bool = False
    refusal: str = ""
    # The outcome of the last action (done) or why it was refused (action_error).
    done: str = ""
    done_sentences: list[dict] = []
    action_error: str = ""
    action_error_sentences: list[dict] = []
    me: str = ""
    users: list[dict[str, str]] = []
    search_text: str = ""
    pushes: list[dict[str, str]] = []
    views: list[dict[str, str]] = []
    # Files stored (their size, their count), mails queued and failed, the last purge (ISO).
    storage: str = ""
    file_bytes: int = 0
    files: int = 0
    mail_queued: int = 0
    mail_failed: int = 0
    purge: str = ""
    log: list[dict[str, str]] = []

    def _shut(self, refusal: str) -> None:
        self.allowed, self.users, self.log, self.pushes, self.views, self.refusal = False, [], [], [], [], refusal
        self.storage = self.purge = self.done = ""
        self.files = self.file_bytes = self.mail_queued = self.mail_failed = 0
        self.done_sentences = []

    async def _reload(self, search: str):
        user = await current_user(self)
        if user is None:
            self._shut("")
            return rx.redirect("/login")
        try:
            rows, figures, log = await in_thread(_everything, user.id, search)
        except admin.NotAdmin as refused:
            self._shut(str(refused) if isinstance(refused, admin.LoginsClosed) else REFUSED)
            return None
        except ServerBusy:
            self.refusal = BUSY_MESSAGE
            return None
        self.allowed, self.refusal, self.search_text, self.me = True, "", search, user.email
        self.users = [_row(r) for r in rows]
        self.pushes, self.views = figures["pushes"], figures["views"]
        self.storage, self.files, self.purge = figures["storage"], figures["files"], figures["purge"]
        self.file_bytes = figures["file_bytes"]
        self.mail_queued, self.mail_failed = figures["mail_queued"], figures["mail_failed"]
        self.log = [_log_row(r) for r in log]
        return None

    @rx.event
    async def load(self):
        self.checked, self.done, self.action_error = False, "", ""
        redirect = await self._reload("")
        self.checked = True
        return redirect

    @rx.event
    async def search(self, form_data: dict):
        self.done, self.action_error = "", ""
        return await self._reload(form_text(form_data, "search")[:admin.MAX_SEARCH_CHARS])

    @rx.event
    async def act(self, action: str, user_id: str):
        """One admin action on one account (the core checks who asks, and every rule)."""
        self.done, self.action_error = "", ""
        do = ACTIONS.get(action) if isinstance(action, str) else None
        user = await current_user(self)
        if user is None:
            self._shut("")
            return rx.redirect("/login")
        if do is None:
            self.action_error, self.action_error_sentences = UNKNOWN_ACTION, []
            return None
        try:
            outcome = await in_thread(do, runtime(), user.id, user_id if isinstance(user_id, str) else "",
                                      client_of(self))
        except admin.NotAdmin as refused:
            self._shut(str(refused) if isinstance(refused, admin.LoginsClosed) else REFUSED)
            return None
        except admin_actions.AdminRefused as refused:
            self.action_error, self.action_error_sentences = str(refused), sentences_of(refused)
        except ServerBusy:
            self.action_error, self.action_error_sentences = BUSY_MESSAGE, []
            return None
        else:
            self.done, self.done_sentences = sentence(DONE_WORDS[action], email=outcome.target_email,
                                                      detail=outcome.detail)
        return await self._reload(self.search_text)
