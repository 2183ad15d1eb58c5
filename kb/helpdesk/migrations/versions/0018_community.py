"""Community questions and answers: topics, questions, answers, votes, follows, edit history, reports

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 16:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('community_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_community_topics_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_topics')),
    sa.UniqueConstraint('slug', name=op.f('uq_community_topics_slug'))
    )
    op.create_index(op.f('ix_community_topics_organisation_id'), 'community_topics', ['organisation_id'], unique=False)
    op.create_table('community_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('accepted_answer_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_community_questions_author_id_users')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['community_questions.id'], name=op.f('fk_community_questions_merged_into_id_community_questions')),
    sa.ForeignKeyConstraint(['topic_id'], ['community_topics.id'], name=op.f('fk_community_questions_topic_id_community_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_questions'))
    )
    op.create_index(op.f('ix_community_questions_author_id'), 'community_questions', ['author_id'], unique=False)
    op.create_index(op.f('ix_community_questions_created_at'), 'community_questions', ['created_at'], unique=False)
    op.create_index('ix_community_questions_topic_created', 'community_questions', ['topic_id', 'created_at'], unique=False)
    op.create_index('ix_community_questions_counts', 'community_questions', ['topic_id', 'status', 'hidden', 'held', 'merged_into_id', 'author_id'], unique=False)
    op.create_table('community_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('official', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_community_answers_author_id_users')),
    sa.ForeignKeyConstraint(['question_id'], ['community_questions.id'], name=op.f('fk_community_answers_question_id_community_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_answers'))
    )
    op.create_index(op.f('ix_community_answers_author_id'), 'community_answers', ['author_id'], unique=False)
    op.create_index(op.f('ix_community_answers_question_id'), 'community_answers', ['question_id'], unique=False)
    op.create_table('community_follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['community_questions.id'], name=op.f('fk_community_follows_question_id_community_questions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_community_follows_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_follows')),
    sa.UniqueConstraint('question_id', 'user_id', name=op.f('uq_community_follows_question_id'))
    )
    op.create_index(op.f('ix_community_follows_user_id'), 'community_follows', ['user_id'], unique=False)
    op.create_table('community_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('answer_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['community_answers.id'], name=op.f('fk_community_reports_answer_id_community_answers')),
    sa.ForeignKeyConstraint(['question_id'], ['community_questions.id'], name=op.f('fk_community_reports_question_id_community_questions')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_community_reports_reporter_id_users')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_community_reports_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_reports'))
    )
    op.create_index(op.f('ix_community_reports_answer_id'), 'community_reports', ['answer_id'], unique=False)
    op.create_index(op.f('ix_community_reports_question_id'), 'community_reports', ['question_id'], unique=False)
    op.create_index(op.f('ix_community_reports_resolved'), 'community_reports', ['resolved'], unique=False)
    op.create_table('community_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('answer_id', sa.Integer(), nullable=True),
    sa.Column('editor_id', sa.Integer(), nullable=False),
    sa.Column('old_title', sa.String(length=200), nullable=False),
    sa.Column('old_body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['community_answers.id'], name=op.f('fk_community_revisions_answer_id_community_answers')),
    sa.ForeignKeyConstraint(['editor_id'], ['users.id'], name=op.f('fk_community_revisions_editor_id_users')),
    sa.ForeignKeyConstraint(['question_id'], ['community_questions.id'], name=op.f('fk_community_revisions_question_id_community_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_revisions'))
    )
    op.create_index(op.f('ix_community_revisions_answer_id'), 'community_revisions', ['answer_id'], unique=False)
    op.create_index(op.f('ix_community_revisions_question_id'), 'community_revisions', ['question_id'], unique=False)
    op.create_table('community_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['community_answers.id'], name=op.f('fk_community_votes_answer_id_community_answers')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_community_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_votes')),
    sa.UniqueConstraint('answer_id', 'user_id', name=op.f('uq_community_votes_answer_id'))
    )
    op.create_index(op.f('ix_community_votes_user_id'), 'community_votes', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_community_votes_user_id'), table_name='community_votes')
    op.drop_table('community_votes')
    op.drop_index(op.f('ix_community_revisions_question_id'), table_name='community_revisions')
    op.drop_index(op.f('ix_community_revisions_answer_id'), table_name='community_revisions')
    op.drop_table('community_revisions')
    op.drop_index(op.f('ix_community_reports_resolved'), table_name='community_reports')
    op.drop_index(op.f('ix_community_reports_question_id'), table_name='community_reports')
    op.drop_index(op.f('ix_community_reports_answer_id'), table_name='community_reports')
    op.drop_table('community_reports')
    op.drop_index(op.f('ix_community_follows_user_id'), table_name='community_follows')
    op.drop_table('community_follows')
    op.drop_index(op.f('ix_community_answers_question_id'), table_name='community_answers')
    op.drop_index(op.f('ix_community_answers_author_id'), table_name='community_answers')
    op.drop_table('community_answers')
    op.drop_index('ix_community_questions_counts', table_name='community_questions')
    op.drop_index('ix_community_questions_topic_created', table_name='community_questions')
    op.drop_index(op.f('ix_community_questions_created_at'), table_name='community_questions')
    op.drop_index(op.f('ix_community_questions_author_id'), table_name='community_questions')
    op.drop_table('community_questions')
    op.drop_index(op.f('ix_community_topics_organisation_id'), table_name='community_topics')
    op.drop_table('community_topics')
