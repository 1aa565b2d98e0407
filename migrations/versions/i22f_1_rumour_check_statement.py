"""rumour_check.statement_id: a verification's refutation names the unit statement it was, rather
than being found again by its published link (two statements could share one, a link can change)

Revision ID: i22f_1
Revises: i19_2
Create Date: 2026-12-08 00:40:00

Existing verifications are linked by matching their refutation link against the unit's published
statements, as the code did before; the link stays for a refutation posted on the platform directly.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i22f_1'
down_revision = 'i19_2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rumour_check', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statement_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_rumour_check_statement_id_unit_statement'),
                                    'unit_statement', ['statement_id'], ['id'])
    op.execute("""
        UPDATE rumour_check SET statement_id = (
            SELECT s.id FROM unit_statement s JOIN official_account a ON a.id = s.account_id
            WHERE a.unit_id = rumour_check.unit_id AND s.status = 'published'
              AND s.published_url = rumour_check.refutation_url
            ORDER BY s.published_at, s.id LIMIT 1)
        WHERE refutation_url IS NOT NULL""")


def downgrade():
    with op.batch_alter_table('rumour_check', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rumour_check_statement_id_unit_statement'), type_='foreignkey')
        batch_op.drop_column('statement_id')
