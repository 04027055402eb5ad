"""``syndicate db copy``: move a whole store to another database (SQLite -> PostgreSQL).

The target is migrated first and must be empty; every table is copied in dependency
order inside one transaction, so a failure leaves the target as it was. The source
is only read. The count tables are not copied: the target's triggers count the rows
as they are inserted.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, select, text

from syndicate.core.db import TRIGGER_KEPT, is_sqlite, metadata, upgrade
from syndicate.core.errors import StoreError

BATCH = 1000


def copy_store(
    source: Engine, target: Engine, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    upgrade(target)
    with target.connect() as conn:
        busy = [
            t.name
            for t in metadata.sorted_tables
            if conn.execute(select(func.count()).select_from(t)).scalar_one()
        ]
    if busy:
        raise StoreError(
            f"the target database is not empty (tables with rows: {', '.join(busy)})",
            hint="copy into a new, empty database",
        )
    copied: dict[str, int] = {}
    with source.connect() as src, target.begin() as dst:
        for table in metadata.sorted_tables:
            if table.name in TRIGGER_KEPT:
                continue  # counted again by the target's triggers as the rows go in
            count = 0
            result = src.execution_options(stream_results=True).execute(select(table))
            while rows := result.mappings().fetchmany(BATCH):
                dst.execute(table.insert(), [dict(row) for row in rows])
                count += len(rows)
                if progress:
                    progress(table.name, count)
            copied[table.name] = count
        if not is_sqlite(dst):
            for table in metadata.sorted_tables:
                if table.autoincrement_column is None:
                    continue
                dst.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                    )
                )
    return copied
