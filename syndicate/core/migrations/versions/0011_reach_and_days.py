"""editions' reach kept as events, subscribers per day kept once a day is over

``edition_reach`` holds, per edition, how many people it reached then bounced,
complained or unsubscribed within seven days of it being queued. A trigger on
``subscribers`` counts each such change when it happens, against the editions that
reached the person in the seven days before (their delivery rows, on the new
``ix_deliveries_subscriber`` index): the console reads a few rows instead of joining
the weeks' changes with a million deliveries on every view. Counting the event, not
the person's current state, also keeps the number true when a person later comes back
or is erased. Same slot scheme as ``edition_counts`` (migration 0010): SQLite one row
(slot 0), PostgreSQL a statement trigger counting into the backend's own slot.

Rows already there are counted once, the way the console counted them before: people
whose current state is one of the three and whose last change fell in an edition's
seven days.

``subscriber_days`` holds the subscribers per state at the end of each UTC day that is
over (housekeeping writes them; the dashboard reads them and works out only the days
not yet written).

A later migration that rebuilds ``subscribers`` on SQLite (batch mode copies the
table) drops this trigger with the table's others: it must create it again (the schema
test checks it exists).

``ix_deliveries_subscriber`` also serves one person's delivery history and the
``ON DELETE SET NULL`` of an erased person's deliveries, which scanned the table.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OUTCOMES = "('unsubscribed', 'bounced', 'complained')"


def _sqlite_trigger() -> str:
    return f"""
CREATE TRIGGER subscribers_reach AFTER UPDATE OF status ON subscribers
WHEN NEW.status IN {OUTCOMES} AND OLD.status IS NOT NEW.status
BEGIN
  INSERT INTO edition_reach (edition_id, outcome, slot, row_count)
  SELECT d.edition_id, NEW.status, 0, count(*)
  FROM deliveries AS d JOIN editions AS e ON e.id = d.edition_id
  WHERE d.subscriber_id = NEW.id
    AND julianday(e.created_at) <= julianday(NEW.status_changed_at)
    AND julianday(NEW.status_changed_at) < julianday(e.created_at) + 7
  GROUP BY d.edition_id
  ON CONFLICT (edition_id, outcome, slot) DO UPDATE SET row_count = row_count + excluded.row_count;
END"""


def _postgresql_trigger() -> list[str]:
    return [
        f"""
CREATE FUNCTION edition_reach_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO edition_reach AS c (edition_id, outcome, slot, row_count)
  SELECT d.edition_id, n.status, pg_backend_pid(), count(*)
  FROM new_rows AS n
  JOIN old_rows AS o ON o.id = n.id
  JOIN deliveries AS d ON d.subscriber_id = n.id
  JOIN editions AS e ON e.id = d.edition_id
  WHERE n.status IN {OUTCOMES} AND o.status IS DISTINCT FROM n.status
    AND e.created_at <= n.status_changed_at
    AND n.status_changed_at < e.created_at + interval '7 days'
  GROUP BY d.edition_id, n.status ORDER BY d.edition_id, n.status
  ON CONFLICT (edition_id, outcome, slot)
  DO UPDATE SET row_count = c.row_count + EXCLUDED.row_count;
  RETURN NULL;
END
$$""",
        "CREATE TRIGGER subscribers_reach AFTER UPDATE ON subscribers"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE PROCEDURE edition_reach_apply()",
    ]


def _backfill(sqlite: bool) -> str:
    within = (
        "julianday(e.created_at) <= julianday(s.status_changed_at)"
        " AND julianday(s.status_changed_at) < julianday(e.created_at) + 7"
        if sqlite
        else "e.created_at <= s.status_changed_at"
        " AND s.status_changed_at < e.created_at + interval '7 days'"
    )
    return (
        "INSERT INTO edition_reach (edition_id, outcome, slot, row_count)"
        " SELECT d.edition_id, s.status, 0, count(*)"
        " FROM subscribers AS s"
        " JOIN deliveries AS d ON d.subscriber_id = s.id"
        " JOIN editions AS e ON e.id = d.edition_id"
        f" WHERE s.status IN {OUTCOMES} AND {within}"
        " GROUP BY d.edition_id, s.status"
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "edition_reach",
        sa.Column(
            "edition_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("edition_id", "outcome", "slot", name=op.f("pk_edition_reach")),
    )
    op.create_table(
        "subscriber_days",
        sa.Column("day", sa.String(length=10), nullable=False),  # YYYY-MM-DD, UTC
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "status", name=op.f("pk_subscriber_days")),
    )
    op.create_index("ix_deliveries_subscriber", "deliveries", ["subscriber_id", "id"])
    op.execute(_backfill(sqlite))
    for statement in [_sqlite_trigger()] if sqlite else _postgresql_trigger():
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER subscribers_reach")
    else:
        op.execute("DROP TRIGGER subscribers_reach ON subscribers")
        op.execute("DROP FUNCTION edition_reach_apply()")
    op.drop_index("ix_deliveries_subscriber", "deliveries")
    op.drop_table("subscriber_days")
    op.drop_table("edition_reach")
