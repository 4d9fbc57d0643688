"""two-factor sign-in (TOTP, backup codes, the login step) and administrators

Revision ID: 0008_issue18
Revises: 0007_issue17
Create Date: 2026-12-01 00:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008_issue18'
down_revision: Union[str, None] = '0007_issue17'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = sqlmodel.sql.sqltypes.UTCDateTime


def _user() -> sa.Column:
    return sa.Column('user_id', sa.String(length=32), sa.ForeignKey('pwpush_user.id', ondelete='CASCADE'), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table('pwpush_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_admin', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('totp_wrapped_key', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('totp_secret_sealed', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', Time(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    # The default filled the existing rows; new ones get theirs from the model, as every column.
    with op.batch_alter_table('pwpush_user', schema=None) as batch_op:
        batch_op.alter_column('is_admin', server_default=None)

    op.create_table(
        'backup_code',
        sa.Column('id', sa.Integer(), nullable=False),
        _user(),
        sa.Column('code_hash', Text(length=255), nullable=False),
        sa.Column('used_at', Time(), nullable=True),
        sa.Column('created_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_backup_code_user_id', 'backup_code', ['user_id'])

    op.create_table(
        'login_step',
        sa.Column('id', Text(length=64), nullable=False),
        _user(),
        sa.Column('stage', Text(length=8), nullable=False),
        sa.Column('remember', sa.Boolean(), nullable=False),
        sa.Column('created_at', Time(), nullable=False),
        sa.Column('expires_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_step_user_id', 'login_step', ['user_id'])
    op.create_index('ix_login_step_expires_at', 'login_step', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_login_step_expires_at', table_name='login_step')
    op.drop_index('ix_login_step_user_id', table_name='login_step')
    op.drop_table('login_step')
    op.drop_index('ix_backup_code_user_id', table_name='backup_code')
    op.drop_table('backup_code')
    with op.batch_alter_table('pwpush_user', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret_sealed')
        batch_op.drop_column('totp_wrapped_key')
        batch_op.drop_column('is_admin')
