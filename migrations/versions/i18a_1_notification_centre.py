"""notification centre: a notification's kind, per-person notification settings, cases opened;
an extension's floor on the resolve deadline (cases.extended_until)

Revision ID: i18a_1
Revises: i17b_2
Create Date: 2026-12-07 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = 'i18a_1'
down_revision = 'i17b_2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=32), nullable=True))
    op.create_table(
        'notification_setting',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), primary_key=True),
        sa.Column('channels', sa.JSON(), nullable=False),
        sa.Column('kinds', sa.JSON(), nullable=False),
        sa.Column('webhook_url', sa.String(length=500), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'case_view',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), primary_key=True),
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('cases.id'), primary_key=True),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_case_view_case_id', 'case_view', ['case_id'])
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extended_until', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('extended_until')
    op.drop_index('ix_case_view_case_id', table_name='case_view')
    op.drop_table('case_view')
    op.drop_table('notification_setting')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('kind')
