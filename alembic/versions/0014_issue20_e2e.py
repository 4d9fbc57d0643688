"""end-to-end pushes (issue 20): the push records that its payload is an envelope

One boolean column: the payload is an envelope encrypted in the sender's browser or client
(core/e2e.py), opened only by the key in the link's fragment. Existing pushes are not.

Revision ID: 0014_issue20
Revises: 0013_issue18
Create Date: 2026-12-01 03:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0014_issue20'
down_revision: Union[str, None] = '0013_issue18'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_to_end', sa.Boolean(), nullable=False, server_default=sa.false()))
    # The default filled the existing rows; new ones get theirs from the model, as every column.
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.alter_column('end_to_end', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.drop_column('end_to_end')
