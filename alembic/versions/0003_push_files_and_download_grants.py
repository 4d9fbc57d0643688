"""push files and download grants

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 11:38:43.483139
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('download_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('push_id', sa.String(length=32), nullable=False),
    sa.Column('token_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('last_view', sa.Boolean(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['push_id'], ['push.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('download_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_download_grant_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_download_grant_push_id'), ['push_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_download_grant_token_digest'), ['token_digest'], unique=True)

    op.create_table('push_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('push_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=127), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('blob_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('downloaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('blob_deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['push_id'], ['push.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('push_id', 'position', name='uq_push_file_position')
    )
    with op.batch_alter_table('push_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_file_blob_deleted'), ['blob_deleted'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_file_push_id'), ['push_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('push_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_file_push_id'))
        batch_op.drop_index(batch_op.f('ix_push_file_blob_deleted'))

    op.drop_table('push_file')
    with op.batch_alter_table('download_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_download_grant_token_digest'))
        batch_op.drop_index(batch_op.f('ix_download_grant_push_id'))
        batch_op.drop_index(batch_op.f('ix_download_grant_expires_at'))

    op.drop_table('download_grant')
