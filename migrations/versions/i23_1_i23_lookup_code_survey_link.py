"""cases get a public lookup code (查询码) and a contact phone; survey links for the citizen's 回访

Revision ID: i23_1
Revises: i19_1
Create Date: 2026-12-07 20:35:21.963677

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i23_1'
down_revision = 'i19_1'
branch_labels = None
depends_on = None

# The same alphabet and length as opinion.models.cases (copied: a migration stays as written).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10


def upgrade():
    op.create_table('survey_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('satisfaction', sa.String(length=16), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name='fk_survey_link_case_id'),
    sa.PrimaryKeyConstraint('id', name='pk_survey_link'),
    sa.UniqueConstraint('token', name='uq_survey_link_token')
    )
    with op.batch_alter_table('survey_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_link_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lookup_code', sa.String(length=LENGTH), nullable=True))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=32), nullable=True))

    # Every case already there gets its code, so a citizen answered before this release can look
    # the matter up too once told the code.
    conn = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('lookup_code', sa.String))
    seen = set()
    for (case_id,) in conn.execute(sa.select(cases.c.id)).all():
        code = None
        while code is None or code in seen:
            code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        seen.add(code)
        conn.execute(cases.update().where(cases.c.id == case_id).values(lookup_code=code))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('lookup_code', existing_type=sa.String(length=LENGTH), nullable=False)
        batch_op.create_index(batch_op.f('ix_cases_lookup_code'), ['lookup_code'], unique=True)


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_lookup_code'))
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('lookup_code')

    with op.batch_alter_table('survey_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_link_case_id'))

    op.drop_table('survey_link')
