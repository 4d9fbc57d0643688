"""requests (issue 20): a logged-in user asks someone for a secret through a one-answer link

Revision ID: 0015_issue20
Revises: 0014_issue20
Create Date: 2026-12-01 03:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015_issue20'
down_revision: Union[str, None] = '0014_issue20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'secret_request',
        sa.Column('id', Text(length=32), nullable=False),
        sa.Column('owner_id', sa.String(length=32), sa.ForeignKey('pwpush_user.id', ondelete='CASCADE'), nullable=False),
        sa.Column('token_digest', Text(length=64), nullable=False),
        sa.Column('token_key_id', Text(length=8), nullable=False),
        sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
        sa.Column('message_sealed', sa.LargeBinary(), nullable=True),
        sa.Column('link_sealed', sa.LargeBinary(), nullable=True),
        sa.Column('answer_views', sa.Integer(), nullable=False),
        sa.Column('answer_minutes', sa.Integer(), nullable=False),
        sa.Column('expire_after_minutes', sa.Integer(), nullable=False),
        sa.Column('expires_at', Time(), nullable=False),
        sa.Column('state', Text(length=8), nullable=False),
        sa.Column('answered_at', Time(), nullable=True),
        sa.Column('answer_push_id', sa.String(length=32), sa.ForeignKey('push.id', ondelete='SET NULL'), nullable=True),
        sa.Column('created_at', Time(), nullable=False),
        sa.Column('updated_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_secret_request_owner_id', 'secret_request', ['owner_id'])
    op.create_index('ix_secret_request_token_digest', 'secret_request', ['token_digest'], unique=True)
    op.create_index('ix_secret_request_expires_at', 'secret_request', ['expires_at'])
    op.create_index('ix_secret_request_created_at', 'secret_request', ['created_at'])
    op.create_index('ix_secret_request_state_expires_at', 'secret_request', ['state', 'expires_at'])


def downgrade() -> None:
    for name in ('state_expires_at', 'created_at', 'expires_at', 'token_digest', 'owner_id'):
        op.drop_index(f'ix_secret_request_{name}', table_name='secret_request')
    op.drop_table('secret_request')
