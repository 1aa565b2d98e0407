"""failed_jobs: queued tasks that failed their last retry, for the admin

Revision ID: i19_1
Revises: i18a_1
Create Date: 2026-12-07 21:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'i19_1'
down_revision = 'i18a_1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'failed_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=64), nullable=False),
        sa.Column('task', sa.String(length=64), nullable=False),
        sa.Column('queue', sa.String(length=32), nullable=False),
        sa.Column('arguments', sa.JSON(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('failed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id'),
    )
    with op.batch_alter_table('failed_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_failed_jobs_task', ['task'], unique=False)
        batch_op.create_index('ix_failed_jobs_failed_at', ['failed_at'], unique=False)


def downgrade():
    op.drop_table('failed_jobs')
