"""article audio attachments (podcast enclosures)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("audio_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("audio_type", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("audio_length", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("audio_duration", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("audio_duration")
        batch.drop_column("audio_length")
        batch.drop_column("audio_type")
        batch.drop_column("audio_url")
