"""What the audit trail's events, its user agents, a push's end and passphrase lock-outs are
called on the pages (the manage page and the dashboard say it the same way)."""

from __future__ import annotations

from datetime import datetime, timezone

import reflex as rx

from pwpush_app.core.audit import NO_PASSPHRASE
from pwpush_app.core.i18n import N_
from pwpush_app.ui.i18n import LanguageState, local_time, t

EVENT_LABELS = {
    "creation": N_("Created"),
    "view": N_("Viewed"),
    "failed_view": N_("Viewed after expiry (refused)"),
    "failed_passphrase": N_("Wrong passphrase"),
    "passphrase_lock": N_("Locked: too many wrong passphrases, every attempt refused for a while"),
    "expire": N_("Deleted"),
    "expire_auto": N_("Expired"),
    "owner_view": N_("Manage page opened"),
    "edit": N_("Edited"),
    "creation_email_send": N_("Link mailed"),
    "refused_address": N_("Opened from an address you did not allow (refused)"),
    "passphrase_burn": N_("Wrong passphrase: your limit was reached, the secret is deleted"),
    "code_sent": N_("Verification code emailed to the recipient"),
    "wrong_code": N_("Wrong verification code"),
    "code_verified": N_("Recipient verified by the emailed code"),
}
EXPIRED_REASONS = {
    "views": N_("its views ran out"),
    "time": N_("its time ran out"),
    "owner": N_("you expired it"),
    "viewer": N_("the recipient deleted it"),
    "guesses": N_("too many wrong passphrases"),
    "admin": N_("an administrator expired it"),
}
# Whole sentences (a translation can't be glued from pieces): who deleted it, why it expired.
DELETED_BY = {
    "owner": N_("Deleted by the owner"),
    "admin": N_("Deleted by an administrator"),
    "viewer": N_("Deleted by the recipient"),
}
EXPIRED_BECAUSE = {
    "views": N_("Expired (its views ran out)"),
    "time": N_("Expired (its time ran out)"),
    "owner": N_("Expired (you expired it)"),
    "viewer": N_("Expired (the recipient deleted it)"),
    "guesses": N_("Expired (too many wrong passphrases)"),
    "admin": N_("Expired (an administrator expired it)"),
}

# How one recipient's push ended, as its owner reads it in the group (core/recipients.describe_member).
MEMBER_ENDS = {"owner": N_("revoked"), "viewer": N_("deleted by the recipient"), "views": N_("all views used"),
               "time": N_("its time ran out"), "guesses": N_("deleted after wrong passphrases"),
               "admin": N_("expired by an administrator")}


def describe_event(kind: str, actor: str | None) -> str:
    """An audit event in English, one catalogue entry each (the pages show it with `t_var`)."""
    label = EVENT_LABELS.get(kind, kind)
    if kind == "expire" and actor:
        label = DELETED_BY.get(actor, DELETED_BY["viewer"])
    elif kind == "expire_auto" and actor:
        label = EXPIRED_BECAUSE.get(actor, f"{label} ({actor})")
    elif kind == "failed_passphrase" and actor == NO_PASSPHRASE:
        label = N_("Opened without the passphrase (not counted as a guess)")
    return label


def user_agent_facts(raw: str) -> dict[str, str]:
    """What an audit row says of the browser ('Chrome 126 on Windows 10', 'Mobile Safari 17 on
    iOS 17 (iPhone)', 'Slackbot-LinkExpanding 1 (a bot)'), as names the page words in the
    viewer's language (`user_agent_cell`); `agent_short`: the raw string when nothing is
    recognised.  (ua-parser: ~7 ms for a string first seen, then cached.)"""
    facts = {"agent_browser": "", "agent_system": "", "agent_device": "", "agent_short": "–"}
    if not raw:
        return facts
    from ua_parser import parse as parse_user_agent  # not at every server start (~15-35 ms)

    found = parse_user_agent(raw[:255]).with_defaults()
    browser = " ".join(p for p in (found.user_agent.family, found.user_agent.major) if p and p != "Other")
    system = " ".join(p for p in (found.os.family, found.os.major) if p and p != "Other")
    if not browser and not system:
        return facts | {"agent_short": raw[:60] + ("…" if len(raw) > 60 else "")}
    device = found.device.family
    if device == "Spider":
        device = "bot"
    elif device in ("Other", "") or device in browser or device in system:
        device = ""
    return facts | {"agent_browser": browser, "agent_system": system, "agent_device": device, "agent_short": ""}


def lockout_facts(ip: str | None, until: datetime, max_failures: int, push_max_failures: int) -> dict[str, str]:
    """A lock-out as the page words it in the viewer's language (`lockout_text`): who, how many, until when."""
    return {"ip": ip or "", "count": str(push_max_failures if ip is None else max_failures), "until": iso_moment(until)}


def iso_moment(moment: datetime | None) -> str:
    """A moment for `local_time` ("" for none); the database's naive times are UTC."""
    if moment is None:
        return ""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def lockout_text(lockout: rx.Var) -> rx.Var:
    when = local_time(lockout["until"])
    return rx.cond(
        lockout["ip"] == "",
        t("Locked for everyone: {count} wrong passphrases from all recipients together. Attempts are refused until "
          "{time}.", count=lockout["count"], time=when),
        t("A recipient at {ip} typed {count} wrong passphrases: their attempts are paused until {time}. Check that "
          "they have the right passphrase.", ip=lockout["ip"], count=lockout["count"], time=when),
    )


def duration_words(seconds: rx.Var) -> rx.Var:
    """'3 days 4 hours', '3 Tage 4 Stunden': the two largest units, in the viewer's language."""
    locale = LanguageState.locale
    under_a_minute = t("less than a minute")
    return rx.Var(
        f"((s, lang) => {{ const parts = [[86400, 'day'], [3600, 'hour'], [60, 'minute']].map(([size, unit]) => {{"
        f" const n = Math.floor(s / size); s -= n * size; return n ? new Intl.NumberFormat(lang,"
        f" {{ style: 'unit', unit, unitDisplay: 'long' }}).format(n) : ''; }}).filter(Boolean).slice(0, 2);"
        f" return parts.length ? parts.join(' ') : {under_a_minute}; }})({seconds}, {locale})",
        _var_data=rx.vars.VarData.merge(seconds._get_all_var_data(), locale._get_all_var_data(),
                                        under_a_minute._get_all_var_data()),
    ).to(str)


def name_list(names: rx.Var) -> rx.Var:
    """Names given one per line as a list in the viewer's language ('Alice, Bob and Carol',
    'Alice, Bob et Carol')."""
    locale = LanguageState.locale
    return rx.Var(
        f"new Intl.ListFormat({locale} || 'en', {{ type: 'conjunction' }}).format(({names}).split('\\n'))",
        _var_data=rx.vars.VarData.merge(names._get_all_var_data(), locale._get_all_var_data()),
    ).to(str)


def _user_agent_words(event: rx.Var) -> rx.Var | rx.Component:
    browser, system, device = event["agent_browser"], event["agent_system"], event["agent_device"]
    named = rx.cond(
        system != "",
        t("{browser} on {system}", browser=rx.cond(browser != "", browser, t("Unknown browser")), system=system),
        browser,
    )
    return rx.cond(
        event["agent_short"] != "",
        event["agent_short"],
        rx.fragment(named, rx.cond(device == "bot", rx.fragment(" ", t("(a bot)")),
                                   rx.cond(device != "", rx.fragment(" (", device, ")")))),
    )


def user_agent_cell(event: rx.Var) -> rx.Component:
    """An audit row's browser and system, the raw user agent a click away (a native
    disclosure, so the keyboard opens it too)."""
    return rx.el.details(
        rx.el.summary(_user_agent_words(event), style={"cursor": "pointer"}),
        rx.text(event["user_agent"], size="1", color_scheme="gray", word_break="break-all", class_name="raw-user-agent"),
        class_name="user-agent",
    )
