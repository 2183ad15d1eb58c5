"""Sessions that sign-out ends (a session generation per user); tickets filed once per idempotency key

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:05:12.402117
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns are only added and the uniqueness is an index (never a table rebuilt): other tables' foreign keys
    # point at users and tickets.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
    op.create_index('uq_tickets_customer_id_idempotency_key', 'tickets', ['customer_id', 'idempotency_key'],
                    unique=True)


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later), not a batch copy: a rebuilt table would be dropped
    # while ticket events still point at it.
    op.drop_index('uq_tickets_customer_id_idempotency_key', table_name='tickets')
    op.drop_column('tickets', 'idempotency_key')
    op.drop_column('users', 'session_generation')
