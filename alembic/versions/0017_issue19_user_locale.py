"""languages (issue 19): each account's language, for the mails it gets

Revision ID: 0017_issue19
Revises: 0016_issue20
Create Date: 2026-12-01 11:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0017_issue19'
down_revision: Union[str, None] = '0016_issue20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Existing accounts: "" (the site's default language, PWP__DEFAULT_LOCALE) until they log in again.
    with op.batch_alter_table('pwpush_user') as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=False, server_default=''))
    with op.batch_alter_table('pwpush_user') as batch_op:
        batch_op.alter_column('locale', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('pwpush_user') as batch_op:
        batch_op.drop_column('locale')
