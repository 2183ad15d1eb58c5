"""Ticket owners (and the owners an "assigned" event moved between); who has a ticket open on the desk

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 11:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


# (table, column, constraint name): each a nullable reference to a user.
_OWNER_COLUMNS = (('tickets', 'owner_id', 'fk_tickets_owner_id_users'),
                  ('ticket_events', 'owner_from_id', 'fk_ticket_events_owner_from_id_users'),
                  ('ticket_events', 'owner_to_id', 'fk_ticket_events_owner_to_id_users'))


def upgrade() -> None:
    for table, column, constraint in _OWNER_COLUMNS:
        if op.get_bind().dialect.name == 'sqlite':
            # SQLite adds a column with its reference in place; a batch copy would have to drop `tickets`, which
            # the other tables' foreign keys forbid once it holds rows.
            op.execute(f'ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT {constraint} '
                       'REFERENCES users (id)')
        else:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(constraint, table, 'users', [column], ['id'])
    op.create_index(op.f('ix_tickets_owner_id'), 'tickets', ['owner_id'], unique=False)
    op.create_table('ticket_presence',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_presence_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ticket_presence_user_id_users')),
    sa.PrimaryKeyConstraint('ticket_id', 'user_id', name=op.f('pk_ticket_presence'))
    )
    with op.batch_alter_table('ticket_presence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_presence_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_presence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_presence_seen_at'))
    op.drop_table('ticket_presence')
    op.drop_index(op.f('ix_tickets_owner_id'), table_name='tickets')
    for table, column, constraint in reversed(_OWNER_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if op.get_bind().dialect.name != 'sqlite':  # (SQLite does not name a reference added with a column)
                batch_op.drop_constraint(constraint, type_='foreignkey')
            batch_op.drop_column(column)
