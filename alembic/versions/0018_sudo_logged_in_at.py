"""sudo mode: when a session's login proved the account's credentials

Revision ID: 0018_sudo
Revises: 0017_issue19
Create Date: 2026-12-04 10:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018_sudo'
down_revision: Union[str, None] = '0017_issue19'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Existing sessions: NULL (how they were opened is not known), so adding a passkey or an API
    # token from one asks for a new login first; every other use of the session goes on.
    with op.batch_alter_table('session') as batch_op:
        batch_op.add_column(sa.Column('logged_in_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('session') as batch_op:
        batch_op.drop_column('logged_in_at')
