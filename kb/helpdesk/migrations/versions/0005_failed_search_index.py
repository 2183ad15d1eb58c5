"""On SQLite, an index of the searches that were not confident, by text (kb gaps)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite only: see SearchRecord in kb/helpdesk/models.py.
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('ix_searches_failed_text', 'searches', ['searched', 'query', 'created_at'], unique=False,
                        sqlite_where=sa.text('confident = 0'))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.drop_index('ix_searches_failed_text', table_name='searches')
