"""the administration area (issue 18, part B): the admin audit log, and locks set by an administrator

Revision ID: 0010_issue18
Revises: 0009_issue21
Create Date: 2026-12-01 00:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010_issue18'
down_revision: Union[str, None] = '0009_issue21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('by_admin', sa.Boolean(), nullable=False, server_default=sa.false()))
    # The default filled the existing rows; new ones get theirs from the model, as every column.
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.alter_column('by_admin', server_default=None)

    op.create_table(
        'admin_action',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('admin_id', Text(length=32), nullable=False),
        sa.Column('admin_email', Text(length=254), nullable=False),
        sa.Column('action', Text(length=16), nullable=False),
        sa.Column('target_id', Text(length=32), nullable=False),
        sa.Column('target_email', Text(length=254), nullable=False),
        sa.Column('detail', Text(length=255), nullable=False),
        sa.Column('ip', Text(length=64), nullable=False),
        sa.Column('user_agent', Text(length=255), nullable=False),
        sa.Column('created_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_admin_action_created_at', 'admin_action', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_admin_action_created_at', table_name='admin_action')
    op.drop_table('admin_action')
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_column('by_admin')
