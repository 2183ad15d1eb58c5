"""Analytics: every search, clicks and other customer events; a reason with a 'not helpful' vote

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 05:05:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('searches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('visitor', sa.String(length=64), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('searched', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=16), nullable=False),
    sa.Column('results', sa.Integer(), nullable=False),
    sa.Column('top_article', sa.String(length=200), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('confident', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_searches')),
    sa.UniqueConstraint('token', name=op.f('uq_searches_token'))
    )
    with op.batch_alter_table('searches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_searches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_searches_visitor'), ['visitor'], unique=False)

    op.create_table('analytics_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('visitor', sa.String(length=64), nullable=False),
    sa.Column('search_token', sa.String(length=32), nullable=False),
    sa.Column('article_id', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.Column('ticket_ref', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_events'))
    )
    with op.batch_alter_table('analytics_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_events_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_events_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_events_search_token'), ['search_token'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_events_article_id'), ['article_id'], unique=False)

    op.create_table('insight_days',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('tickets', sa.Integer(), nullable=False),
    sa.Column('solved', sa.Integer(), nullable=False),
    sa.Column('followed_sessions', sa.Integer(), nullable=False),
    sa.Column('contacted_sessions', sa.Integer(), nullable=False),
    sa.Column('effort_answers', sa.Integer(), nullable=False),
    sa.Column('effort_total', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_insight_days'))
    )
    op.create_table('search_days',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('lang', sa.String(length=16), nullable=False),
    sa.Column('searches', sa.Integer(), nullable=False),
    sa.Column('confident', sa.Integer(), nullable=False),
    sa.Column('clicked', sa.Integer(), nullable=False),
    sa.Column('best_confidence', sa.Float(), nullable=False),
    sa.Column('top_article', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('day', 'text', name=op.f('pk_search_days'))
    )
    op.create_index('ix_article_views_visitor_created_at', 'article_views', ['visitor', 'created_at'], unique=False)

    # Columns added, never a table rebuilt.
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('deflections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_token', sa.String(length=32), nullable=False, server_default=''))


def downgrade() -> None:
    op.drop_index('ix_article_views_visitor_created_at', table_name='article_views')
    op.drop_table('search_days')
    op.drop_table('insight_days')
    op.drop_column('deflections', 'search_token')
    op.drop_column('votes', 'reason')
    op.drop_table('analytics_events')
    op.drop_table('searches')
