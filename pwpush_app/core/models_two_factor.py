"""The tables of two-factor sign-in: backup codes, and the half-signed-in step of a login.

A backup code is stored as an Argon2id hash only (core/hashing.py), like a password.  A
login step is a random token whose SHA-256 is stored, like a session: it proves a correct
password and nothing more, and opens nothing but the code (or enrolment) form.
Registered with the other tables by models.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String
from sqlmodel import Field, SQLModel


def _user_fk() -> Column:
    return Column(String(32), ForeignKey("pwpush_user.id", ondelete="CASCADE"), index=True, nullable=False)


class BackupCode(SQLModel, table=True):
    """One of an account's single-use backup codes (ten, made at enrolment)."""

    __tablename__ = "backup_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(sa_column=_user_fk())
    code_hash: str = Field(max_length=255)
    # When it was spent; a spent code is refused.
    used_at: datetime | None = None
    created_at: datetime


class LoginStep(SQLModel, table=True):
    """A login past its password, waiting for its second factor: `code` (a code or a backup
    code is asked for), `enrol` (PWP__REQUIRE_MFA: two-factor must be set up first) or
    `passed` (enrolled: the session may open)."""

    __tablename__ = "login_step"

    # SHA-256 of the step cookie's random token.
    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(sa_column=_user_fk())
    stage: str = Field(max_length=8)
    remember: bool = False
    created_at: datetime
    expires_at: datetime = Field(index=True)
