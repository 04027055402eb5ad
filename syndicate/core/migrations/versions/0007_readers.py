"""readers' choice: topics per subscription, edition variants, private feed key

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "edition_variants",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("edition_id", ID, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("article_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_variants_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edition_variants")),
        sa.UniqueConstraint("edition_id", "key", name="uq_edition_variants_edition_key"),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("variant_id", ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_deliveries_variant_id_edition_variants"),
            "edition_variants",
            ["variant_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("topics", sa.Text(), nullable=True))
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("feed_key", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("feed_key")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("topics")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f("fk_deliveries_variant_id_edition_variants"), type_="foreignkey")
        batch.drop_column("variant_id")
    op.drop_table("edition_variants")
