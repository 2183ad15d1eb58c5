"""Ticket search: the tickets' analysed words with a full-text index, the subject fixed for keyboard layout, and
indexes for the queue's filters and order

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 11:10:00.000000

Tickets filed before this revision are not in the index until `kb tickets reindex` is run.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# SQLite: an FTS5 table reading its text from ticket_search (external content), kept in step by triggers.
# The terms are analysed already; unicode61 only splits them on spaces and leaves them as they are.
_SQLITE_UP = [
    "CREATE VIRTUAL TABLE ticket_search_fts USING fts5(terms, content='ticket_search', content_rowid='ticket_id', "
    "tokenize=\"unicode61 remove_diacritics 0\")",
    "CREATE TRIGGER ticket_search_ai AFTER INSERT ON ticket_search BEGIN "
    "INSERT INTO ticket_search_fts(rowid, terms) VALUES (new.ticket_id, new.terms); END",
    "CREATE TRIGGER ticket_search_ad AFTER DELETE ON ticket_search BEGIN "
    "INSERT INTO ticket_search_fts(ticket_search_fts, rowid, terms) VALUES ('delete', old.ticket_id, old.terms); END",
    "CREATE TRIGGER ticket_search_au AFTER UPDATE ON ticket_search BEGIN "
    "INSERT INTO ticket_search_fts(ticket_search_fts, rowid, terms) VALUES ('delete', old.ticket_id, old.terms); "
    "INSERT INTO ticket_search_fts(rowid, terms) VALUES (new.ticket_id, new.terms); END",
]
_SQLITE_DOWN = ["DROP TRIGGER ticket_search_au", "DROP TRIGGER ticket_search_ad", "DROP TRIGGER ticket_search_ai",
                "DROP TABLE ticket_search_fts"]
# PostgreSQL: the tsvector stored beside the terms (ts_rank reads it instead of parsing every matching row's terms
# again: 10 times faster at 100,000 tickets, bench/desk_queue.py), with a GIN index.
_POSTGRESQL_UP = ["ALTER TABLE ticket_search ADD COLUMN terms_vector tsvector "
                  "GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED",
                  "CREATE INDEX ix_ticket_search_terms ON ticket_search USING gin (terms_vector)"]
_POSTGRESQL_DOWN = ["DROP INDEX ix_ticket_search_terms", "ALTER TABLE ticket_search DROP COLUMN terms_vector"]


def _run(statements: dict[str, list[str]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_fixed', sa.String(length=200), nullable=False, server_default=''))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_status_last_customer_at', ['status', 'last_customer_at', 'created_at',
                                                                     'sla_due_at', 'owner_id', 'agent_group'],
                              unique=False)
        batch_op.create_index('ix_tickets_category_status', ['category', 'status', 'sla_due_at', 'last_customer_at',
                                                             'owner_id', 'agent_group'], unique=False)
        batch_op.create_index('ix_tickets_agent_group_status', ['agent_group', 'status', 'sla_due_at',
                                                                'last_customer_at', 'owner_id'], unique=False)
    op.create_table('ticket_search',
    sa.Column('ticket_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_search_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_search'))
    )
    _run({"sqlite": _SQLITE_UP, "postgresql": _POSTGRESQL_UP})


def downgrade() -> None:
    _run({"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRESQL_DOWN})
    op.drop_table('ticket_search')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for name in ('ix_tickets_agent_group_status', 'ix_tickets_category_status',
                     'ix_tickets_status_last_customer_at'):
            batch_op.drop_index(name)
        batch_op.drop_column('subject_fixed')
