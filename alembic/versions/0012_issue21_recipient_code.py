"""verify the recipient (issue 21): a code mailed to the address the sender named

Four nullable columns: the address (sealed under the push's data key), the pending
code's keyed hash, when it stops working, and when the last code was sent. Existing
pushes verify nobody.

Revision ID: 0012_issue21
Revises: 0011_issue21
Create Date: 2026-12-01 02:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012_issue21'
down_revision: Union[str, None] = '0011_issue21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verify_email_sealed', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('verify_code_digest', Text(length=64), nullable=True))
        batch_op.add_column(sa.Column('verify_code_expires_at', Time(), nullable=True))
        batch_op.add_column(sa.Column('verify_code_sent_at', Time(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.drop_column('verify_code_sent_at')
        batch_op.drop_column('verify_code_expires_at')
        batch_op.drop_column('verify_code_digest')
        batch_op.drop_column('verify_email_sealed')
