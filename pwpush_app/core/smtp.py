"""Talking to the SMTP server (Python's smtplib), as PWP__MAIL__* describes it.

One `SmtpSession` per sending round: it connects at the first mail (open timeout for the
connection and greeting, read timeout for every answer after), secures the connection
(implicit TLS, required STARTTLS, or STARTTLS when offered), logs in when a user name is
set, and sends each mail over the same connection.

Every failure is a `SendFailed` that says whether trying again later can help
(`permanent`: the server refused this mail or this recipient for good, a 5xx answer to
MAIL, RCPT or DATA) and whether the connection is still usable (`connection_lost`: stop
the round, the next one reconnects).  The server's own words are kept (cut short) for the
sender to read; the password never appears in them, in a log or in a repr.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.utils import parseaddr

from pwpush_app.core.i18n import N_, said
from pwpush_app.settings_mail import MailSettings

# Why a mail did not go, as its sender and the admin read it (stored in English; the pages
# find the sentence again: FAILURES, core/i18n.sentences_in).
REFUSED = {"recipient": N_("The mail server refused the recipient: {answer}"),
           "sender": N_("The mail server refused the sender: {answer}"),
           "mail": N_("The mail server refused the mail: {answer}")}
BROKE = N_("The connection to the mail server broke: {reason_said}")
UNREACHABLE = N_("Could not reach the mail server {server}: {reason_said}")
NO_STARTTLS = N_("The mail server {server} does not offer STARTTLS, which PWP__MAIL__SMTP_STARTTLS=true requires: "
                 "nothing was sent.")
LOGIN_REFUSED = N_("The mail server {server} refused the login of {user}: {answer}. Check PWP__MAIL__SMTP_USER_NAME "
                   "and PWP__MAIL__SMTP_PASSWORD.")
NO_LOGIN = N_("The mail server {server} offers no login (AUTH) on this connection, and PWP__MAIL__SMTP_USER_NAME is "
              "set: nothing was sent.")
FAILURES = (*REFUSED.values(), BROKE, UNREACHABLE, NO_STARTTLS, LOGIN_REFUSED, NO_LOGIN)

_AUTH_MECHANISMS = {"plain": ("PLAIN", "auth_plain"), "login": ("LOGIN", "auth_login"), "cram_md5": ("CRAM-MD5", "auth_cram_md5")}
MAX_REASON_CHARS = 240


class SendFailed(Exception):
    def __init__(self, reason: str, permanent: bool = False, connection_lost: bool = False):
        super().__init__(reason[:MAX_REASON_CHARS])
        self.reason = reason[:MAX_REASON_CHARS]
        self.permanent = permanent
        self.connection_lost = connection_lost


def _answer(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}"


def tls_context(mail: MailSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not mail.smtp_verify:
        # PWP__MAIL__SMTP_OPENSSL_VERIFY_MODE=none: the admin's choice for a server on a trusted network.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class SmtpSession:
    """A connection to the SMTP server, opened on the first `send` and reused until `close`."""

    def __init__(self, mail: MailSettings):
        self._mail = mail
        self._smtp: smtplib.SMTP | None = None

    def __repr__(self) -> str:  # never the password
        return f"SmtpSession({self._mail.smtp_address}:{self._mail.smtp_port})"

    def __enter__(self) -> "SmtpSession":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        """Hand one mail to the server; raises SendFailed."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.sendmail(parseaddr(sender)[1], [recipient], message)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise SendFailed(said(REFUSED["recipient"], answer=_answer(code, text)), permanent=code >= 500) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            what = "sender" if isinstance(error, smtplib.SMTPSenderRefused) else "mail"
            raise SendFailed(said(REFUSED[what], answer=_answer(error.smtp_code, error.smtp_error)),
                             permanent=error.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise SendFailed(said(BROKE, reason_said=_describe(error)), connection_lost=True) from None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass
        self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        mail = self._mail
        where = f"{mail.smtp_address}:{mail.smtp_port}"
        smtp: smtplib.SMTP | None = None
        try:
            # Connected (and greeted) within the open timeout; each answer after gets the read timeout.
            if mail.smtp_tls:
                smtp = smtplib.SMTP_SSL(mail.smtp_address, mail.smtp_port, local_hostname=mail.smtp_domain,
                                        timeout=mail.smtp_open_timeout, context=tls_context(mail))
            else:
                smtp = smtplib.SMTP(mail.smtp_address, mail.smtp_port, local_hostname=mail.smtp_domain,
                                    timeout=mail.smtp_open_timeout)
            smtp.sock.settimeout(mail.smtp_read_timeout)
            smtp.ehlo_or_helo_if_needed()
            if not mail.smtp_tls and (mail.smtp_starttls or (mail.smtp_starttls_auto and smtp.has_extn("starttls"))):
                if not smtp.has_extn("starttls"):
                    raise SendFailed(said(NO_STARTTLS, server=where), connection_lost=True)
                smtp.starttls(context=tls_context(mail))
                smtp.ehlo()
            if mail.smtp_user_name:
                self._log_in(smtp, where)
            return smtp
        except SendFailed:
            self._close_quietly(smtp)
            raise
        except smtplib.SMTPAuthenticationError as error:
            self._close_quietly(smtp)
            raise SendFailed(said(LOGIN_REFUSED, server=where, user=mail.smtp_user_name,
                                  answer=_answer(error.smtp_code, error.smtp_error)), connection_lost=True) from None
        except (smtplib.SMTPException, OSError, ValueError) as error:
            self._close_quietly(smtp)
            raise SendFailed(said(UNREACHABLE, server=where, reason_said=_describe(error)), connection_lost=True) from None

    def _log_in(self, smtp: smtplib.SMTP, where: str) -> None:
        mail = self._mail
        if not smtp.has_extn("auth"):
            raise SendFailed(said(NO_LOGIN, server=where), connection_lost=True)
        mechanism, method = _AUTH_MECHANISMS[mail.smtp_authentication]
        smtp.user, smtp.password = mail.smtp_user_name, mail.smtp_password
        try:
            smtp.auth(mechanism, getattr(smtp, method))
        finally:
            # smtplib keeps them on the object; nothing of ours needs them after the login.
            smtp.user = smtp.password = None

    @staticmethod
    def _close_quietly(smtp: smtplib.SMTP | None) -> None:
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass


def _describe(error: BaseException) -> str:
    # smtplib turns a timed-out read into "Connection unexpectedly closed": say what happened.
    if isinstance(error, (socket.timeout, TimeoutError)) or isinstance(error.__context__, (socket.timeout, TimeoutError)):
        return N_("it did not answer in time")
    if isinstance(error, ConnectionRefusedError):
        return N_("the connection was refused")
    if isinstance(error, smtplib.SMTPResponseException):
        return _answer(error.smtp_code, error.smtp_error)
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"its TLS certificate was not accepted ({error.verify_message})"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return N_("it closed the connection")
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
