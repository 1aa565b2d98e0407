"""session versions (log-out ends every copy of a session) and login checks counted atomically

Revision ID: i17b_1
Revises: 0004
Create Date: 2026-12-07 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i17b_1'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'login_throttle',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=80), nullable=False),
        sa.Column('checks', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account', 'address', name='uq_login_throttle_account_address'),
    )


def downgrade():
    op.drop_table('login_throttle')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
