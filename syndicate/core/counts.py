"""Reading and keeping small the trigger-kept count tables (``edition_counts``,
``subscriber_counts``, ``edition_reach``).

On PostgreSQL each connection counts in rows of its own (``slot`` = its backend pid,
migration 0010), so the rows grow with every new connection that ever changed a
state. Housekeeping folds the rows of backends that no longer exist into slot 0: no
live writer can touch those rows, so the fold waits on nobody and the sums do not
change. Rows whose count is zero are dropped on both databases.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Executable, Select, Table, bindparam, delete, func, literal, select, text
from sqlalchemy.engine import Connection

from syndicate.core.db import edition_counts, edition_reach, is_sqlite, subscriber_counts, tuples

_COUNTED: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (edition_counts, ("edition_id", "status")),
    (subscriber_counts, ("status",)),
    (edition_reach, ("edition_id", "outcome")),
)


def per_edition(table: Table, column: str, kind: str) -> Select[Any]:
    """The statement for editions' counts by ``column`` from a slotted count table
    (``edition_counts`` by status, ``edition_reach`` by outcome), summed over the
    slots, groups with none left out, each row tagged ``kind`` (so two tables can be
    read in one UNION ALL); the editions are bound as ``ids``. Build it once."""
    total = func.sum(table.c.row_count)
    return (
        select(literal(kind), table.c.edition_id, table.c[column], total)
        .where(table.c.edition_id.in_(bindparam("ids", expanding=True)))
        .group_by(table.c.edition_id, table.c[column])
        .having(total != 0)
    )


def read_per_edition(
    conn: Connection, statement: Executable, edition_ids: Sequence[int]
) -> dict[str, dict[int, dict[str, int]]]:
    """Run ``per_edition`` statements (one, or a UNION ALL of them): per kind, each
    edition's counts (every edition present, its dict empty when it has none). A few
    rows per edition, whatever the edition's size."""
    found: dict[str, dict[int, dict[str, int]]] = defaultdict(lambda: {i: {} for i in edition_ids})
    if edition_ids:
        for kind, eid, name, count in tuples(conn.execute(statement, {"ids": list(edition_ids)})):
            found[kind][eid][name] = int(count)
    return found


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
