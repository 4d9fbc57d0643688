"""purge indexes: (expired, expires_at) and (expired, expired_at) replace the lone `expired`

The purge job asks "live and overdue?" and "expired before the retention cutoff?".  With
only single-column indexes SQLite answered both through `ix_push_expired`, walking every
live (or expired) push, in batches of 500, under the write lock: at a million stored
pushes each periodic run blocked creates and reveals for seconds.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 14:45:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.create_index('ix_push_expired_expires_at', ['expired', 'expires_at'], unique=False)
        batch_op.create_index('ix_push_expired_expired_at', ['expired', 'expired_at'], unique=False)
        # A prefix of both: redundant now.
        batch_op.drop_index('ix_push_expired')


def downgrade() -> None:
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.create_index('ix_push_expired', ['expired'], unique=False)
        batch_op.drop_index('ix_push_expired_expired_at')
        batch_op.drop_index('ix_push_expired_expires_at')
