"""Tables.  Secrets live only in ``*_sealed`` columns, encrypted under the push's data key.

Timestamps are aware UTC datetimes (SQLModel stores them as UTC on both engines).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import BigInteger, Column, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import configure_mappers
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    __tablename__ = "pwpush_user"

    id: str = Field(primary_key=True, max_length=32)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str | None = Field(default=None, max_length=255)
    # SHA-256 of the API token: 128-bit random tokens need no slow hash.
    api_token_digest: str | None = Field(default=None, max_length=64, unique=True, index=True)
    api_token_created_at: datetime | None = None
    # When the owner proved the address is theirs (account emails); None: not yet.
    email_confirmed_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    # An administrator (core/admin.py): `make-admin`, or PWP__ADMIN_EMAILS at login.
    is_admin: bool = False
    # Two-factor (core/two_factor.py): the TOTP secret sealed under a data key of its own
    # (wrapped by the master key); set but not enabled while an enrolment awaits its code.
    totp_wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    totp_secret_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    totp_enabled_at: datetime | None = None
    # The time step of the last code accepted: a code is good once (no replay in its window).
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The language of the account's mails (core/letters.py): the page's at sign-up, updated at each
    # login and language switch; "" for the site's default (PWP__DEFAULT_LOCALE).
    locale: str = Field(default="", max_length=16)

    @property
    def two_factor_on(self) -> bool:
        return self.totp_enabled_at is not None


class LoginFailures(SQLModel, table=True):
    """Wrong passwords in a row for one email address, whether or not it has an account:
    every failed login writes here, so an unknown email costs what a known one does and
    locks the same way (nothing tells them apart)."""

    __tablename__ = "login_failure"

    # Keyed hash of the normalised email (a copy of the database lists no addresses).
    email_digest: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    locked_until: datetime | None = None
    updated_at: datetime = Field(index=True)
    # Locked by an administrator (core/admin_actions.py): only an administrator unlocks it
    # (a password reset or an unlock link ends wrong-password locks only).
    by_admin: bool = False


class LoginSession(SQLModel, table=True):
    """A logged-in browser.  The id is the SHA-256 of the session cookie's random token:
    the database never holds a token that would log anyone in."""

    __tablename__ = "session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(
        sa_column=Column(String(32), ForeignKey("pwpush_user.id", ondelete="CASCADE"), index=True, nullable=False)
    )
    # "Remember me": no idle limit, only the absolute one.
    remember: bool = False
    created_at: datetime
    # When the login that opened it proved the account's credentials (the password and the second
    # factor if any, or a passkey); None: opened without such proof (after a password change on an
    # account with a second factor, or before this column existed).  Activity never moves it: adding
    # a passkey or an API token takes a recent one (session_checks.require_recent_login).
    logged_in_at: datetime | None = None
    last_seen_at: datetime
    # Absolute end, whatever the activity.
    expires_at: datetime = Field(index=True)


class Push(SQLModel, table=True):
    __tablename__ = "push"
    __table_args__ = (
        # The purge job's two questions, answered by an index range whatever the store's
        # size: which live pushes are overdue, which expired records are past retention.
        # (A lone `expired` index made SQLite walk every live push, under the write lock.)
        Index("ix_push_expired_expires_at", "expired", "expires_at"),
        Index("ix_push_expired_expired_at", "expired", "expired_at"),
    )

    id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=8)
    # HMAC of the secret link's token, under a subkey of the master key `token_key_id`.
    token_digest: str = Field(max_length=64, unique=True, index=True)
    token_key_id: str = Field(max_length=8)
    # HMAC of the creator's manage token (anonymous ownership).
    manage_digest: str = Field(max_length=64, unique=True, index=True)
    owner_id: str | None = Field(
        default=None, sa_column=Column(String(32), ForeignKey("pwpush_user.id", ondelete="SET NULL"), index=True)
    )

    name: str = Field(default="", max_length=255)
    # The push's data key, wrapped under a master key. Deleted at expiry (crypto-shredding).
    wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    payload_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    note_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # The secret link's token, sealed, so a logged-in owner can copy the link again.
    link_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    passphrase_hash: str | None = Field(default=None, max_length=255)
    has_passphrase: bool = False

    expire_after_views: int
    views_remaining: int
    expire_after_minutes: int
    expires_at: datetime = Field(index=True)
    retrieval_step: bool = True
    deletable_by_viewer: bool = True
    # The sender's policies (core/push_policies.py): the networks the link opens from
    # (canonical CIDRs separated by spaces; None: everywhere), and how many wrong
    # passphrases in all delete the push (None: only the lock-outs apply).
    allowed_ips: str | None = Field(default=None, max_length=1000)
    burn_after_failed_passphrases: int | None = None
    # Set by the UPDATE that takes a view: the first view, the newest, and the one before
    # the newest (what the viewer of the newest is told: "opened before, 3 minutes ago").
    first_viewed_at: datetime | None = None
    last_viewed_at: datetime | None = None
    previous_viewed_at: datetime | None = None
    # One secret for several recipients (core/recipients.py): the pushes made together share
    # a random group id, and each names its recipient (a label or an email address).
    group_id: str | None = Field(default=None, max_length=32, index=True)
    recipient: str | None = Field(default=None, max_length=254)
    # Verify the recipient before the reveal (core/recipient_code.py): the address a code is
    # mailed to, sealed under the data key; the pending code's keyed hash (None: no code
    # waiting), when it stops working, and when the last one was sent.
    verify_email_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    verify_code_digest: str | None = Field(default=None, max_length=64)
    verify_code_expires_at: datetime | None = None
    verify_code_sent_at: datetime | None = None
    # End-to-end (core/e2e.py): the payload is an envelope only the link's fragment opens.
    end_to_end: bool = False

    expired: bool = False
    expired_at: datetime | None = Field(default=None, index=True)
    # views | time | owner | viewer | guesses (burned by wrong passphrases)
    expired_reason: str | None = Field(default=None, max_length=8)

    created_at: datetime = Field(index=True)
    updated_at: datetime

    @classmethod
    def from_columns(cls, values: Mapping) -> "Push":
        """A Push from all its columns, as a row read back from the database holds them
        (or a new one, whole), without the constructor's validation and change tracking:
        ~3 µs where `Push(**values)` takes ~120, on the path of every create and reveal."""
        manager = cls._sa_class_manager
        if not manager.mapper.configured:
            configure_mappers()  # what the constructor would do first
        push = manager.new_instance()
        push.__dict__.update(values)
        return push

    # --- facts about a push, worked out here once (pages and API ask, never recompute) ---

    def is_live(self, now: datetime) -> bool:
        """Its link shows the secret now: not expired, views and time left."""
        return not self.expired and self.views_remaining > 0 and self.expires_at > now

    @property
    def views_left(self) -> int:
        """Views a recipient may still take: none once it expired, whatever the counter says."""
        return 0 if self.expired else max(self.views_remaining, 0)

    @property
    def verifies_recipient(self) -> bool:
        """The reveal waits for a code mailed to the address the sender named."""
        return self.verify_email_sealed is not None

    @property
    def views_used(self) -> int:
        return self.expire_after_views - self.views_remaining

    def time_left(self, now: datetime) -> timedelta:
        """How long its link still works (nothing once expired)."""
        return timedelta(0) if self.expired else max(self.expires_at - now, timedelta(0))

    def days_remaining(self, now: datetime) -> int:
        """Whole days of its lifetime not yet passed, as Password Pusher counts them (part
        of a day counts as one); like there, an expired push still reports them."""
        return max(0, math.ceil((self.expires_at - now) / timedelta(days=1)))

    @property
    def views_unused(self) -> int:
        """Views of its allowance nobody took, as Password Pusher's `views_remaining`: an
        expired push still reports them (0 when the views ran out, more when it was
        deleted or its time ran out first)."""
        return max(self.views_remaining, 0)

    def viewer_may_delete(self, now: datetime) -> bool:
        """A recipient holding the link may delete it now (where the sender allowed it)."""
        return self.deletable_by_viewer and self.is_live(now)

    @property
    def deleted(self) -> bool:
        """Expired by a person (owner or viewer), as Password Pusher's `deleted` flag."""
        return self.expired_reason in ("owner", "viewer", "admin")


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    push_id: str = Field(sa_column=Column(String(32), ForeignKey("push.id", ondelete="CASCADE"), index=True, nullable=False))
    # creation | view | failed_view | failed_passphrase | expire | expire_auto | owner_view | edit | ...
    # (core/audit.py's EVENT_KINDS)
    kind: str = Field(max_length=20)
    # For `expire`: who did it (owner or viewer).
    actor: str | None = Field(default=None, max_length=8)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)
    referrer: str = Field(default="", max_length=255)
    user_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(index=True)


class JobLease(SQLModel, table=True):
    """Which worker runs a periodic job in the current period (several workers, one run)."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=64)
    lease_until: datetime


class PushFile(SQLModel, table=True):
    """One file of a file push.  Its contents are a sealed stream in the blob store."""

    __tablename__ = "push_file"
    __table_args__ = (UniqueConstraint("push_id", "position", name="uq_push_file_position"),)

    id: int | None = Field(default=None, primary_key=True)
    push_id: str = Field(sa_column=Column(String(32), ForeignKey("push.id", ondelete="CASCADE"), index=True, nullable=False))
    # 0-based place in the push: the file's number in download links.
    position: int
    # The sanitised file name, sealed (field "file <position> name"). Deleted with the blob.
    name_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    content_type: str = Field(max_length=127)
    # Plaintext size in bytes.
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    blob_key: str = Field(max_length=200)
    # When the last viewer took their one download in the grace window.
    downloaded_at: datetime | None = None
    blob_deleted: bool = Field(default=False, index=True)
    created_at: datetime


class DownloadGrant(SQLModel, table=True):
    """What one reveal of a file push allows: downloading its files for a short while.

    The grant of the last view also keeps a copy of the push's wrapped data key, because
    the push itself lost its key when it expired; the purge job deletes the grant (and
    that copy) when the window ends.
    """

    __tablename__ = "download_grant"

    id: int | None = Field(default=None, primary_key=True)
    push_id: str = Field(sa_column=Column(String(32), ForeignKey("push.id", ondelete="CASCADE"), index=True, nullable=False))
    # HMAC of the grant token, like link tokens.
    token_digest: str = Field(max_length=64, unique=True, index=True)
    last_view: bool = False
    wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    expires_at: datetime = Field(index=True)
    created_at: datetime


# The tables of mail, account tokens, notifications and webhooks, of two-factor, passkeys, requests and the admin log,
# live beside these.
from pwpush_app.core import (
    models_admin,  # noqa: E402,F401
    models_mail,  # noqa: E402,F401
    models_passkeys,  # noqa: E402,F401
    models_requests,  # noqa: E402,F401
    models_two_factor,  # noqa: E402,F401
)
