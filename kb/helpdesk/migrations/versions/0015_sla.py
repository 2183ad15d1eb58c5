"""Ticket priorities and SLA clocks: priority and predicted priority, due times and when they were met

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 11:15:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns are only added (never a table rebuilt): other tables' foreign keys point at tickets.
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.String(length=2), nullable=False, server_default='P3'))
        batch_op.add_column(sa.Column('predicted_priority', sa.String(length=2), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('first_response_due', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolution_due', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sla_due_at', sa.DateTime(), nullable=True))
    # Existing tickets: the first reply support wrote, and when a resolved ticket was last resolved. Their due times
    # depend on the settings: `kb sla refresh` computes them.
    tickets = sa.table('tickets', sa.column('id', sa.Integer), sa.column('status', sa.String),
                       sa.column('first_response_at', sa.DateTime), sa.column('resolved_at', sa.DateTime))
    events = sa.table('ticket_events', sa.column('ticket_id', sa.Integer), sa.column('kind', sa.String),
                      sa.column('author_kind', sa.String), sa.column('status_to', sa.String),
                      sa.column('created_at', sa.DateTime))
    first_reply = (sa.select(sa.func.min(events.c.created_at))
                   .where(events.c.ticket_id == tickets.c.id, events.c.kind == 'reply',
                          events.c.author_kind == 'agent').scalar_subquery())
    resolved = (sa.select(sa.func.max(events.c.created_at))
                .where(events.c.ticket_id == tickets.c.id, events.c.status_to == 'resolved').scalar_subquery())
    op.execute(tickets.update().values(first_response_at=first_reply))
    op.execute(tickets.update().where(tickets.c.status == 'resolved').values(resolved_at=resolved))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_status_sla_due_at', ['status', 'sla_due_at', 'last_customer_at'],
                              unique=False)
        batch_op.create_index('ix_tickets_priority_status_sla_due_at',
                              ['priority', 'status', 'sla_due_at', 'last_customer_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_priority_status_sla_due_at')
        batch_op.drop_index('ix_tickets_status_sla_due_at')
        for column in ('sla_due_at', 'resolved_at', 'resolution_due', 'first_response_at', 'first_response_due',
                       'predicted_priority', 'priority'):
            batch_op.drop_column(column)
