"""The settings of mail, owner notifications and webhooks: Password Pusher's `PWP__MAIL__*`
names for the SMTP server, and ours for the outbox's retries and the webhooks.

Read by settings.py's loader (through its reader, which collects every error at once) and
listed in the same README table.  Imports nothing of ours: settings sit below everything.

Rules checked at start (a bad value stops the start naming the variable):
- without PWP__MAIL__SMTP_ADDRESS the site sends no mail: account emails
  (PWP__ENABLE_USER_ACCOUNT_EMAILS) then refuse to start, and the features that mail
  (the link to recipients, notifications) are offered nowhere;
- STARTTLS and implicit TLS exclude each other; a user name needs its password and
  the other way round; the sender must be an email address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

from pwpush_app.settings_languages import N_
from pwpush_app.settings_values import document, parse_words

AUTH_METHODS = ("plain", "login", "cram_md5")
VERIFY_MODES = ("peer", "none")

# (variable, default as the README shows it, what it does[, "secret"]), in the README's order;
# "secret" is settings_values.SECRET: never shown.
MAIL_SETTING_DOCS: list[tuple[str, ...]] = [
    ("PWP__MAIL__SMTP_ADDRESS", "(none)", N_("SMTP server that sends this site's mail. Without it no mail is sent: no account emails, no link by email, no notifications by email (webhooks still work).")),
    ("PWP__MAIL__SMTP_PORT", "587", N_("Port of the SMTP server.")),
    ("PWP__MAIL__SMTP_DOMAIN", "(the base URL's host)", N_("Name this server gives in its SMTP greeting (HELO/EHLO).")),
    ("PWP__MAIL__SMTP_USER_NAME", "(none)", N_("User name for SMTP authentication (none: no authentication).")),
    ("PWP__MAIL__SMTP_PASSWORD", "(none)", N_("Password for SMTP authentication. Never logged or shown."), "secret"),
    ("PWP__MAIL__SMTP_AUTHENTICATION", "plain", N_("SMTP authentication method: plain, login or cram_md5 (used with a user name).")),
    ("PWP__MAIL__SMTP_STARTTLS", "false", N_("Require STARTTLS: a server that does not offer it gets no mail (and no password).")),
    ("PWP__MAIL__SMTP_ENABLE_STARTTLS_AUTO", "true", N_("Use STARTTLS whenever the server offers it.")),
    ("PWPUSH_MAIL_SMTP_TLS", "false", N_("Speak TLS from the first byte (implicit TLS, usually port 465) instead of STARTTLS.")),
    ("PWP__MAIL__SMTP_OPENSSL_VERIFY_MODE", "peer", N_("Check the SMTP server's TLS certificate (peer) or not (none: only for a server you reach over a trusted network).")),
    ("PWP__MAIL__SMTP_OPEN_TIMEOUT", "10", N_("Seconds to wait for the SMTP server to accept the connection and greet.")),
    ("PWP__MAIL__SMTP_READ_TIMEOUT", "10", N_("Seconds to wait for each answer of the SMTP server.")),
    ("PWP__MAIL__MAILER_SENDER", "\"<site title>\" <noreply@<base URL's host>>", N_("From address of every mail, e.g. `\"Secrets\" <secrets@example.com>`.")),
    ("PWP__ENABLE_USER_ACCOUNT_EMAILS", "false", N_("Account emails: confirm the address at sign-up, reset a forgotten password, unlock a locked account, tell the user when the password or email changed. Needs PWP__MAIL__SMTP_ADDRESS.")),
    ("PWP__NOTIFY_BY_EMAIL__ENABLED", "true", N_("Logged-in senders may have the link mailed to up to 5 recipients (when mail is set up).")),
    ("PWP__NOTIFY_BY_EMAIL__DAILY_LIMIT", "500", N_("Link emails one account may send per day (0 stops them).")),
    ("PWPUSH_MAIL_POLL_SECONDS", "5", N_("How often the background sender looks for mail, notifications and webhook calls to send (mail queued by this worker goes at once).")),
    ("PWPUSH_MAIL_RETRY_SECONDS", "30", N_("First wait before a failed mail or webhook call is tried again; each further wait doubles, up to 2 hours.")),
    ("PWPUSH_MAIL_MAX_ATTEMPTS", "12", N_("Tries before a mail is given up (about 10 hours with the default retry wait); its sender sees the failure.")),
    ("PWPUSH_MAIL_LEASE_SECONDS", "300", N_("A worker that dies while sending leaves its mails to others after this long (each then goes again: at least once, rarely twice).")),
    ("PWPUSH_DIGEST_HOUR_UTC", "7", N_("Hour of the day (UTC) at which daily digests of notifications go out.")),
    ("PWPUSH_ENABLE_WEBHOOKS", "true", N_("Accounts may register webhooks (https, or http to this machine) that receive signed events about their pushes.")),
    ("PWPUSH_WEBHOOK_TIMEOUT_SECONDS", "10", N_("Seconds a webhook endpoint has to answer.")),
    ("PWPUSH_WEBHOOK_MAX_ATTEMPTS", "8", N_("Tries before a webhook call is given up (shown in the account's delivery log).")),
    ("PWPUSH_WEBHOOK_ALLOW_PRIVATE", "false", N_("Let webhooks reach this machine and private networks (loopback, 10.x, 192.168.x, link-local, ...): only for development and tests. Otherwise calls go only to public addresses.")),
]


def document_mail_settings() -> None:
    for doc in MAIL_SETTING_DOCS:
        document(*doc)


@dataclass(frozen=True)
class MailSettings:
    """How mail leaves this server, and the outbox's and webhooks' rhythm."""

    smtp_address: str | None = None
    smtp_port: int = 587
    smtp_domain: str = "localhost"
    smtp_user_name: str | None = None
    # Settings get logged (repr): the password never shows.
    smtp_password: str | None = field(default=None, repr=False)
    smtp_authentication: str = "plain"
    smtp_starttls: bool = False
    smtp_starttls_auto: bool = True
    smtp_tls: bool = False
    smtp_verify: bool = True
    smtp_open_timeout: int = 10
    smtp_read_timeout: int = 10
    sender: str = "noreply@localhost"
    account_emails: bool = False
    notify_by_email: bool = True
    notify_daily_limit: int = 500
    poll_seconds: int = 5
    retry_seconds: int = 30
    max_attempts: int = 12
    lease_seconds: int = 300
    digest_hour_utc: int = 7
    webhooks: bool = True
    webhook_timeout_seconds: int = 10
    webhook_max_attempts: int = 8
    # Webhooks may call loopback and private addresses (development, the test suite's receivers).
    webhook_allow_private: bool = False

    @property
    def configured(self) -> bool:
        """This server sends mail (an SMTP server is set)."""
        return bool(self.smtp_address)

    @property
    def link_by_email(self) -> bool:
        """Senders may have the link mailed to recipients."""
        return self.configured and self.notify_by_email

    def describe_server(self) -> str:
        """The server and how it is reached, for the log (never the password)."""
        if not self.configured:
            return "no SMTP server (PWP__MAIL__SMTP_ADDRESS is not set): no mail is sent"
        security = "implicit TLS" if self.smtp_tls else "STARTTLS required" if self.smtp_starttls else (
            "STARTTLS when offered" if self.smtp_starttls_auto else "no TLS")
        login = f", login as {self.smtp_user_name} ({self.smtp_authentication})" if self.smtp_user_name else ""
        return f"{self.smtp_address}:{self.smtp_port} ({security}{login}), from {self.sender}"


_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:]+)$")


def _choice(r, name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = r.str(name, None)
    if raw is None:
        return default
    # Password Pusher's YAML may write a Ruby symbol (:plain) or upper case (PEER).
    value = raw.strip().lstrip(":").lower()
    if value not in allowed:
        r.errors.append(f"{name}={raw!r} must be one of {', '.join(allowed)}")
        return default
    return value


def read_mail_settings(r, base_url: str, brand_title: str) -> MailSettings:
    """Read and check the mail settings through settings.py's reader `r` (errors go to r.errors)."""
    host = (r.str("PWP__MAIL__SMTP_ADDRESS", None) or "").strip() or None
    if host and not _HOST_RE.match(host):
        r.errors.append(f"PWP__MAIL__SMTP_ADDRESS={host!r} must be a host name or IP address, like smtp.example.com")
    base_host = urlsplit(base_url).hostname or "localhost"
    domain = (r.str("PWP__MAIL__SMTP_DOMAIN", None) or "").strip() or base_host
    if not _HOST_RE.match(domain):
        r.errors.append(f"PWP__MAIL__SMTP_DOMAIN={domain!r} must be a host name, like mail.example.com")

    user = r.str("PWP__MAIL__SMTP_USER_NAME", None) or None
    password = r.str("PWP__MAIL__SMTP_PASSWORD", None) or None
    if user and not password:
        r.errors.append("PWP__MAIL__SMTP_USER_NAME is set but PWP__MAIL__SMTP_PASSWORD is not: set both, or neither")
    if password and not user:
        r.errors.append("PWP__MAIL__SMTP_PASSWORD is set but PWP__MAIL__SMTP_USER_NAME is not: set both, or neither")

    starttls = r.bool("PWP__MAIL__SMTP_STARTTLS", False)
    tls = r.bool("PWPUSH_MAIL_SMTP_TLS", False)
    if starttls and tls:
        r.errors.append("PWP__MAIL__SMTP_STARTTLS and PWPUSH_MAIL_SMTP_TLS are both true: "
                        "use STARTTLS (usually port 587) or implicit TLS (usually port 465), not both")

    sender = r.str("PWP__MAIL__MAILER_SENDER", None)
    if sender is None:
        sender = formataddr((brand_title, f"noreply@{base_host}"))
    else:
        _name, address = parseaddr(sender)
        if "@" not in address or any(c in sender for c in "\r\n"):
            r.errors.append(f"PWP__MAIL__MAILER_SENDER={sender!r} must be an email address, "
                            "like secrets@example.com or \"Secrets\" <secrets@example.com>")

    account_emails = r.bool("PWP__ENABLE_USER_ACCOUNT_EMAILS", False)
    if account_emails and not host:
        r.errors.append("PWP__ENABLE_USER_ACCOUNT_EMAILS=true needs an SMTP server: set PWP__MAIL__SMTP_ADDRESS "
                        "(and check that mail arrives: python -m pwpush_app send-test-mail you@example.com)")

    open_timeout = r.int("PWP__MAIL__SMTP_OPEN_TIMEOUT", 10, 1, 300)
    read_timeout = r.int("PWP__MAIL__SMTP_READ_TIMEOUT", 10, 1, 300)
    lease = r.int("PWPUSH_MAIL_LEASE_SECONDS", 300, 2, 24 * 3600)
    # One mail takes at most a connection and ten answers: a lease shorter than that could
    # pass a mail still being sent to another worker.
    longest_send = open_timeout + 10 * read_timeout
    if lease <= longest_send:
        r.errors.append(f"PWPUSH_MAIL_LEASE_SECONDS={lease} must be longer than one mail may take to send "
                        f"({longest_send} s: PWP__MAIL__SMTP_OPEN_TIMEOUT + 10 x PWP__MAIL__SMTP_READ_TIMEOUT)")
    return MailSettings(
        smtp_address=host,
        smtp_port=r.int("PWP__MAIL__SMTP_PORT", 587, 1, 65535),
        smtp_domain=domain,
        smtp_user_name=user,
        smtp_password=password,
        smtp_authentication=_choice(r, "PWP__MAIL__SMTP_AUTHENTICATION", "plain", AUTH_METHODS),
        smtp_starttls=starttls,
        smtp_starttls_auto=r.bool("PWP__MAIL__SMTP_ENABLE_STARTTLS_AUTO", True),
        smtp_tls=tls,
        smtp_verify=_choice(r, "PWP__MAIL__SMTP_OPENSSL_VERIFY_MODE", "peer", VERIFY_MODES) == "peer",
        smtp_open_timeout=open_timeout,
        smtp_read_timeout=read_timeout,
        sender=sender,
        account_emails=account_emails,
        notify_by_email=r.bool("PWP__NOTIFY_BY_EMAIL__ENABLED", True),
        notify_daily_limit=r.int("PWP__NOTIFY_BY_EMAIL__DAILY_LIMIT", 500, 0, 1_000_000),
        poll_seconds=r.int("PWPUSH_MAIL_POLL_SECONDS", 5, 1, 3600),
        retry_seconds=r.int("PWPUSH_MAIL_RETRY_SECONDS", 30, 1, 3600),
        max_attempts=r.int("PWPUSH_MAIL_MAX_ATTEMPTS", 12, 1, 100),
        lease_seconds=lease,
        digest_hour_utc=r.int("PWPUSH_DIGEST_HOUR_UTC", 7, 0, 23),
        webhooks=r.bool("PWPUSH_ENABLE_WEBHOOKS", True),
        webhook_timeout_seconds=r.int("PWPUSH_WEBHOOK_TIMEOUT_SECONDS", 10, 1, 120),
        webhook_max_attempts=r.int("PWPUSH_WEBHOOK_MAX_ATTEMPTS", 8, 1, 100),
        webhook_allow_private=r.bool("PWPUSH_WEBHOOK_ALLOW_PRIVATE", False),
    )


def read_admin_emails(r, mail: MailSettings) -> tuple[str, ...]:
    """PWP__ADMIN_EMAILS, which needs account emails: being listed proves nothing (anyone may
    sign up with the address first); a confirmation by mail does (core/accounts.py)."""
    admin_emails = tuple(e.lower() for e in r.get("PWP__ADMIN_EMAILS", (), parse_words))
    if admin_emails and not mail.account_emails:
        r.errors.append("PWP__ADMIN_EMAILS needs PWP__ENABLE_USER_ACCOUNT_EMAILS=true (and SMTP): a listed address "
                        "becomes an administrator only once its owner has confirmed it by mail. Without account "
                        "emails, run `python -m pwpush_app make-admin EMAIL` after that person signed up")
    return admin_emails
