"""edition counts kept by triggers, login attempts in the store, prefix search indexes

``edition_counts`` holds each edition's delivery rows per state (and
``subscriber_counts`` the subscribers per state), so the console reads a few rows
instead of counting an edition's 100,000 deliveries (or the list) on every page view.
Triggers on ``deliveries`` (and ``subscribers``) keep them, in the transaction of every insert, state change
and delete, whichever code (present or future) writes the row.

- SQLite: row triggers, one upsert per changed row (SQLite has one writer at a time,
  so the shared counter row costs no waiting).
- PostgreSQL: statement triggers with transition tables, one upsert per (edition,
  state) a statement changed. Each connection counts in rows of its own (``slot`` =
  the backend's pid): concurrent workers then never wait on, or deadlock over, the
  same counter row, whatever order their statements change states in. A reader sums
  the slots.

A migration that rebuilds ``deliveries`` on SQLite (batch mode copies the table)
drops its triggers: it must create them again (``create_triggers`` below; the
schema test checks they exist).

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

# (table counted, counts table, the columns counted by): deliveries per edition and
# state, subscribers per state.
COUNTED = (
    ("deliveries", "edition_counts", ("edition_id", "status")),
    ("subscribers", "subscriber_counts", ("status",)),
)


def _sqlite_triggers(table: str, counts: str, keys: tuple[str, ...]) -> list[str]:
    """Row triggers: one upsert per row (SQLite has one writer at a time)."""
    columns = ", ".join(keys)
    new = ", ".join(f"NEW.{k}" for k in keys)
    old = " AND ".join(f"{k} = OLD.{k}" for k in keys)
    changed = " OR ".join(f"OLD.{k} IS NOT NEW.{k}" for k in keys)
    add = (
        f"INSERT INTO {counts} ({columns}, slot, row_count) VALUES ({new}, 0, 1)"
        f" ON CONFLICT ({columns}, slot) DO UPDATE SET row_count = row_count + 1;"
    )
    remove = f"UPDATE {counts} SET row_count = row_count - 1 WHERE {old} AND slot = 0;"
    return [
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {table}_count_update AFTER UPDATE OF {columns} ON {table}"
        f" WHEN {changed} BEGIN {remove} {add} END",
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} BEGIN {remove} END",
    ]


def _postgresql_triggers(table: str, counts: str, keys: tuple[str, ...]) -> list[str]:
    """Statement triggers: one upsert per group a statement changed, the net change
    (rows entering minus rows leaving: an UPDATE that changes no state writes nothing),
    into this backend's own slot, in key order."""
    columns = ", ".join(keys)

    def upsert(source: str) -> str:
        return (
            f"INSERT INTO {counts} AS c ({columns}, slot, row_count)"
            f" SELECT {columns}, pg_backend_pid(), sum(change) FROM ({source}) AS moved"
            f" GROUP BY {columns} HAVING sum(change) <> 0 ORDER BY {columns}"
            f" ON CONFLICT ({columns}, slot) DO UPDATE SET row_count = c.row_count + EXCLUDED.row_count;"
        )

    entering = f"SELECT {columns}, 1 AS change FROM new_rows"
    leaving = f"SELECT {columns}, -1 AS change FROM old_rows"
    function = f"""
CREATE FUNCTION {counts}_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {upsert(entering)}
  ELSIF TG_OP = 'DELETE' THEN
    {upsert(leaving)}
  ELSE
    {upsert(f"{entering} UNION ALL {leaving}")}
  END IF;
  RETURN NULL;
END
$$"""
    each = f"FOR EACH STATEMENT EXECUTE PROCEDURE {counts}_apply()"
    return [
        function,
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table}"
        f" REFERENCING NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER {table}_count_update AFTER UPDATE ON {table}"
        f" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table}"
        f" REFERENCING OLD TABLE AS old_rows {each}",
    ]


def create_triggers(table: str) -> None:
    """The counting triggers on ``table`` (deliveries or subscribers) for this backend."""
    ((_, counts, keys),) = [c for c in COUNTED if c[0] == table]
    build = _sqlite_triggers if op.get_bind().dialect.name == "sqlite" else _postgresql_triggers
    for statement in build(table, counts, keys):
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
    op.create_table(
        "subscriber_counts",
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("status", "slot", name=op.f("pk_subscriber_counts")),
    )
    # Rows already there (the triggers count from now on, in this same transaction).
    for table, counts, keys in COUNTED:
        columns = ", ".join(keys)
        op.execute(
            f"INSERT INTO {counts} ({columns}, slot, row_count)"
            f" SELECT {columns}, 0, count(*) FROM {table} GROUP BY {columns}"
        )
        create_triggers(table)
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
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, counts, _ in COUNTED:
        for event in ("insert", "update", "delete"):
            name = f"{table}_count_{event}"
            op.execute(f"DROP TRIGGER {name}" if sqlite else f"DROP TRIGGER {name} ON {table}")
        if not sqlite:
            op.execute(f"DROP FUNCTION {counts}_apply()")
        op.drop_table(counts)
