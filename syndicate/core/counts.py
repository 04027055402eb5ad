"""Keeping the trigger-kept count tables small (``edition_counts``, ``subscriber_counts``).

On PostgreSQL each connection counts in rows of its own (``slot`` = its backend pid,
migration 0010), so the rows grow with every new connection that ever changed a
state. Housekeeping folds the rows of backends that no longer exist into slot 0: no
live writer can touch those rows, so the fold waits on nobody and the sums do not
change. Rows whose count is zero are dropped on both databases.
"""

from __future__ import annotations

from sqlalchemy import Table, delete, text
from sqlalchemy.engine import Connection

from syndicate.core.db import edition_counts, is_sqlite, subscriber_counts

_COUNTED: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (edition_counts, ("edition_id", "status")),
    (subscriber_counts, ("status",)),
)


def fold(conn: Connection) -> int:
    """Fold the slots of gone backends into slot 0 and drop zero rows; returns the rows
    folded (each gone slot's row, whether it joined an existing slot-0 row or made
    one) plus the zero rows dropped."""
    removed = 0
    for table, keys in _COUNTED:
        if not is_sqlite(conn):
            columns = ", ".join(keys)
            removed += conn.execute(
                text(
                    f"WITH gone AS (DELETE FROM {table.name} WHERE slot <> 0 AND slot NOT IN"
                    " (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)"
                    f" RETURNING {columns}, row_count),"
                    f" kept AS (INSERT INTO {table.name} AS c ({columns}, slot, row_count)"
                    f" SELECT {columns}, 0, sum(row_count) FROM gone GROUP BY {columns}"
                    f" ORDER BY {columns} ON CONFLICT ({columns}, slot)"
                    " DO UPDATE SET row_count = c.row_count + EXCLUDED.row_count RETURNING 1)"
                    " SELECT count(*) FROM gone"
                )
            ).scalar_one()
        zero = delete(table).where(table.c.row_count == 0, table.c.slot == 0)
        removed += conn.execute(zero).rowcount or 0
    return removed
