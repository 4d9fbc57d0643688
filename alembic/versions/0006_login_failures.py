"""login failures by email: every failed login is counted, known email or not

Wrong passwords were counted on the user row, so a wrong password for a real account
wrote (and synced) to the database while an unknown email did not: the answer's timing
told which emails have accounts.  Failures now live in their own table, keyed by a keyed
hash of the email, written on every failed login.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'login_failure',
        sa.Column('email_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('email_digest'),
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_updated_at'), ['updated_at'], unique=False)
    # Locks in force move along: a locked account stays locked.  (Keyed by the email's
    # digest, which needs the master key: locks end within the hour instead.)
    with op.batch_alter_table('pwpush_user', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade() -> None:
    with op.batch_alter_table('pwpush_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_updated_at'))
    op.drop_table('login_failure')
