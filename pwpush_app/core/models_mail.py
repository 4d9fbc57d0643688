"""The tables of mail, account tokens, owner notifications and webhooks.

A mail waiting in the outbox is sealed (it may carry a secret link, as good as the secret
while the push lives) under a data key of its own, and deleted once the SMTP server took it.
Account tokens (confirm, reset, unlock, change of email) are stored as keyed hashes only.
Registered with the other tables by models.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel


def _user_fk(ondelete: str = "CASCADE", nullable: bool = False) -> Column:
    return Column(String(32), ForeignKey("pwpush_user.id", ondelete=ondelete), index=True, nullable=nullable)


class MailOutbox(SQLModel, table=True):
    """A mail to send.  Queued in the transaction that decided to send it; sent by the
    background sender (core/outbox.py), then deleted.  A mail given up keeps its row, without
    its sealed message, so that the account it belongs to sees what failed."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=32)
    # link | confirm | reset | unlock | password_changed | email_change | email_changed | notice | digest | test
    # | code | passkey_added | api_token_created
    purpose: str = Field(max_length=24)
    recipient: str = Field(max_length=254)
    # The account this mail is about (it sees the failures); None for mail of no account.
    user_id: str | None = Field(default=None, sa_column=_user_fk("SET NULL", nullable=True))
    # Link mails: their recipient's row (status in the audit trail), and the push, which must
    # still be live when the mail goes.
    recipient_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("push_recipient.id", ondelete="SET NULL"), nullable=True)
    )
    push_id: str | None = Field(
        default=None, sa_column=Column(String(32), ForeignKey("push.id", ondelete="CASCADE"), index=True, nullable=True)
    )
    wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    message_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # queued | failed
    status: str = Field(default="queued", max_length=8)
    attempts: int = 0
    next_attempt_at: datetime
    # Held by the worker sending it (no other worker sends it until then).
    lease_until: datetime | None = None
    lease_holder: str | None = Field(default=None, max_length=64)
    last_error: str = Field(default="", max_length=255)
    created_at: datetime
    updated_at: datetime


class PushRecipient(SQLModel, table=True):
    """One address a push's link was mailed to, with what became of that mail (the owner
    sees it in the audit trail, beside the `creation_email_send` event)."""

    __tablename__ = "push_recipient"

    id: int | None = Field(default=None, primary_key=True)
    push_id: str = Field(sa_column=Column(String(32), ForeignKey("push.id", ondelete="CASCADE"), index=True, nullable=False))
    audit_event_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("audit_event.id", ondelete="CASCADE"), index=True, nullable=True)
    )
    email: str = Field(max_length=254)
    locale: str = Field(default="", max_length=16)
    # queued | sent | failed | dropped (the push expired before the mail could go)
    status: str = Field(default="queued", max_length=8)
    error: str = Field(default="", max_length=255)
    created_at: datetime = Field(index=True)
    updated_at: datetime


class AccountToken(SQLModel, table=True):
    """A token mailed to an account's owner: confirm the address, reset the password, unlock
    the account, confirm a new address.  Only its keyed hash is stored; it works once."""

    __tablename__ = "account_token"

    digest: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(sa_column=_user_fk())
    # confirm | reset | unlock | email
    purpose: str = Field(max_length=8)
    # For `email`: the address the account moves to once confirmed.
    new_email: str | None = Field(default=None, max_length=254)
    expires_at: datetime = Field(index=True)
    created_at: datetime


class NoticePreference(SQLModel, table=True):
    """What an account wants to hear about its pushes by mail, and whether as one daily digest."""

    __tablename__ = "notice_preference"

    user_id: str = Field(sa_column=Column(String(32), ForeignKey("pwpush_user.id", ondelete="CASCADE"), primary_key=True))
    on_view: bool = False
    on_failed_passphrase: bool = False
    on_expire: bool = False
    daily_digest: bool = False
    # When this account's next digest goes out (set while it has events waiting).
    digest_due_at: datetime | None = None
    updated_at: datetime


class OwnerEvent(SQLModel, table=True):
    """Something happened to a push whose owner listens (mail or webhook): written by the
    core in the transaction that did it, turned into mails and webhook calls by the sender."""

    __tablename__ = "owner_event"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(sa_column=_user_fk())
    push_id: str = Field(sa_column=Column(String(32), ForeignKey("push.id", ondelete="CASCADE"), index=True, nullable=False))
    # viewed | failed_passphrase | expired | deleted
    kind: str = Field(max_length=20)
    # Who did it, as the audit trail records it.
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)
    # The owner did it (no mail tells them what they just did; webhooks still hear it).
    by_owner: bool = False
    # Views the push had left right after it happened.
    views_left: int = 0
    # Handed out already; waits for the account's daily digest.
    in_digest: bool = Field(default=False, index=True)
    created_at: datetime


class Webhook(SQLModel, table=True):
    """An account's endpoint for events about its pushes.  Its URL (which may hold a token of
    the receiver's) and signing secret are sealed; `display` names it without its path."""

    __tablename__ = "webhook"

    id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(sa_column=_user_fk())
    display: str = Field(max_length=300)
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    url_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    secret_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime
    secret_created_at: datetime


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint, with its attempts: the account's delivery log.  The body is
    the JSON sent: no secret, no link."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),)

    # Also the X-Pwpush-Delivery header: the same for every attempt, so a receiver can drop repeats.
    id: str = Field(primary_key=True, max_length=32)
    webhook_id: str = Field(sa_column=Column(String(32), ForeignKey("webhook.id", ondelete="CASCADE"), index=True, nullable=False))
    event: str = Field(max_length=32)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # pending | delivered | failed
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime
    lease_until: datetime | None = None
    lease_holder: str | None = Field(default=None, max_length=64)
    response_status: int | None = None
    last_error: str = Field(default="", max_length=255)
    created_at: datetime = Field(index=True)
    updated_at: datetime
