"""unit statements (统一发布稿): what a unit publishes from its own account

Revision ID: i22b_1
Revises: i22c_1
Create Date: 2026-12-07 22:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i22b_1'
down_revision = 'i22c_1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('unit_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('published_url', sa.String(length=1000), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['official_account.id'], name='fk_unit_statement_account_id_official_account'),
    sa.ForeignKeyConstraint(['approver_id'], ['users.id'], name='fk_unit_statement_approver_id_users'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name='fk_unit_statement_author_id_users'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name='fk_unit_statement_case_id_cases'),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name='fk_unit_statement_topic_id_topic'),
    sa.PrimaryKeyConstraint('id', name='pk_unit_statement')
    )
    with op.batch_alter_table('unit_statement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_statement_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_statement_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_statement_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_statement_topic_id'), ['topic_id'], unique=False)


def downgrade():
    with op.batch_alter_table('unit_statement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_statement_topic_id'))
        batch_op.drop_index(batch_op.f('ix_unit_statement_status'))
        batch_op.drop_index(batch_op.f('ix_unit_statement_case_id'))
        batch_op.drop_index(batch_op.f('ix_unit_statement_account_id'))
    op.drop_table('unit_statement')
