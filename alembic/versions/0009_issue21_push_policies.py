"""push policies (issue 21): an address allow-list, burn after N wrong passphrases, earlier views

Only columns are added, all nullable: existing pushes keep every behaviour (no allow-list,
no burn, their earlier views unknown until the next one).

Revision ID: 0009_issue21
Revises: 0008_issue18
Create Date: 2026-12-01 00:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009_issue21'
down_revision: Union[str, None] = '0008_issue18'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = sqlmodel.sql.sqltypes.UTCDateTime

COLUMNS = (
    ('allowed_ips', lambda: Text(length=1000)),
    ('burn_after_failed_passphrases', sa.Integer),
    ('first_viewed_at', Time),
    ('last_viewed_at', Time),
    ('previous_viewed_at', Time),
)


def upgrade() -> None:
    # add_column needs no table copy on SQLite (batch mode only copies for what ALTER can't do).
    with op.batch_alter_table('push', schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('push', schema=None) as batch_op:
        for name, _kind in reversed(COLUMNS):
            batch_op.drop_column(name)
