"""Every refusal the core gives: what a page or the API must be ready to answer.

Each message is fit to show a person as it is.  (RateLimited lives with the limiter,
core/throttle.py; account refusals with the accounts, core/accounts.py.)
"""

from __future__ import annotations

from pwpush_app.core.i18n import N_, Said, joined, said


class PushError(Exception):
    """A refusal whose message is fit to show a person.

    `sentences`: the message as English templates with their values, for a page that shows
    it in another language (core/i18n.py); empty: the message is one catalogue entry itself.
    A message made with `said()` brings its sentences along."""

    sentences: tuple[tuple[str, dict[str, int]], ...] = ()

    def __init__(self, *args):
        super().__init__(*args)
        if args and not self.sentences and getattr(args[0], "sentences", ()):
            self.sentences = args[0].sentences


class ServerBusy(RuntimeError):
    """The server can't do this right now (database locked, too much hashing at once);
    nothing was changed.  Pages say "try again in a moment", the API answers 503 with
    Retry-After."""

    retry_after_seconds = 5


def in_minutes(seconds: int) -> str:
    """'1 minute', '8 minutes': a wait, rounded up."""
    minutes = _minutes(seconds)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _minutes(seconds: int) -> int:
    return (seconds + 59) // 60


# --- creating ------------------------------------------------------------------------------------

class InvalidPush(PushError):
    """The request to create a push breaks a rule; `errors` maps each field to a message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class NoLongerEditable(PushError):
    """The owner asked to edit a push that has expired (Password Pusher's words)."""

    def __init__(self):
        super().__init__(N_("That push has already expired and cannot be edited."))


class AccountRequired(PushError):
    def __init__(self):
        super().__init__(N_("This site needs an account to create pushes: log in or sign up first."))


class LoginRequired(PushError):
    def __init__(self):
        super().__init__(N_("File pushes need an account on this server: log in to send files."))


# --- viewing and deleting ---------------------------------------------------------------------------

class PushUnavailable(PushError):
    """Unknown, expired or deleted: outsiders are never told which.

    `expired` is the push when the link was real but the push is expired (the API shows
    its payload-free record, as Password Pusher does); None for an unknown link."""

    def __init__(self, expired=None):
        self.expired = expired
        super().__init__(N_("This secret link has expired or never existed."))


class PassphraseRequired(PushError):
    def __init__(self):
        super().__init__(N_("This secret is protected by a passphrase. Enter it to continue."))


class WrongPassphrase(PushError):
    """`burns_left`: wrong passphrases the push still takes before it is deleted (None: the
    sender set no such limit; 0: this one deleted it)."""

    def __init__(self, attempts_left: int, pause_minutes: int = 0, burns_left: int | None = None):
        self.attempts_left = attempts_left
        self.burns_left = burns_left
        pause = {"pause_minutes": pause_minutes}
        if burns_left == 0:
            then = (N_("The sender allowed no more wrong passphrases: the secret is now deleted. Ask the sender for a "
                       "new link."), {})
        elif burns_left is not None and burns_left <= attempts_left:
            then = ((N_("One more wrong passphrase deletes the secret."), {}) if burns_left == 1
                    else (N_("{count} more wrong passphrases delete the secret."), {"count": burns_left}))
        elif attempts_left > 1:
            then = (N_("{count} attempts left; then attempts from your network pause for {pause_minutes}."),
                    {"count": attempts_left, **pause})
        elif attempts_left == 1:
            # Said before the attempt that locks, not after it.
            then = (N_("One attempt left: if the next one is wrong too, attempts from your network pause for "
                       "{pause_minutes}."), pause)
        else:
            then = (N_("That was the last attempt for now: try again in {pause_minutes}, or ask the sender to check the "
                       "passphrase."), pause)
        self.sentences = ((N_("That passphrase is not correct."), {}), then)
        super().__init__(Said(self.sentences))


class CodeRequired(PushError):
    """The sender asked to verify the recipient: a reveal needs the code mailed to them."""

    def __init__(self):
        super().__init__(N_("The sender asked us to check that you are the recipient: request a code by email, "
                            "then enter it to continue."))


class CodeExpired(PushError):
    """No code is waiting for this push (never sent, used, replaced by a newer one, or too old)."""

    def __init__(self):
        super().__init__(N_("That code no longer works (each code works once, for 10 minutes, and a new one replaces "
                            "it): request a new code."))


class WrongCode(PushError):
    """A wrong verification code: counted like a wrong passphrase (`attempts_left`, `burns_left`)."""

    def __init__(self, attempts_left: int, pause_minutes: int = 0, burns_left: int | None = None):
        self.attempts_left = attempts_left
        self.burns_left = burns_left
        if burns_left == 0:
            then = said(N_("The sender allowed no more wrong guesses: the secret is now deleted. Ask the sender for a "
                           "new link."))
        elif burns_left is not None and burns_left <= attempts_left:
            then = (said(N_("One more wrong guess deletes the secret.")) if burns_left == 1
                    else said(N_("{count} more wrong guesses delete the secret."), count=burns_left))
        elif attempts_left > 0:
            then = said(N_("{count} attempts left; then attempts from your network pause for {pause_minutes}."),
                        count=attempts_left, pause_minutes=pause_minutes)
        else:
            then = said(N_("That was the last attempt for now: try again in {pause_minutes}."), pause_minutes=pause_minutes)
        super().__init__(joined(said(N_("That code is not correct: check the newest mail and type its 6 digits.")), then))


class CodeSendLimited(PushError):
    """Codes for this push were sent too often: the page can't be used to flood an inbox."""

    def __init__(self, retry_after_seconds: int):
        self.retry_after_seconds = max(1, retry_after_seconds)
        if self.retry_after_seconds < 120:
            message = said(N_("A code was sent a moment ago: look for it in your inbox (and spam folder), or request a "
                              "new one in {wait_seconds}."), wait_seconds=self.retry_after_seconds)
        else:
            message = said(N_("A code was sent a moment ago: look for it in your inbox (and spam folder), or request a "
                              "new one in {wait_minutes}."), wait_minutes=_minutes(self.retry_after_seconds))
        super().__init__(message)


class TooManyAttempts(PushError):
    """Wrong passphrases from this client (address or IPv6 network) reached the limit."""

    def __init__(self, retry_after_seconds: int, message: str | None = None):
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(message or said(N_("Too many wrong passphrases from your network. Try again in {wait_minutes}."),
                                         wait_minutes=_minutes(self.retry_after_seconds)))


class PushLocked(TooManyAttempts):
    """Wrong passphrases for this push from everywhere reached the limit: nobody may try."""

    def __init__(self, retry_after_seconds: int):
        super().__init__(
            retry_after_seconds,
            joined(said(N_("This secret is locked after too many wrong passphrases.")), said(
                N_("Try again in {wait_minutes}, or ask the sender for a new link."),
                wait_minutes=_minutes(max(1, retry_after_seconds)))),
        )


class UnexpectedPassphrase(PushError):
    def __init__(self):
        super().__init__(N_("This push has no passphrase; send the request without one."))


class NotAllowed(PushError):
    """The action exists but this caller may not do it (e.g. deleting a non-deletable push)."""


# --- downloading -------------------------------------------------------------------------------------

class DownloadUnavailable(PushError):
    """Unknown grant, expired window, expired push or deleted file: one answer for all."""

    def __init__(self):
        super().__init__(N_("This download has expired or never existed. Open the secret link again if it has views "
                            "left."))


class AlreadyDownloaded(PushError):
    def __init__(self):
        super().__init__(N_("This file was already downloaded. After the last view each file can be downloaded once, "
                            "and this one has been deleted."))
