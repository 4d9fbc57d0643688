"""Every mail the site sends, written once: plain text and HTML, with the site's name,
tagline and colour (PWP__BRAND__*).

A letter says what happened and what to do; it never carries a secret: no payload, no
note, no passphrase.  Only the link mail carries a secret link (that is its point) and the
account mails a one-time token; both are sealed while they wait in the outbox.
Languages: each letter takes the reader's `locale` (the link mail: the sender's page's or the
API request's language, or `notify_emails_to_locale`; account mails: the account's language,
User.locale).  `t(...)` in a letter is that language's sentence, filled after translation
(core/i18n.py); dates are written in that language with their zone named (UTC).  English is
as it always was.
"""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

from babel.dates import format_datetime as babel_datetime

from pwpush_app.core.clock import human_utc
from pwpush_app.core.i18n import N_, direction, in_language, normalise, said
from pwpush_app.settings import Settings

BRAND_COLOUR = "#5b5bd6"
MUTED = "#60646c"


@dataclass(frozen=True)
class Button:
    label: str
    url: str


@dataclass(frozen=True)
class Letter:
    """A mail to one person, ready to queue (`outbox.queue_mail`)."""

    to: str
    subject: str
    text: str
    html: str

    def message(self, settings: Settings, now: datetime) -> EmailMessage:
        """The MIME message: text and HTML alternatives.  Its Message-ID is fixed here, at
        queue time, so a mail sent twice (see outbox.py) shows as one in the inbox."""
        message = EmailMessage()
        message["From"] = one_line(settings.mail.sender)
        message["To"] = one_line(self.to)
        message["Subject"] = one_line(self.subject)
        message["Date"] = format_datetime(now)
        domain = parseaddr(settings.mail.sender)[1].rpartition("@")[2] or settings.mail.smtp_domain
        message["Message-ID"] = make_msgid(domain=domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(self.text, cte="quoted-printable")
        message.add_alternative(self.html, subtype="html", cte="quoted-printable")
        return message


def one_line(value: str) -> str:
    """A header value on one line: each run of whitespace and control characters (CR, LF,
    U+2028...) becomes one space.  Headers carry what users wrote (a push's name in a notice's
    Subject), and a line break there makes the message refuse to be built, so one stored name
    once stopped all of the site's mail; names are refused with one now, but old rows remain."""
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in value).split())


def site_host(settings: Settings) -> str:
    return urlsplit(settings.base_url).hostname or settings.base_url


def reader_locale(settings: Settings, code: str | None) -> str:
    """The language a mail is written in: the reader's, when this site speaks it, else the site's default."""
    enabled = settings.pages.enabled_languages
    return normalise(code, enabled) or normalise(settings.pages.default_locale, enabled) or "en"


def speaker(locale: str):
    """`t(template, **values)`: one sentence in `locale`, filled after translation."""
    def t(template: str, **values) -> str:
        return in_language(locale, said(template, **values))
    return t


def moment(when: datetime, locale: str) -> str:
    """A date and time in the reader's language, with its zone named (UTC)."""
    if locale in ("", "en"):
        return human_utc(when)
    try:
        return babel_datetime(when, "long", tzinfo=timezone.utc, locale=locale.replace("-", "_"))
    except (ValueError, LookupError):
        return human_utc(when)


def compose(settings: Settings, to: str, subject: str, heading: str, parts: list, why: str, locale: str = "en") -> Letter:
    """A letter from paragraphs (str) and buttons (Button), with the site's header and footer.
    `why` tells the reader why they got it; `locale` is the language it is written in."""
    t = speaker(locale)
    title, tagline = settings.brand_title, settings.brand_tagline
    text_parts, html_parts = [heading, "=" * len(heading)], []
    for part in parts:
        if isinstance(part, Button):
            text_parts.append(f"{part.label}:\n{part.url}")
            url = html.escape(part.url, quote=True)
            copy = html.escape(t("Or copy this link into your browser: {url}", url=part.url), quote=True)
            html_parts.append(
                f'<p style="margin:24px 0"><a href="{url}" style="display:inline-block;background:{BRAND_COLOUR};'
                f'color:#ffffff;text-decoration:none;padding:12px 22px;border-radius:6px;font-weight:600">'
                f'{html.escape(part.label)}</a></p>'
                f'<p style="margin:0 0 16px;font-size:13px;color:{MUTED};word-break:break-all">'
                f'{copy}</p>'
            )
        else:
            text_parts.append(part)
            html_parts.append(f'<p style="margin:0 0 14px">{html.escape(part)}</p>')
    footer = f"{title} · {tagline} · {settings.base_url}" if tagline else f"{title} · {settings.base_url}"
    text = "\n\n".join(text_parts) + f"\n\n-- \n{why}\n{footer}\n"
    body = (
        f'<!doctype html><html lang="{html.escape(locale or "en", quote=True)}" dir="{direction(locale)}">'
        '<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"></head>'
        '<body style="margin:0;padding:0;background:#f3f3f7;color:#1c2024;'
        'font-family:-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f3f7;padding:24px 8px">'
        '<tr><td align="center">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;'
        'background:#ffffff;border:1px solid #e0e1e6;border-radius:10px;overflow:hidden">'
        f'<tr><td style="background:{BRAND_COLOUR};color:#ffffff;padding:16px 28px;font-size:18px;font-weight:700">'
        f'{html.escape(title)}</td></tr>'
        '<tr><td style="padding:26px 28px 10px;font-size:15px;line-height:1.55">'
        f'<h1 style="font-size:20px;line-height:1.3;margin:0 0 16px">{html.escape(heading)}</h1>'
        + "".join(html_parts)
        + '</td></tr>'
        f'<tr><td style="padding:14px 28px 20px;border-top:1px solid #e0e1e6;font-size:12px;line-height:1.5;color:{MUTED}">'
        f'{html.escape(why)}<br>{html.escape(footer)}</td></tr>'
        '</table></td></tr></table></body></html>'
    )
    return Letter(to=to, subject=subject, text=text, html=body)


# --- the link, sent for its sender ------------------------------------------------------------

def link_letter(settings: Settings, to: str, sender_email: str, link: str, views: int, expires_at: datetime,
                has_passphrase: bool, locale: str = "en") -> Letter:
    t = speaker(locale)
    until = moment(expires_at, locale)
    parts = [
        t("{sender} shared a secret with you through {site}.", sender=sender_email, site=settings.brand_title),
        Button(t("Open the secret"), link),
        t("The link works until {until} or for 1 view, whichever comes first.", until=until) if views == 1 else
        t("The link works until {until} or for {count} views, whichever comes first.", until=until, count=views),
    ]
    parts[-1] = parts[-1] + " " + t("Then the secret is deleted.")
    if has_passphrase:
        parts.append(t("You will need a passphrase to open it: {sender} gives it to you another way.", sender=sender_email))
    parts.append(t("Don't forward this mail: whoever has the link can open the secret."))
    return compose(settings, to, t("{sender} sent you a secret", sender=sender_email), t("A secret for you"), parts,
                   t("You get this mail because {sender} asked {host} to send you the link.", sender=sender_email,
                     host=site_host(settings)) + " " + t("If you didn't expect it, ignore it."), locale)


# --- the recipient's verification code (core/recipient_code.py) -------------------------------------

def code_letter(settings: Settings, to: str, code: str, valid_minutes: int, locale: str = "en") -> Letter:
    """The code alone: no secret, no note, no link, not even who sent it (the link's holder asked).
    `locale`: the language of the page the code was asked for on (its reader opened the link)."""
    t = speaker(locale)
    spaced = f"{code[:3]} {code[3:]}"
    parts = [
        t("Someone opened a secret link of {site} that was sent to this address, and asked for the "
          "code that shows it is you. Your code:", site=settings.brand_title),
        spaced,
        t("Type it on the page of the link within {valid_minutes}. It works once; a newer code replaces it.",
          valid_minutes=valid_minutes),
        t("If you did not open such a link, ignore this mail and don't give the code to anyone: "
          "without it, the secret stays closed."),
    ]
    return compose(settings, to, t("Your code: {code}", code=code), t("Your verification code"), parts,
                   t("You get this mail because a secret on {host} may only be opened by this address.",
                     host=site_host(settings)), locale)


# --- account mails ------------------------------------------------------------------------------

def _account_footer(settings: Settings, locale: str) -> str:
    return speaker(locale)(N_("You get this mail because this address belongs to an account at {host}."),
                           host=site_host(settings))


def confirm_letter(settings: Settings, to: str, link: str, valid_days: int, locale: str = "en") -> Letter:
    t, host = speaker(locale), site_host(settings)
    return compose(settings, to, t("Confirm your email address for {site}", site=settings.brand_title),
                   t("Confirm your email address"), [
        t("Someone, hopefully you, signed up at {host} with this address.", host=host),
        Button(t("Confirm my address"), link),
        t("The link works for {count} days.", count=valid_days) + " "
        + t("If you didn't sign up, ignore this mail: no account is opened."),
    ], t("You get this mail because this address was used to sign up at {host}.", host=host), locale)


def reset_letter(settings: Settings, to: str, link: str, valid_minutes: int, locale: str = "en") -> Letter:
    t = speaker(locale)
    return compose(settings, to, t("Reset your password for {site}", site=settings.brand_title), t("Reset your password"), [
        t("Someone, hopefully you, asked to reset the password of your account at {host}.", host=site_host(settings)),
        Button(t("Choose a new password"), link),
        t("The link works once, for {count} minutes.", count=valid_minutes) + " "
        + t("If you didn't ask, ignore this mail: your password stays as it is."),
    ], _account_footer(settings, locale), locale)


def unlock_letter(settings: Settings, to: str, link: str, failures: int, locked_until: datetime,
                  locale: str = "en") -> Letter:
    t = speaker(locale)
    return compose(settings, to, t("Your {site} account is locked", site=settings.brand_title), t("Your account is locked"), [
        t("After {count} wrong passwords in a row, logging in to your account is paused until {until}.",
          count=failures, until=moment(locked_until, locale)),
        t("If that was you, unlock it now:"),
        Button(t("Unlock my account"), link),
        t("If it wasn't you, someone is guessing your password: choose a long one that you use nowhere else."),
    ], _account_footer(settings, locale), locale)


def password_changed_letter(settings: Settings, to: str, when: datetime, locale: str = "en") -> Letter:
    t = speaker(locale)
    return compose(settings, to, t("Your {site} password was changed", site=settings.brand_title),
                   t("Your password was changed"), [
        t("The password of your account was changed on {when}, and every browser logged in to it was logged out.",
          when=moment(when, locale)),
        t("If that wasn't you, set a new password now:"),
        Button(t("Reset my password"), settings.base_url + "/forgot-password"),
    ], _account_footer(settings, locale), locale)


def passkey_added_letter(settings: Settings, to: str, name: str, when: datetime, locale: str = "en") -> Letter:
    t = speaker(locale)
    return compose(settings, to, t("A passkey was added to your {site} account", site=settings.brand_title),
                   t("A passkey was added"), [
        t("On {when} the passkey \u201c{name}\u201d was added to your account. It signs in without your password.",
          when=moment(when, locale), name=name),
        t("If that wasn't you, log in, remove it on your account page and change your password: {link}",
          link=settings.base_url + "/account"),
    ], _account_footer(settings, locale), locale)


def api_token_created_letter(settings: Settings, to: str, when: datetime, locale: str = "en") -> Letter:
    t = speaker(locale)
    return compose(settings, to, t("A new API token was created for your {site} account", site=settings.brand_title),
                   t("A new API token was created"), [
        t("On {when} a new API token was created for your account: scripts using it act as you, and the "
          "previous token, if any, stopped working.", when=moment(when, locale)),
        t("If that wasn't you, log in, revoke it on the API token page and change your password: {link}",
          link=settings.base_url + "/api-token"),
    ], _account_footer(settings, locale), locale)


def email_change_letter(settings: Settings, to: str, old_email: str, link: str, valid_days: int,
                        locale: str = "en") -> Letter:
    t, host = speaker(locale), site_host(settings)
    return compose(settings, to, t("Confirm your new email address for {site}", site=settings.brand_title),
                   t("Confirm your new address"), [
        t("The account {email} at {host} asked to use this address from now on.", email=old_email, host=host),
        Button(t("Confirm my new address"), link),
        t("The link works for {count} days.", count=valid_days) + " "
        + t("Until then the account keeps its old address. If you didn't ask for this, ignore this mail."),
    ], t("You get this mail because this address was entered at {host}.", host=host), locale)


def email_move_asked_letter(settings: Settings, to: str, new_email: str, when: datetime, locale: str = "en") -> Letter:
    """The current address hears at once of a move asked for: no link that could confirm it."""
    t = speaker(locale)
    return compose(settings, to, t("Someone asked to move your {site} account to {email}", site=settings.brand_title,
                                   email=new_email), t("Someone asked to move your account"), [
        t("On {when} a change of your account's address to {email} was asked for.", when=moment(when, locale),
          email=new_email) + " " + t("It moves only once that address confirms."),
        t("If that wasn't you, change your password now: that cancels the move."),
        Button(t("Reset my password"), settings.base_url + "/forgot-password"),
    ], _account_footer(settings, locale), locale)


def email_changed_letter(settings: Settings, to: str, new_email: str, when: datetime, locale: str = "en") -> Letter:
    t = speaker(locale)
    return compose(settings, to, t("Your {site} email address was changed", site=settings.brand_title),
                   t("Your email address was changed"), [
        t("On {when} your account's address was changed to {email}.", when=moment(when, locale), email=new_email) + " "
        + t("Mail about the account now goes there, and you log in with it."),
        t("If that wasn't you, contact the administrator of this site at once."),
    ], t("You get this mail because this address belonged to an account at {host}.", host=site_host(settings)), locale)


def test_letter(settings: Settings, to: str) -> Letter:
    return compose(settings, to, f"Test mail from {settings.brand_title}", "Mail works", [
        f"{site_host(settings)} can send mail through {settings.mail.smtp_address}.",
    ], "You get this mail because an administrator sent a test mail to this address.")


# --- what happened to a sender's pushes ------------------------------------------------------------

@dataclass(frozen=True)
class PushEvent:
    """Something that happened to one of the reader's pushes (never its secret or link)."""

    kind: str  # viewed | failed_passphrase | expired | deleted
    push_name: str
    push_created_at: datetime
    at: datetime
    ip: str
    user_agent: str
    views_left: int
    expired_reason: str | None = None

    def label(self, t, locale: str = "en") -> str:
        created = moment(self.push_created_at, locale)
        return (t("“{name}” (created {created})", name=self.push_name, created=created) if self.push_name
                else t("Your push of {created}", created=created))

    def subject(self, t=None) -> str:
        t = t or speaker("en")
        name = t("“{name}”", name=self.push_name) if self.push_name else t("one of your pushes")
        return {
            "viewed": t("Your push {name} was viewed", name=name),
            "failed_passphrase": t("A wrong passphrase was tried on {name}", name=name),
            "expired": t("Your push {name} expired", name=name),
            "deleted": t("Your push {name} was deleted", name=name),
        }.get(self.kind) or t("News about {name}", name=name)

    def sentence(self, t=None, locale: str = "en") -> str:
        t = t or speaker("en")
        label, when = self.label(t, locale), moment(self.at, locale)
        address = self.ip or t("an unknown address")
        address = f"{address} ({self.user_agent})" if self.user_agent else address
        views = (t("no views left") if self.views_left == 0 else t("1 view left") if self.views_left == 1
                 else t("{count} views left", count=self.views_left))
        gone = t("Its secret is deleted.")
        if self.kind == "viewed":
            return t("{label} was viewed on {when} from {address}; {views}.", label=label, when=when, address=address,
                     views=views)
        if self.kind == "failed_passphrase":
            return t("Someone tried a wrong passphrase for {label} on {when} from {address}.", label=label, when=when,
                     address=address) + " " + t("Nothing was shown.")
        if self.kind == "expired":
            reason = {"views": t("its views ran out"), "guesses": t("too many wrong passphrases")}.get(
                self.expired_reason or "") or t("its time ran out")
            return t("{label} expired on {when}: {reason}.", label=label, when=when, reason=reason) + " " + gone
        if self.kind == "deleted" and self.expired_reason == "admin":
            return t("{label} was expired by an administrator of this site on {when}.", label=label, when=when) + " " + gone
        if self.kind == "deleted":
            return t("{label} was deleted by its recipient on {when} from {address}.", label=label, when=when,
                     address=address) + " " + gone
        return t("{label}: {kind} on {when}.", label=label, kind=self.kind, when=when)


def _notice_footer(settings: Settings, t) -> str:
    return (t("You get this mail because you asked {host} to tell you about your pushes.", host=site_host(settings))
            + " " + t("Change that on your account page."))


def notice_letter(settings: Settings, to: str, event: PushEvent, locale: str = "en") -> Letter:
    t = speaker(locale)
    return compose(settings, to, event.subject(t), event.subject(t), [
        event.sentence(t, locale),
        Button(t("See it on your dashboard"), settings.base_url + "/dashboard"),
    ], _notice_footer(settings, t), locale)


def digest_letter(settings: Settings, to: str, events: list[PushEvent], locale: str = "en") -> Letter:
    t = speaker(locale)
    subject = (t("Your pushes today: 1 thing happened") if len(events) == 1
               else t("Your pushes today: {count} things happened", count=len(events)))
    return compose(settings, to, subject, t("What happened to your pushes"), [
        *[event.sentence(t, locale) for event in events],
        Button(t("See them on your dashboard"), settings.base_url + "/dashboard"),
    ], _notice_footer(settings, t), locale)


# --- a request answered (core/requests.py) ---------------------------------------------------------

def request_answered_letter(settings: Settings, to: str, requested_at: datetime, answered_at: datetime,
                            locale: str = "en") -> Letter:
    """The requester hears that someone answered: neither the answer nor the request's
    message (both sealed at rest; a mail crosses servers we don't run)."""
    t = speaker(locale)
    return compose(settings, to, t("Your request for a secret was answered"), t("Your request was answered"), [
        t("Someone answered your request of {asked} on {answered}.", asked=moment(requested_at, locale),
          answered=moment(answered_at, locale)),
        t("The answer waits for you on your dashboard, under Requests: only you can open it."),
        Button(t("Open your dashboard"), settings.base_url + "/dashboard"),
    ], t("You get this mail because you asked for a secret on {host}.", host=site_host(settings)), locale)
