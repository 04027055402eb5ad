"""edition counts kept by triggers, login attempts in the store, prefix search indexes

``edition_counts`` holds each edition's delivery rows per state, so the console reads
a few rows instead of counting an edition's 100,000 deliveries on every page view.
Triggers on ``deliveries`` keep it, in the transaction of every insert, state change
and delete, whichever code (present or future) writes the row.

- SQLite: row triggers, one upsert per changed row (SQLite has one writer at a time,
  so the shared counter row costs no waiting).
- PostgreSQL: statement triggers with transition tables, one upsert per (edition,
  state) a statement changed. Each connection counts in rows of its own (``slot`` =
  the backend's pid): concurrent workers then never wait on, or deadlock over, the
  same counter row, whatever order their statements change states in. A reader sums
  the slots.

A migration that rebuilds ``deliveries`` on SQLite (batch mode copies the table)
drops its triggers: it must create them again (``create_triggers`` below).

``login_attempts``: the console's login limits, per account and per address, hold
across restarts and processes. The key is an HMAC, never the address itself.

The dashboard's per-day subscriber counts read covering indexes of confirmed_at and
status_changed_at (with status) instead of the single-column ones.

Subscriber search is by prefix of the lower-cased address or name: expression
indexes make it a range scan (PostgreSQL compares in the "C" collation, where a
prefix is a range).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries BEGIN
  INSERT INTO edition_counts (edition_id, status, slot, row_count)
  VALUES (NEW.edition_id, NEW.status, 0, 1)
  ON CONFLICT (edition_id, status, slot) DO UPDATE SET row_count = row_count + 1;
END""",
    """CREATE TRIGGER deliveries_count_update AFTER UPDATE OF status, edition_id ON deliveries
WHEN OLD.status IS NOT NEW.status OR OLD.edition_id IS NOT NEW.edition_id BEGIN
  UPDATE edition_counts SET row_count = row_count - 1
  WHERE edition_id = OLD.edition_id AND status = OLD.status AND slot = 0;
  INSERT INTO edition_counts (edition_id, status, slot, row_count)
  VALUES (NEW.edition_id, NEW.status, 0, 1)
  ON CONFLICT (edition_id, status, slot) DO UPDATE SET row_count = row_count + 1;
END""",
    """CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries BEGIN
  UPDATE edition_counts SET row_count = row_count - 1
  WHERE edition_id = OLD.edition_id AND status = OLD.status AND slot = 0;
END""",
)

# One function for the three statement triggers: the net change per (edition, state)
# is rows entering minus rows leaving, so an UPDATE that changes no state writes nothing.
POSTGRESQL_FUNCTION = """
CREATE FUNCTION edition_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO edition_counts AS c (edition_id, status, slot, row_count)
      SELECT edition_id, status, pg_backend_pid(), count(*) FROM new_rows
      GROUP BY edition_id, status ORDER BY edition_id, status
    ON CONFLICT (edition_id, status, slot) DO UPDATE SET row_count = c.row_count + EXCLUDED.row_count;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO edition_counts AS c (edition_id, status, slot, row_count)
      SELECT edition_id, status, pg_backend_pid(), -count(*) FROM old_rows
      GROUP BY edition_id, status ORDER BY edition_id, status
    ON CONFLICT (edition_id, status, slot) DO UPDATE SET row_count = c.row_count + EXCLUDED.row_count;
  ELSE
    INSERT INTO edition_counts AS c (edition_id, status, slot, row_count)
      SELECT edition_id, status, pg_backend_pid(), sum(change) FROM (
        SELECT edition_id, status, 1 AS change FROM new_rows
        UNION ALL
        SELECT edition_id, status, -1 FROM old_rows
      ) AS moved
      GROUP BY edition_id, status HAVING sum(change) <> 0 ORDER BY edition_id, status
    ON CONFLICT (edition_id, status, slot) DO UPDATE SET row_count = c.row_count + EXCLUDED.row_count;
  END IF;
  RETURN NULL;
END
$$
"""
POSTGRESQL_TRIGGERS = (
    "CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries"
    " REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE PROCEDURE edition_counts_apply()",
    "CREATE TRIGGER deliveries_count_update AFTER UPDATE ON deliveries"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE PROCEDURE edition_counts_apply()",
    "CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries"
    " REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE PROCEDURE edition_counts_apply()",
)
TRIGGERS = ("deliveries_count_insert", "deliveries_count_update", "deliveries_count_delete")


def create_triggers() -> None:
    """The counting triggers on ``deliveries`` for this backend."""
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        return
    op.execute(POSTGRESQL_FUNCTION)
    for statement in POSTGRESQL_TRIGGERS:
        op.execute(statement)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "edition_counts",
        sa.Column(
            "edition_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("edition_id", "status", "slot", name=op.f("pk_edition_counts")),
    )
    # Rows already there (the triggers count from now on, in this same transaction).
    op.execute(
        "INSERT INTO edition_counts (edition_id, status, slot, row_count)"
        " SELECT edition_id, status, 0, count(*) FROM deliveries GROUP BY edition_id, status"
    )
    create_triggers()
    op.create_table(
        "login_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_key_at", "login_attempts", ["key", "at"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    # The dashboard's per-day counts read these alone (covering), no table rows.
    op.drop_index("ix_subscribers_confirmed_at", "subscribers")
    op.drop_index("ix_subscribers_status_changed_at", "subscribers")
    op.create_index("ix_subscribers_confirmed_status", "subscribers", ["confirmed_at", "status"])
    op.create_index(
        "ix_subscribers_changed_status",
        "subscribers",
        ["status_changed_at", "status", "confirmed_at"],
    )
    if sqlite:
        op.execute("CREATE INDEX ix_subscribers_email_prefix ON subscribers (lower(email_key))")
        op.execute("CREATE INDEX ix_subscribers_name_prefix ON subscribers (lower(name))")
    else:
        op.execute(
            'CREATE INDEX ix_subscribers_email_prefix ON subscribers ((lower(email_key) COLLATE "C"))'
        )
        op.execute(
            'CREATE INDEX ix_subscribers_name_prefix ON subscribers ((lower(name) COLLATE "C"))'
        )


def downgrade() -> None:
    op.drop_index("ix_subscribers_name_prefix", "subscribers")
    op.drop_index("ix_subscribers_changed_status", "subscribers")
    op.drop_index("ix_subscribers_confirmed_status", "subscribers")
    op.create_index("ix_subscribers_confirmed_at", "subscribers", ["confirmed_at"])
    op.create_index("ix_subscribers_status_changed_at", "subscribers", ["status_changed_at"])
    op.drop_index("ix_subscribers_email_prefix", "subscribers")
    op.drop_index("ix_login_attempts_at", "login_attempts")
    op.drop_index("ix_login_attempts_key_at", "login_attempts")
    op.drop_table("login_attempts")
    for name in TRIGGERS:
        op.execute(
            f"DROP TRIGGER {name}"
            if op.get_bind().dialect.name == "sqlite"
            else f"DROP TRIGGER {name} ON deliveries"
        )
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION edition_counts_apply()")
    op.drop_table("edition_counts")
