"""editions' reach kept as events, subscribers per day kept once a day is over

``edition_reach`` holds, per edition, how many of the people it reached then bounced,
complained or unsubscribed within seven days (7 x 24 hours) of it being queued. A
trigger on ``subscribers`` counts each person who leaves (pending or active into one
of the three states) when it happens, against the editions that reached them in the
seven days before: their delivery rows that were sent or refused (a synchronous
bounce), found on the new ``ix_deliveries_subscriber`` index. The console reads a few
rows instead of joining the weeks' changes with a million deliveries on every view.
Counting the event, not the person's current state, keeps the number when the person
is later erased or comes back. Same slot scheme as ``edition_counts`` (migration
0010): SQLite one row (slot 0), PostgreSQL a statement trigger counting into the
backend's own slot.

Rows already there are counted once, the way the console counted them before: people
whose current state is one of the three and whose last change fell in an edition's
seven days.

``subscriber_days`` holds the subscribers per state at the end of each UTC day that is
over (housekeeping writes them; the dashboard reads them and works out only the days
not yet written).

On SQLite the trigger's body names ``deliveries`` and ``editions``: SQLite refuses to
rename a table into place while a trigger refers to a table that is missing, so a later
migration that rebuilds ``subscribers``, ``deliveries`` or ``editions`` (batch mode
copies the table) calls ``drop_reach_trigger()`` before and ``create_reach_trigger()``
after (the schema test checks it exists).

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
LEFT_FROM = "('pending', 'active')"  # a person leaves once: not complained after unsubscribing
REACHED = "('sent', 'failed')"  # handed to the provider, or refused by it (a bounce)
# Exactly 7 x 24 hours: PostgreSQL adds '7 days' in the session's time zone (23 or 25
# hours across a DST change); SQLite's julianday + 7 is exact.
WINDOW = "interval '168 hours'"


def _when(new: str, old: str, now: str) -> str:
    """The moment of the change: the row's new status_changed_at, or now when an UPDATE
    changed the state without setting it (by hand)."""
    return (
        f"CASE WHEN {new}.status_changed_at IS NULL"
        f" OR {new}.status_changed_at = {old}.status_changed_at"
        f" THEN {now} ELSE {new}.status_changed_at END"
    )


def _sqlite_trigger() -> str:
    when = f"julianday({_when('NEW', 'OLD', 'CURRENT_TIMESTAMP')})"
    return f"""
CREATE TRIGGER subscribers_reach AFTER UPDATE OF status ON subscribers
WHEN NEW.status IN {OUTCOMES} AND OLD.status IN {LEFT_FROM}
BEGIN
  INSERT INTO edition_reach (edition_id, outcome, slot, row_count)
  SELECT d.edition_id, NEW.status, 0, count(*)
  FROM deliveries AS d JOIN editions AS e ON e.id = d.edition_id
  WHERE d.subscriber_id = NEW.id AND d.status IN {REACHED}
    AND julianday(e.created_at) <= {when}
    AND {when} < julianday(e.created_at) + 7
  GROUP BY d.edition_id
  ON CONFLICT (edition_id, outcome, slot) DO UPDATE SET row_count = row_count + excluded.row_count;
END"""


def _postgresql_trigger() -> list[str]:
    when = _when("n", "o", "now()")
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
  WHERE n.status IN {OUTCOMES} AND o.status IN {LEFT_FROM} AND d.status IN {REACHED}
    AND e.created_at <= {when}
    AND {when} < e.created_at + {WINDOW}
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


def create_reach_trigger() -> None:
    """The reach trigger for this backend (a later migration that rebuilds
    ``subscribers``, ``deliveries`` or ``editions`` on SQLite drops it first with
    ``drop_reach_trigger`` and creates it again after)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in [_sqlite_trigger()] if sqlite else _postgresql_trigger():
        op.execute(statement)


def drop_reach_trigger() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER subscribers_reach")
    else:
        op.execute("DROP TRIGGER subscribers_reach ON subscribers")
        op.execute("DROP FUNCTION edition_reach_apply()")


def _backfill(sqlite: bool) -> str:
    within = (
        "julianday(e.created_at) <= julianday(s.status_changed_at)"
        " AND julianday(s.status_changed_at) < julianday(e.created_at) + 7"
        if sqlite
        else f"e.created_at <= s.status_changed_at AND s.status_changed_at < e.created_at + {WINDOW}"
    )
    return (
        "INSERT INTO edition_reach (edition_id, outcome, slot, row_count)"
        " SELECT d.edition_id, s.status, 0, count(*)"
        " FROM subscribers AS s"
        " JOIN deliveries AS d ON d.subscriber_id = s.id"
        " JOIN editions AS e ON e.id = d.edition_id"
        f" WHERE s.status IN {OUTCOMES} AND d.status IN {REACHED} AND {within}"
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
    create_reach_trigger()


def downgrade() -> None:
    drop_reach_trigger()
    op.drop_index("ix_deliveries_subscriber", "deliveries")
    op.drop_table("subscriber_days")
    op.drop_table("edition_reach")
