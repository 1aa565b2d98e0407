"""the analyst's 研判意见 and 处置建议 for a special report (专报)

Revision ID: i18b_1
Revises: i23_2
Create Date: 2026-12-07 21:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i18b_1'
down_revision = 'i23_2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'special_report_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('assessment', sa.Text(), nullable=False),
        sa.Column('recommendation', sa.Text(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name='fk_special_report_note_updated_by_id'),
        sa.PrimaryKeyConstraint('id', name='pk_special_report_note'),
        sa.UniqueConstraint('key', name='uq_special_report_note_key'),
    )


def downgrade():
    op.drop_table('special_report_note')
