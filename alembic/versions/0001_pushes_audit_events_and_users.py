"""pushes, audit events and users

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 11:24:06.073231
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0001'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('pwpush_user',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('api_token_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('api_token_created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pwpush_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pwpush_user_api_token_digest'), ['api_token_digest'], unique=True)
        batch_op.create_index(batch_op.f('ix_pwpush_user_email'), ['email'], unique=True)

    op.create_table('push',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('token_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('token_key_id', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('manage_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
    sa.Column('payload_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('note_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('link_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('passphrase_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('has_passphrase', sa.Boolean(), nullable=False),
    sa.Column('expire_after_views', sa.Integer(), nullable=False),
    sa.Column('views_remaining', sa.Integer(), nullable=False),
    sa.Column('expire_after_minutes', sa.Integer(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('retrieval_step', sa.Boolean(), nullable=False),
    sa.Column('deletable_by_viewer', sa.Boolean(), nullable=False),
    sa.Column('expired', sa.Boolean(), nullable=False),
    sa.Column('expired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('expired_reason', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['pwpush_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_expired'), ['expired'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_expired_at'), ['expired_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_manage_digest'), ['manage_digest'], unique=True)
        batch_op.create_index(batch_op.f('ix_push_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_token_digest'), ['token_digest'], unique=True)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('push_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('referrer', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['push_id'], ['push.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_push_id'), ['push_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_push_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_created_at'))

    op.drop_table('audit_event')
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_token_digest'))
        batch_op.drop_index(batch_op.f('ix_push_owner_id'))
        batch_op.drop_index(batch_op.f('ix_push_manage_digest'))
        batch_op.drop_index(batch_op.f('ix_push_expires_at'))
        batch_op.drop_index(batch_op.f('ix_push_expired_at'))
        batch_op.drop_index(batch_op.f('ix_push_expired'))
        batch_op.drop_index(batch_op.f('ix_push_created_at'))

    op.drop_table('push')
    with op.batch_alter_table('pwpush_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pwpush_user_email'))
        batch_op.drop_index(batch_op.f('ix_pwpush_user_api_token_digest'))

    op.drop_table('pwpush_user')
