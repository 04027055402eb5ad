"""What is on each host, and the history of pushes: the store side of publishing.

``host_files`` is the manifest: one row per file known to be on a host, written as
each file lands and removed as each deletion succeeds, so it never claims more (or
less) than the host really holds. ``pushes`` records every push for ``status``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection

from syndicate.core import events
from syndicate.core.db import dialect_insert, host_files, pushes, transaction


def manifest(conn: Connection, host: str) -> dict[str, str]:
    """What the store says is on the host: path -> sha256."""
    rows = conn.execute(
        select(host_files.c.path, host_files.c.sha256).where(host_files.c.host == host)
    )
    return {row.path: row.sha256 for row in rows}


def pushed_files(conn: Connection, paths: list[str]) -> dict[tuple[str, str], tuple[str, datetime]]:
    """(host, path) -> (sha256, when it landed) for those of ``paths`` on any host."""
    if not paths:
        return {}
    rows = conn.execute(
        select(
            host_files.c.host, host_files.c.path, host_files.c.sha256, host_files.c.pushed_at
        ).where(host_files.c.path.in_(paths))
    )
    return {(row.host, row.path): (row.sha256, row.pushed_at) for row in rows}


def remember(engine: Engine, host: str, path: str, *, sha256: str, size: int, at: datetime) -> None:
    """The file is on the host now: record it at once (a later failure keeps it).

    One upsert, not update-then-insert: two publishes landing the same file at once
    would otherwise both miss the row and collide on its key.
    """
    values = {"sha256": sha256, "size": size, "pushed_at": at}
    with transaction(engine) as conn:
        statement = dialect_insert(conn)(host_files).values(host=host, path=path, **values)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[host_files.c.host, host_files.c.path], set_=values
            )
        )


def forget(engine: Engine, host: str, path: str) -> None:
    key = (host_files.c.host == host) & (host_files.c.path == path)
    with transaction(engine) as conn:
        conn.execute(delete(host_files).where(key))


def start_push(engine: Engine, host: str, *, at: datetime) -> int:
    """A push row, written before anything is sent (a crash still leaves a trace)."""
    counts = {"uploaded": 0, "skipped": 0, "deleted": 0, "bytes": 0, "hubs_pinged": 0}
    with transaction(engine) as conn:
        result = conn.execute(insert(pushes).values(host=host, started_at=at, **counts))
        key = result.inserted_primary_key
        assert key is not None  # a single-row INSERT always has one
        return int(key[0])


def finish_push(engine: Engine, push_id: int, **values: Any) -> None:
    """Counts, ``finished_at`` and ``error`` (None when the push succeeded); a push that
    changed files on the host is announced as ``feed.published`` in the same transaction."""
    with transaction(engine) as conn:
        conn.execute(update(pushes).where(pushes.c.id == push_id).values(**values))
        row = conn.execute(select(pushes).where(pushes.c.id == push_id)).mappings().one()
        if row["error"] is None and row["finished_at"] and (row["uploaded"] or row["deleted"]):
            counts = {k: row[k] for k in ("uploaded", "deleted", "bytes", "hubs_pinged")}
            events.record(
                conn, "feed.published", {"host": row["host"], **counts}, row["finished_at"]
            )


def recent_pushes(conn: Connection, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest pushes, newest first (for ``syndicate status``)."""
    rows = conn.execute(select(pushes).order_by(pushes.c.id.desc()).limit(limit))
    return [dict(row._mapping) for row in rows]
