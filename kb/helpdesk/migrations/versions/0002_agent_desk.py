"""Agent desk: staff groups, routing and predicted category on tickets, category changes, linked articles

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:12:40.118204
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_group', sa.String(length=64), nullable=False, server_default=''))

    # Columns are only added (never a table rebuilt): other tables' foreign keys point at tickets.
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('predicted_category', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('agent_group', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('last_customer_at', sa.DateTime(), nullable=False,
                                      server_default='1970-01-01 00:00:00'))
    # Existing tickets: the customer's last word is their last event, else the filing.
    tickets = sa.table('tickets', sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime),
                       sa.column('last_customer_at', sa.DateTime))
    events = sa.table('ticket_events', sa.column('ticket_id', sa.Integer), sa.column('author_kind', sa.String),
                      sa.column('created_at', sa.DateTime))
    latest = (sa.select(sa.func.max(events.c.created_at))
              .where(events.c.ticket_id == tickets.c.id, events.c.author_kind == 'customer').scalar_subquery())
    op.execute(tickets.update().values(last_customer_at=sa.func.coalesce(latest, tickets.c.created_at)))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_agent_group'), ['agent_group'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_last_customer_at'), ['last_customer_at'], unique=False)

    op.create_table('category_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('predicted', sa.String(length=64), nullable=False),
    sa.Column('category_from', sa.String(length=64), nullable=False),
    sa.Column('category_to', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_category_changes_author_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_category_changes_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_changes'))
    )
    with op.batch_alter_table('category_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_changes_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('article_id', sa.String(length=200), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_ticket_articles_author_id_users')),
    sa.ForeignKeyConstraint(['event_id'], ['ticket_events.id'], name=op.f('fk_ticket_articles_event_id_ticket_events')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_articles_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_articles'))
    )
    with op.batch_alter_table('ticket_articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_articles_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_articles_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_articles_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_articles_article_id'))
    op.drop_table('ticket_articles')
    with op.batch_alter_table('category_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_changes_ticket_id'))
    op.drop_table('category_changes')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_last_customer_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_agent_group'))
        batch_op.drop_column('last_customer_at')
        batch_op.drop_column('agent_group')
        batch_op.drop_column('predicted_category')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('agent_group')
