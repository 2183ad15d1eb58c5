"""Macros: agents' saved replies

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('macros',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('article_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_macros_owner_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_macros_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_macros'))
    )
    op.create_index(op.f('ix_macros_owner_id'), 'macros', ['owner_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_macros_owner_id'), table_name='macros')
    op.drop_table('macros')
