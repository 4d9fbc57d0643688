"""What an account form or request may be told: the refusals (`AccountError` and its
kinds) and every message by code, so that pages get codes in redirects, never free text."""

from __future__ import annotations

from datetime import datetime, timezone

from pwpush_app.core.i18n import N_, said

PASSWORD_MIN_CHARS = 10
PASSWORD_MAX_CHARS = 128
# "Sudo mode": adding a passkey or an API token takes a login at most this many minutes old
# (session_checks.require_recent_login): either signs in without the password and outlives a password
# change, so a stolen session cookie alone must not be enough to add one.
RECENT_LOGIN_MINUTES = 15

# One message for every failed login: unknown email, wrong password, locked account.
# Anything else would tell a stranger which emails have accounts.
LOGIN_FAILED = N_("Wrong email or password.")


class AccountError(ValueError):
    """A request about an account that cannot be done; the message is fit to show.

    `field` names the form field it is about ("email", "password", "new_password" or "form");
    `code` names the message (pages get codes in redirects, never free text to display)."""

    def __init__(self, message: str, field: str = "form", code: str = ""):
        super().__init__(message)
        self.field = field
        self.code = code or next((c for c, m in MESSAGES.items() if m == message), "")


class LoginFailed(AccountError):
    def __init__(self):
        super().__init__(LOGIN_FAILED, "form", "login_failed")


class LoginLocked(LoginFailed):
    """Too many wrong passwords for this email lately (account or not): every password,
    the right one included, is refused until `until`."""

    def __init__(self, until: datetime):
        AccountError.__init__(self, MESSAGES["login_locked"], "form", "login_locked")
        self.until = until


# Every message an account form can show, by code.
MESSAGES = {
    "login_failed": LOGIN_FAILED,
    # Said of unknown emails too: it tells nobody whether an account exists.
    "login_locked": N_("Too many wrong passwords or codes for this email address: logging in with it is paused for a while. "
                       "Try again later."),
    "email_invalid": N_("Enter an email address like name@example.com."),
    "email_taken": N_("An account with this email already exists: log in instead."),
    "email_not_allowed": N_("This site does not take sign-ups from that email address."),
    "signups_closed": N_("This site does not take new sign-ups."),
    "logins_disabled": N_("Logins are turned off on this site: share secrets without an account."),
    "password_short": said(N_("Use a password of at least {count} characters."), count=PASSWORD_MIN_CHARS),
    "password_long": said(N_("Use a password of at most {count} characters."), count=PASSWORD_MAX_CHARS),
    "passwords_differ": N_("The two new passwords are not the same."),
    "current_password": N_("That is not your current password."),
    "rate_limited": N_("Too many attempts from your network. Wait a minute and try again."),
    "busy": N_("The service is busy right now. Please try again in a moment."),
    "gone": N_("This account no longer exists."),
    "form_invalid": N_("The form did not arrive complete. Please try again."),
    # Account emails (core/account_mail.py, core/account_recovery.py).
    "email_unconfirmed": N_("Confirm your email address first: we sent you a link (check your spam folder too). "
                            "Then log in."),
    "link_invalid": N_("That link has expired or was already used. Ask for a new one."),
    "mail_unavailable": N_("This site sends no mail, so it can't do that. Ask its administrator."),
    "email_same": N_("That is already your email address."),
    # Two-factor sign-in (core/two_factor.py, core/login_steps.py).
    "code_wrong": N_("That code is not right. Enter the 6-digit code your authenticator app shows now, "
                     "or one of your backup codes."),
    "code_used": N_("That code was just used. Wait for the next one: your app shows a new code every 30 seconds."),
    "step_expired": N_("This login took too long or is already finished: log in again."),
    "two_factor_on": N_("Two-factor sign-in is already on for this account."),
    "two_factor_off": N_("Two-factor sign-in is not on for this account."),
    "enrol_first": N_("Start the set-up again: scan the new QR code, then enter the code it shows."),
    "mfa_required": N_("This site requires two-factor sign-in for every account: it stays on."),
    # Passkeys (core/passkeys.py).
    "passkey_failed": N_("That passkey did not sign you in. Try again, or log in with your email and password."),
    "passkey_expired": N_("That passkey request ran out of time or was already used: try again."),
    "passkey_not_added": N_("That passkey could not be added. Try again, or use another device."),
    "passkey_taken": N_("That passkey is already registered on this site."),
    "passkey_gone": N_("That passkey is no longer on this account."),
    "passkey_none": N_("This account has no passkey: enter a code instead."),
    "passkey_name": N_("Give the passkey a name, like \"Laptop\" or \"Phone\"."),
    "passkey_name_long": N_("Use a name of at most 64 characters."),
    "passkey_too_many": N_("This account has the most passkeys it may have (20): remove one first."),
    "passkey_ip": N_("Passkeys need the site's name in the address bar, not an IP address: open it by its name."),
    # Sudo mode (session_checks.require_recent_login): the session's login is older than RECENT_LOGIN_MINUTES.
    "login_again_passkey": said(N_("For your security, adding a passkey takes a recent login: log in again, then add it "
                                   "within {count} minutes."), count=RECENT_LOGIN_MINUTES),
    "login_again_token": said(N_("For your security, creating an API token takes a recent login: log in again, then "
                                 "create it within {count} minutes."), count=RECENT_LOGIN_MINUTES),
}


def form_message(code: str, until: str = "") -> str:
    """The message an account page shows for a refusal's `code` ("" for none); for a lock-out,
    with its end (`until`: the Unix time the redirect carried), which tells nothing more than
    the lock itself: unknown emails lock alike.  The end is a `{time}` value (an ISO moment):
    the page writes it in the viewer's zone and language (ui/i18n.py `refusal_text`)."""
    message = MESSAGES.get(code, "")
    if code == "login_locked" and until.isascii() and until.isdigit() and len(until) <= 12:
        moment = datetime.fromtimestamp(int(until), timezone.utc)
        message = said(N_("Too many wrong passwords or codes for this email address: logging in with it is paused until "
                          "{time}. Try again then."), time=moment.isoformat())
    return message
