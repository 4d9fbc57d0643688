"""The table of requests (core/requests.py): a logged-in user asks someone for a secret.

The request's message (what the answerer reads) and its link's token (for the requester to
copy it again) are sealed under a data key of the request's own; the link is found by a
keyed hash of its token, like a push's.  Registered with the other tables by models.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String
from sqlmodel import Field, SQLModel


class SecretRequest(SQLModel, table=True):
    __tablename__ = "secret_request"
    __table_args__ = (Index("ix_secret_request_state_expires_at", "state", "expires_at"),)

    id: str = Field(primary_key=True, max_length=32)
    owner_id: str = Field(sa_column=Column(String(32), ForeignKey("pwpush_user.id", ondelete="CASCADE"), index=True,
                                           nullable=False))
    # HMAC of the request link's token, under a subkey of the master key `token_key_id`.
    token_digest: str = Field(max_length=64, unique=True, index=True)
    token_key_id: str = Field(max_length=8)
    # The message's and link's data key, wrapped under a master key; deleted at expiry.
    wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    message_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    link_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # What the answer push gets: its views and lifetime, chosen by the requester.
    answer_views: int
    answer_minutes: int
    expire_after_minutes: int
    expires_at: datetime = Field(index=True)
    # open | answered | expired
    state: str = Field(default="open", max_length=8)
    answered_at: datetime | None = None
    # The push that holds the answer, owned by the requester.
    answer_push_id: str | None = Field(
        default=None, sa_column=Column(String(32), ForeignKey("push.id", ondelete="SET NULL"), nullable=True)
    )
    # Mail the requester when the answer arrives (the requester's choice per request); webhooks always hear.
    notify_by_email: bool = True
    created_at: datetime = Field(index=True)
    updated_at: datetime
