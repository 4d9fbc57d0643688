"""recipient groups (issue 21): one secret for several recipients, a push for each

Two nullable columns: the group a push was made in (with the others for the same secret)
and the recipient it is for. Existing pushes belong to no group.

Revision ID: 0011_issue21
Revises: 0010_issue18
Create Date: 2026-12-01 00:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011_issue21'
down_revision: Union[str, None] = '0010_issue18'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', Text(length=32), nullable=True))
        batch_op.add_column(sa.Column('recipient', Text(length=254), nullable=True))
        batch_op.create_index(batch_op.f('ix_push_group_id'), ['group_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_group_id'))
        batch_op.drop_column('recipient')
        batch_op.drop_column('group_id')
