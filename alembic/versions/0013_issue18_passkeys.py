"""passkeys (issue 18): an account's WebAuthn credentials and the challenges given out

Revision ID: 0013_issue18
Revises: 0012_issue21
Create Date: 2026-12-01 02:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013_issue18'
down_revision: Union[str, None] = '0012_issue21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'passkey',
        sa.Column('id', Text(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), sa.ForeignKey('pwpush_user.id', ondelete='CASCADE'), nullable=False),
        sa.Column('credential_id', Text(length=1400), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.BigInteger(), nullable=False),
        sa.Column('name', Text(length=64), nullable=False),
        sa.Column('transports', Text(length=200), nullable=False),
        sa.Column('created_at', Time(), nullable=False),
        sa.Column('last_used_at', Time(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('credential_id'),
    )
    op.create_index('ix_passkey_user_id', 'passkey', ['user_id'])

    op.create_table(
        'passkey_challenge',
        sa.Column('id', Text(length=64), nullable=False),
        sa.Column('purpose', Text(length=8), nullable=False),
        sa.Column('user_id', sa.String(length=32), sa.ForeignKey('pwpush_user.id', ondelete='CASCADE'), nullable=True),
        sa.Column('step_id', Text(length=64), nullable=True),
        sa.Column('rp_id', Text(length=255), nullable=False),
        sa.Column('origin', Text(length=300), nullable=False),
        sa.Column('created_at', Time(), nullable=False),
        sa.Column('expires_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_passkey_challenge_user_id', 'passkey_challenge', ['user_id'])
    op.create_index('ix_passkey_challenge_expires_at', 'passkey_challenge', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_passkey_challenge_expires_at', table_name='passkey_challenge')
    op.drop_index('ix_passkey_challenge_user_id', table_name='passkey_challenge')
    op.drop_table('passkey_challenge')
    op.drop_index('ix_passkey_user_id', table_name='passkey')
    op.drop_table('passkey')
