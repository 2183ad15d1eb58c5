"""A search names its typing session; deflections are indexed by the search they name (a typing session's
earlier searches are replaced unless something names them)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('searches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session', sa.String(length=32), nullable=False, server_default=''))
    with op.batch_alter_table('deflections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deflections_search_token'), ['search_token'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deflections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deflections_search_token'))
    with op.batch_alter_table('searches', schema=None) as batch_op:
        batch_op.drop_column('session')
