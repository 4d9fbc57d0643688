"""Sealing records other than pushes (a queued mail, a webhook's URL and secret) the way a
push is sealed: a data key of the record's own, wrapped by the master key, and AES-256-GCM
bound to the record and the field.  Deleting the wrapped key shreds every field at once.

`subject` names the record ("mail <id>", "webhook <id>"): a ciphertext moved to another
record, or to another kind of record, fails to open.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import select

from pwpush_app.core.crypto import DecryptionError
from pwpush_app.core.db import transaction
from pwpush_app.core.models import User
from pwpush_app.core.models_mail import MailOutbox, Webhook
from pwpush_app.core.models_requests import SecretRequest
from pwpush_app.core.runtime import Runtime


def seal_record(runtime: Runtime, subject: str, fields: dict[str, bytes]) -> tuple[bytes, dict[str, bytes]]:
    """A new data key for `subject`, and each field sealed under it: (wrapped key, sealed fields)."""
    data_key, wrapped = runtime.keyring.new_data_key(subject)
    return wrapped, {name: data_key.seal(subject, name, value) for name, value in fields.items()}


def reseal_field(runtime: Runtime, subject: str, wrapped: bytes, field: str, value: bytes) -> bytes:
    """`value` sealed as `field` under the record's existing data key."""
    return runtime.keyring.open_data_key(subject, wrapped).seal(subject, field, value)


def open_field(runtime: Runtime, subject: str, wrapped: bytes, field: str, sealed: bytes) -> bytes:
    """The plaintext of one field; raises crypto.DecryptionError when it fails to open."""
    return runtime.keyring.open_data_key(subject, wrapped).open(subject, field, sealed)


def rewrap_records(runtime: Runtime) -> tuple[int, int]:
    """Key rotation (core/keys.py): the data keys of queued mails, of webhooks, of two-factor
    secrets and of requests (core/requests.py), re-wrapped under the current master key.  Returns (re-wrapped, unreadable: under
    a key not configured)."""
    keyring = runtime.keyring
    rewrapped = unreadable = 0
    for table, column, prefix in ((MailOutbox, MailOutbox.wrapped_key, "mail"), (Webhook, Webhook.wrapped_key, "webhook"),
                                  (User, User.totp_wrapped_key, "totp"),
                                  (SecretRequest, SecretRequest.wrapped_key, "request")):
        with transaction(runtime.engine) as db:
            rows = db.exec(select(table.id, column).where(column.is_not(None))).all()
            for record_id, wrapped in rows:
                if keyring.wrapped_key_id(wrapped) == keyring.current_key_id:
                    continue
                try:
                    fresh = keyring.rewrap(f"{prefix} {record_id}", wrapped)
                except DecryptionError:
                    unreadable += 1
                    continue
                rewrapped += db.execute(update(table).where(table.id == record_id, column == wrapped)
                                        .values({column.key: fresh}).execution_options(synchronize_session=False)).rowcount
    return rewrapped, unreadable
