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


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tickets_owner_id_users'), 'users', ['owner_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_tickets_owner_id'), ['owner_id'], unique=False)
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_from_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('owner_to_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ticket_events_owner_from_id_users'), 'users', ['owner_from_id'],
                                    ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_ticket_events_owner_to_id_users'), 'users', ['owner_to_id'], ['id'])
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
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ticket_events_owner_to_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_ticket_events_owner_from_id_users'), type_='foreignkey')
        batch_op.drop_column('owner_to_id')
        batch_op.drop_column('owner_from_id')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_owner_id'))
        batch_op.drop_constraint(batch_op.f('fk_tickets_owner_id_users'), type_='foreignkey')
        batch_op.drop_column('owner_id')
