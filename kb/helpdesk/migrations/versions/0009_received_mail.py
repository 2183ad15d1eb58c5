"""Received e-mail by Message-ID (a message delivered twice is handled once)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('received_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('sender', sa.String(length=254), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_received_mail_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_received_mail')),
    sa.UniqueConstraint('message_id', name=op.f('uq_received_mail_message_id'))
    )
    with op.batch_alter_table('received_mail', schema=None) as batch_op:
        batch_op.create_index('ix_received_mail_sender_received_at', ['sender', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_received_mail_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('received_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_received_mail_ticket_id'))
        batch_op.drop_index('ix_received_mail_sender_received_at')
    op.drop_table('received_mail')
