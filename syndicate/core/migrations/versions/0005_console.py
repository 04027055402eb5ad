"""operator console: operators, sessions, audit log, click counts, feed audience, indexes

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("setup_hash", sa.String(length=64), nullable=True),
        sa.Column("setup_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("email", name=op.f("uq_operators_email")),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", ID, nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_sessions_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_operator_sessions")),
    )
    op.create_index(op.f("ix_operator_sessions_operator_id"), "operator_sessions", ["operator_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_table(
        "link_clicks",
        sa.Column("edition_id", ID, nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_link_clicks_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("edition_id", "url_hash", name=op.f("pk_link_clicks")),
    )
    op.create_table(
        "feed_audience",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("feed", sa.String(length=400), nullable=False),
        sa.Column("agent", sa.String(length=100), nullable=False),
        sa.Column("subscribers", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "feed", "agent", name=op.f("pk_feed_audience")),
    )
    op.create_table(
        "feed_readers",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("feed", sa.String(length=400), nullable=False),
        sa.Column("reader", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day", "feed", "reader", name=op.f("pk_feed_readers")),
    )
    op.create_index("ix_deliveries_status_created", "deliveries", ["status", "created_at"])
    op.create_index("ix_deliveries_edition_status", "deliveries", ["edition_id", "status"])
    op.create_index("ix_subscribers_created_at", "subscribers", ["created_at"])
    op.create_index("ix_subscribers_confirmed_at", "subscribers", ["confirmed_at"])
    op.create_index("ix_subscribers_status_changed_at", "subscribers", ["status_changed_at"])


def downgrade() -> None:
    op.drop_index("ix_subscribers_status_changed_at", table_name="subscribers")
    op.drop_index("ix_subscribers_confirmed_at", table_name="subscribers")
    op.drop_index("ix_subscribers_created_at", table_name="subscribers")
    op.drop_index("ix_deliveries_edition_status", table_name="deliveries")
    op.drop_index("ix_deliveries_status_created", table_name="deliveries")
    op.drop_table("feed_readers")
    op.drop_table("feed_audience")
    op.drop_table("link_clicks")
    op.drop_table("audit_log")
    op.drop_table("operator_sessions")
    op.drop_table("operators")
