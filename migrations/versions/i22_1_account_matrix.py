"""account matrix (政务微博矩阵): the units' official accounts and their own posts

Revision ID: i22_1
Revises: i18b_1
Create Date: 2026-12-07 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i22_1'
down_revision = 'i18b_1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('official_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('handle', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('responsible', sa.String(length=64), nullable=True),
    sa.Column('responsible_phone', sa.String(length=32), nullable=True),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('interval_seconds', sa.Integer(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('last_run_at', sa.DateTime(), nullable=True),
    sa.Column('last_success_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failure_count', sa.Integer(), nullable=False),
    sa.Column('followers', sa.Integer(), nullable=True),
    sa.Column('posts_total', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name='fk_official_account_unit_id_unit'),
    sa.PrimaryKeyConstraint('id', name='pk_official_account'),
    sa.UniqueConstraint('platform', 'handle', name='uq_official_account_platform_handle')
    )
    with op.batch_alter_table('official_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_official_account_unit_id'), ['unit_id'], unique=False)

    op.create_table('official_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('collected_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('reposts', sa.Integer(), nullable=False),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['official_account.id'], name='fk_official_post_account_id_official_account'),
    sa.PrimaryKeyConstraint('id', name='pk_official_post'),
    sa.UniqueConstraint('account_id', 'external_id', name='uq_official_post_account_external')
    )
    with op.batch_alter_table('official_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_official_post_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_official_post_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('official_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_official_post_created_at'))
        batch_op.drop_index(batch_op.f('ix_official_post_account_id'))
    op.drop_table('official_post')
    with op.batch_alter_table('official_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_official_account_unit_id'))
    op.drop_table('official_account')
