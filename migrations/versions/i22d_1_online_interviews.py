"""online interviews (在线访谈): the interview and its questions

Revision ID: i22d_1
Revises: i22b_1
Create Date: 2026-12-07 23:33:27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i22d_1'
down_revision = 'i22b_1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('interview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('guest_name', sa.String(length=64), nullable=False),
    sa.Column('guest_title', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.Text(), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name='fk_interview_created_by_id_users'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name='fk_interview_unit_id_unit'),
    sa.PrimaryKeyConstraint('id', name='pk_interview'),
    sa.UniqueConstraint('slug', name='uq_interview_slug')
    )
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_scheduled_at'), ['scheduled_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_unit_id'), ['unit_id'], unique=False)
    op.create_table('interview_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('original_text', sa.Text(), nullable=False),
    sa.Column('nickname', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('simhash', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('screening_note', sa.Text(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('screened_by_id', sa.Integer(), nullable=True),
    sa.Column('screened_at', sa.DateTime(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name='fk_interview_question_answered_by_id_users'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name='fk_interview_question_case_id_cases'),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name='fk_interview_question_interview_id_interview'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['interview_question.id'], name='fk_interview_question_merged_into_id_interview_question'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name='fk_interview_question_post_id_post'),
    sa.ForeignKeyConstraint(['screened_by_id'], ['users.id'], name='fk_interview_question_screened_by_id_users'),
    sa.PrimaryKeyConstraint('id', name='pk_interview_question')
    )
    with op.batch_alter_table('interview_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_question_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_question_interview_id'), ['interview_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_question_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('interview_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_question_status'))
        batch_op.drop_index(batch_op.f('ix_interview_question_interview_id'))
        batch_op.drop_index(batch_op.f('ix_interview_question_case_id'))

    op.drop_table('interview_question')
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_unit_id'))
        batch_op.drop_index(batch_op.f('ix_interview_status'))
        batch_op.drop_index(batch_op.f('ix_interview_scheduled_at'))

    op.drop_table('interview')
