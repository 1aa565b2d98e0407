"""personal API tokens

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _utc_now():
    """The server default for created_at: the current time in UTC, as the model's utcnow() writes
    it (naive UTC). PostgreSQL's CURRENT_TIMESTAMP would be converted to the session's zone."""
    if op.get_bind().dialect.name == "postgresql":
        return sa.text("(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')")
    return sa.text("CURRENT_TIMESTAMP")  # SQLite's is UTC


def upgrade():
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False, server_default=_utc_now()),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_api_token_user_id'),
    sa.PrimaryKeyConstraint('id', name='pk_api_token'),
    sa.UniqueConstraint('token_hash', name='uq_api_token_token_hash')
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
