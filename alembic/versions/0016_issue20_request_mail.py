"""requests (issue 20): the requester may turn off the mail on answer, per request

Revision ID: 0016_issue20
Revises: 0015_issue20
Create Date: 2026-12-01 06:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0016_issue20'
# Chained on 0015; helper A's 0016_issue20 (if any) goes between: the lead re-chains.
down_revision: Union[str, None] = '0015_issue20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Existing requests keep what they had: the mail on answer.
    with op.batch_alter_table('secret_request') as batch_op:
        batch_op.add_column(sa.Column('notify_by_email', sa.Boolean(), nullable=False, server_default=sa.true()))
    # The default filled the existing rows; new ones get theirs from the model, as every column.
    with op.batch_alter_table('secret_request') as batch_op:
        batch_op.alter_column('notify_by_email', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('secret_request') as batch_op:
        batch_op.drop_column('notify_by_email')
