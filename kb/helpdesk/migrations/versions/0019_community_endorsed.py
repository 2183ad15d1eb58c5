"""Community answers an agent endorsed (searched beside the articles)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 17:05:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('community_answers') as batch:
        batch.add_column(sa.Column('endorsed', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('community_answers') as batch:
        batch.drop_column('endorsed')
