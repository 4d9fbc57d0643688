"""mail: the outbox, link recipients, account tokens, notifications and webhooks

Accounts that exist before this migration count as confirmed (their owners signed up
before the site could mail them; asking them now would lock them out).

Revision ID: 0007_issue17
Revises: 0006
Create Date: 2026-12-01 10:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007_issue17'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = sqlmodel.sql.sqltypes.UTCDateTime


def _user(ondelete: str = 'CASCADE', nullable: bool = False) -> sa.Column:
    return sa.Column('user_id', sa.String(length=32), sa.ForeignKey('pwpush_user.id', ondelete=ondelete), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table('pwpush_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', Time(), nullable=True))
    op.execute("UPDATE pwpush_user SET email_confirmed_at = created_at")

    op.create_table(
        'push_recipient',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('push_id', sa.String(length=32), sa.ForeignKey('push.id', ondelete='CASCADE'), nullable=False),
        sa.Column('audit_event_id', sa.Integer(), sa.ForeignKey('audit_event.id', ondelete='CASCADE'), nullable=True),
        sa.Column('email', Text(length=254), nullable=False),
        sa.Column('locale', Text(length=16), nullable=False),
        sa.Column('status', Text(length=8), nullable=False),
        sa.Column('error', Text(length=255), nullable=False),
        sa.Column('created_at', Time(), nullable=False),
        sa.Column('updated_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_push_recipient_push_id', 'push_recipient', ['push_id'])
    op.create_index('ix_push_recipient_audit_event_id', 'push_recipient', ['audit_event_id'])
    op.create_index('ix_push_recipient_created_at', 'push_recipient', ['created_at'])

    op.create_table(
        'mail_outbox',
        sa.Column('id', Text(length=32), nullable=False),
        sa.Column('purpose', Text(length=24), nullable=False),
        sa.Column('recipient', Text(length=254), nullable=False),
        _user('SET NULL', nullable=True),
        sa.Column('recipient_id', sa.Integer(), sa.ForeignKey('push_recipient.id', ondelete='SET NULL'), nullable=True),
        sa.Column('push_id', sa.String(length=32), sa.ForeignKey('push.id', ondelete='CASCADE'), nullable=True),
        sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
        sa.Column('message_sealed', sa.LargeBinary(), nullable=True),
        sa.Column('status', Text(length=8), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', Time(), nullable=False),
        sa.Column('lease_until', Time(), nullable=True),
        sa.Column('lease_holder', Text(length=64), nullable=True),
        sa.Column('last_error', Text(length=255), nullable=False),
        sa.Column('created_at', Time(), nullable=False),
        sa.Column('updated_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_mail_outbox_user_id', 'mail_outbox', ['user_id'])
    op.create_index('ix_mail_outbox_push_id', 'mail_outbox', ['push_id'])
    op.create_index('ix_mail_outbox_status_next_attempt_at', 'mail_outbox', ['status', 'next_attempt_at'])

    op.create_table(
        'account_token',
        sa.Column('digest', Text(length=64), nullable=False),
        _user(),
        sa.Column('purpose', Text(length=8), nullable=False),
        sa.Column('new_email', Text(length=254), nullable=True),
        sa.Column('expires_at', Time(), nullable=False),
        sa.Column('created_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('digest'),
    )
    op.create_index('ix_account_token_user_id', 'account_token', ['user_id'])
    op.create_index('ix_account_token_expires_at', 'account_token', ['expires_at'])

    op.create_table(
        'notice_preference',
        sa.Column('user_id', sa.String(length=32), sa.ForeignKey('pwpush_user.id', ondelete='CASCADE'), nullable=False),
        sa.Column('on_view', sa.Boolean(), nullable=False),
        sa.Column('on_failed_passphrase', sa.Boolean(), nullable=False),
        sa.Column('on_expire', sa.Boolean(), nullable=False),
        sa.Column('daily_digest', sa.Boolean(), nullable=False),
        sa.Column('digest_due_at', Time(), nullable=True),
        sa.Column('updated_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('user_id'),
    )

    op.create_table(
        'owner_event',
        sa.Column('id', sa.Integer(), nullable=False),
        _user(),
        sa.Column('push_id', sa.String(length=32), sa.ForeignKey('push.id', ondelete='CASCADE'), nullable=False),
        sa.Column('kind', Text(length=20), nullable=False),
        sa.Column('ip', Text(length=64), nullable=False),
        sa.Column('user_agent', Text(length=255), nullable=False),
        sa.Column('by_owner', sa.Boolean(), nullable=False),
        sa.Column('views_left', sa.Integer(), nullable=False),
        sa.Column('in_digest', sa.Boolean(), nullable=False),
        sa.Column('created_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_owner_event_user_id', 'owner_event', ['user_id'])
    op.create_index('ix_owner_event_push_id', 'owner_event', ['push_id'])
    op.create_index('ix_owner_event_in_digest', 'owner_event', ['in_digest'])

    op.create_table(
        'webhook',
        sa.Column('id', Text(length=32), nullable=False),
        _user(),
        sa.Column('display', Text(length=300), nullable=False),
        sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
        sa.Column('url_sealed', sa.LargeBinary(), nullable=False),
        sa.Column('secret_sealed', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', Time(), nullable=False),
        sa.Column('secret_created_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_user_id', 'webhook', ['user_id'])

    op.create_table(
        'webhook_delivery',
        sa.Column('id', Text(length=32), nullable=False),
        sa.Column('webhook_id', sa.String(length=32), sa.ForeignKey('webhook.id', ondelete='CASCADE'), nullable=False),
        sa.Column('event', Text(length=32), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', Text(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', Time(), nullable=False),
        sa.Column('lease_until', Time(), nullable=True),
        sa.Column('lease_holder', Text(length=64), nullable=True),
        sa.Column('response_status', sa.Integer(), nullable=True),
        sa.Column('last_error', Text(length=255), nullable=False),
        sa.Column('created_at', Time(), nullable=False),
        sa.Column('updated_at', Time(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_delivery_webhook_id', 'webhook_delivery', ['webhook_id'])
    op.create_index('ix_webhook_delivery_created_at', 'webhook_delivery', ['created_at'])
    op.create_index('ix_webhook_delivery_status_next_attempt_at', 'webhook_delivery', ['status', 'next_attempt_at'])


def downgrade() -> None:
    for table in ('webhook_delivery', 'webhook', 'owner_event', 'notice_preference', 'account_token', 'mail_outbox',
                  'push_recipient'):
        op.drop_table(table)
    with op.batch_alter_table('pwpush_user', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
