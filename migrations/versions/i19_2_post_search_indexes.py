"""post search at 10 M posts: pg_trgm and characters GIN indexes on lower(text) (PostgreSQL only);
alert.post_id indexed (archiving a batch of posts checks that no alert names them); a partial index
for the console's open escalated cases; the unused GIN index on the jieba tokens dropped

Revision ID: i19_2
Revises: i22d_1
Create Date: 2026-12-07 23:55:00

SQLite keeps searching with LIKE over the table (opinion.topics.search); nothing changes there.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i19_2'
down_revision = 'i22d_1'
branch_labels = None
depends_on = None


ESCALATED_OPEN = "escalation_level >= 2 AND closed_at IS NULL"


def upgrade():
    op.create_index(op.f('ix_alert_post_id'), 'alert', ['post_id'], unique=False)
    op.create_index('ix_case_escalated_open', 'cases', ['acknowledge_due_at'], unique=False,
                    postgresql_where=sa.text(ESCALATED_OPEN), sqlite_where=sa.text(ESCALATED_OPEN))
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX IF NOT EXISTS ix_post_text_trgm ON post USING gin (lower(text) gin_trgm_ops)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_post_text_chars ON post USING gin (regexp_split_to_array(lower(text), ''))")
    # search no longer matches the jieba tokens (it missed 梧桐 in 老梧桐树): nothing reads this index,
    # and every insert paid for it
    op.execute("DROP INDEX IF EXISTS ix_post_tokens_gin")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE INDEX IF NOT EXISTS ix_post_tokens_gin ON post USING gin (CAST(tokens AS JSONB))")
        op.execute("DROP INDEX IF EXISTS ix_post_text_chars")
        op.execute("DROP INDEX IF EXISTS ix_post_text_trgm")
    op.drop_index('ix_case_escalated_open', table_name='cases')
    op.drop_index(op.f('ix_alert_post_id'), table_name='alert')
