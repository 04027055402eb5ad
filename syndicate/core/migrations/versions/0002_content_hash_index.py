"""content hash index; the sanitise policy each article's HTML was cleaned with

The importer looks an article up by its content hash for every file it reads (to
follow a renamed file): without an index that is a scan of the whole table, so an
import grew quadratic. ``sanitized_with`` records the sanitise policy the stored HTML
went through, so the feed builder can use it as stored and re-clean only rows written
under another policy (or by other means).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sanitized_with", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_articles_content_hash"), ["content_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_content_hash"))
        batch_op.drop_column("sanitized_with")
