"""辟谣 workflow: a topic marked as a suspected rumour, the unit's verification and its refutation

Revision ID: i22c_1
Revises: i22_1
Create Date: 2026-12-07 22:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i22c_1'
down_revision = 'i22_1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rumour_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=True),
    sa.Column('verdict_note', sa.Text(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(), nullable=True),
    sa.Column('refutation_url', sa.String(length=1000), nullable=True),
    sa.Column('refutation_at', sa.DateTime(), nullable=True),
    sa.Column('official_post_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['official_post_id'], ['official_post.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rumour_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rumour_check_topic_id'), ['topic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rumour_check_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rumour_check_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rumour_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rumour_check_case_id'))
        batch_op.drop_index(batch_op.f('ix_rumour_check_unit_id'))
        batch_op.drop_index(batch_op.f('ix_rumour_check_topic_id'))
    op.drop_table('rumour_check')
