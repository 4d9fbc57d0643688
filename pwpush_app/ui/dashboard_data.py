"""What the dashboard shows for one user, tab and page (`dashboard_snapshot`: one poll's worth
of work), as plain rows the page words in the visitor's language (ui/dashboard.py): moments
as ISO (the browser writes them in the viewer's zone), reasons and kinds as catalogue
entries (`t_var`), counts as numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

from pwpush_app.core import outbox
from pwpush_app.core.clock import utcnow
from pwpush_app.core.link_mail import recipient_facts, recipients_by_event
from pwpush_app.core.owners import audit_trail, count_pushes_of_owner, pushes_of_owner
from pwpush_app.core.recipients import group_facts, groups_of
from pwpush_app.core.requests import ANSWER_NAME
from pwpush_app.core.reveal import passphrase_lockouts
from pwpush_app.core.runtime import Runtime
from pwpush_app.ui.common import KIND_LABELS
from pwpush_app.ui.components.audit_words import (
    EXPIRED_REASONS,
    describe_event,
    iso_moment,
    lockout_facts,
    user_agent_facts,
)
from pwpush_app.ui.i18n import N_, stored_sentences

PER_PAGE = 10


@dataclass
class Snapshot:
    rows: list[dict[str, str]]
    total: int
    audit: list[dict[str, str]] = field(default_factory=list)
    # Recipients locked out by wrong passphrases, each with the id of its push ("push").
    lockouts: list[dict[str, str]] = field(default_factory=list)


def _lockouts(runtime: Runtime, push, now) -> list[dict[str, str]]:
    """Recipients locked out by wrong passphrases (pushes with a passphrase only)."""
    if push.expired or not push.has_passphrase:
        return []
    settings = runtime.settings
    return [{"push": push.id, **lockout_facts(found.ip, found.until, settings.passphrase_max_failures,
                                              settings.passphrase_push_max_failures)}
            for found in passphrase_lockouts(runtime, push, now)]


def _row(push, now, group: dict[str, str]) -> dict[str, str]:
    return {
        "id": push.id,
        "name": push.name or "",
        # The name this app gave (an answer to a request): worded in the viewer's language.
        "name_given": "yes" if push.name == ANSWER_NAME else "",
        "kind": KIND_LABELS.get(push.kind, push.kind),
        "created": iso_moment(push.created_at),
        "used": str(push.views_used),
        "left": str(push.views_left),
        "seconds_left": str(0 if push.expired else max(0, int(push.time_left(now).total_seconds()))),
        "expired_at": iso_moment(push.expired_at),
        "reason": EXPIRED_REASONS.get(push.expired_reason or "", N_("it expired")) if push.expired else "",
        "active": "" if push.expired else "yes",
        # One of several recipients' pushes of the same secret (core/recipients.py): the group's
        # size and who viewed, who has not yet, whose push ended unviewed.
        "recipient": push.recipient or "",
        **{f"group_{key}": value for key, value in group.items()},
    }


NOT_MAILED = {"mailed_to": "", "mail_status": "", "mail_error": "", "mail_error_sentences": ""}


def _mailed(row) -> dict[str, str]:
    facts = recipient_facts(row)
    return {**facts, "mail_error_sentences": stored_sentences(facts["mail_error"], outbox.FAILURES)}


def audit_rows(runtime: Runtime, events) -> list[dict[str, str]]:
    # A mailed link says to whom and what became of the mail.
    mailed = recipients_by_event(runtime, [e.id for e in events if e.kind == "creation_email_send"])
    return [
        {"time": iso_moment(e.created_at), "event": describe_event(e.kind, e.actor),
         **(_mailed(mailed[e.id]) if e.id in mailed else NOT_MAILED),
         "ip": e.ip or "–", **user_agent_facts(e.user_agent), "user_agent": e.user_agent or "–"}
        for e in events
    ]


def dashboard_snapshot(runtime: Runtime, user_id: str, tab: str, page: int, search: str, open_id: str = "") -> Snapshot:
    """Everything the dashboard shows for one user, tab and page (one poll's worth of work)."""
    now = utcnow()
    expired = tab == "expired"
    found = pushes_of_owner(runtime, user_id, expired=expired, page=page, per_page=PER_PAGE, now=now,
                                   name_contains=search)
    total = count_pushes_of_owner(runtime, user_id, expired=expired, name_contains=search)
    audit = []
    if open_id and any(p.id == open_id for p in found):
        audit = audit_rows(runtime, audit_trail(runtime, next(p for p in found if p.id == open_id)))
    groups = groups_of(runtime, found)
    return Snapshot(rows=[_row(p, now, group_facts(groups.get(p.group_id or "", []), now)) for p in found],
                    total=total, audit=audit, lockouts=[lockout for p in found for lockout in _lockouts(runtime, p, now)])
