"""The administrators' audit log: one row per admin action (core/admin_actions.py).

It names people by address and holds no secret: no token, hash, code or payload.  A row
outlives both accounts it names (no foreign key): the log says what happened to an account
that was deleted.  Registered with the other tables by models.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class AdminAction(SQLModel, table=True):
    __tablename__ = "admin_action"

    id: int | None = Field(default=None, primary_key=True)
    # Who: the administrator, by id and by the address they had then.
    admin_id: str = Field(max_length=32)
    admin_email: str = Field(max_length=254)
    # What: lock | unlock | delete | reset_2fa | promote | demote | sign_out (admin_actions.ACTIONS)
    action: str = Field(max_length=16)
    # Whom: the account acted on.
    target_id: str = Field(max_length=32)
    target_email: str = Field(max_length=254)
    # What came of it, in words without a secret ("3 pushes expired").
    detail: str = Field(default="", max_length=255)
    # From where: the client's address (through trusted proxies) and browser.
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)
    created_at: datetime = Field(index=True)
