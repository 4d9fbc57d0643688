"""The tables of passkeys (WebAuthn): an account's registered credentials, and the
challenges handed out for a registration or a sign-in.

A credential's public key is public: it proves a signature, nothing more.  A challenge is
not secret either (it travels in the options to the browser), but it is good once, for a
few minutes, and bound to what asked for it: the account that registers, or the login step
whose second factor it is.  Registered with the other tables by models.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary, String
from sqlmodel import Field, SQLModel


class Passkey(SQLModel, table=True):
    """A passkey of an account: its credential id (base64url, unique across the site), its
    COSE public key, the authenticator's signature counter, and the name its owner gave it."""

    __tablename__ = "passkey"

    id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(sa_column=Column(String(32), ForeignKey("pwpush_user.id", ondelete="CASCADE"), index=True,
                                          nullable=False))
    credential_id: str = Field(max_length=1400, unique=True)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sign_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    name: str = Field(max_length=64)
    # "internal,hybrid": where the browser may look for it next time.
    transports: str = Field(default="", max_length=200)
    created_at: datetime
    last_used_at: datetime | None = None


class PasskeyChallenge(SQLModel, table=True):
    """A challenge given out once: `register` (for `user_id`'s session), `login` (a sign-in
    by passkey alone) or `step` (the second factor of the login step `step_id`).  The RP id
    and origin the options named are kept with it: the answer must match them."""

    __tablename__ = "passkey_challenge"

    # SHA-256 of the challenge's bytes.
    id: str = Field(primary_key=True, max_length=64)
    purpose: str = Field(max_length=8)
    user_id: str | None = Field(default=None, sa_column=Column(
        String(32), ForeignKey("pwpush_user.id", ondelete="CASCADE"), index=True, nullable=True))
    step_id: str | None = Field(default=None, max_length=64)
    rp_id: str = Field(max_length=255)
    origin: str = Field(max_length=300)
    created_at: datetime
    expires_at: datetime = Field(index=True)
