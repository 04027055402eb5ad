"""The audit log: who changed what, when, with the values before and after.

Written in the same transaction as the change it describes, so a change without its
record (or a record of a change that rolled back) cannot exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from syndicate.core.db import audit_log

MAX_TARGET = 400


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    target: str,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(audit_log).values(
            at=now,
            actor=actor[:320],
            action=action[:60],
            target=target[:MAX_TARGET],
            before=_jsonable(before),
            after=_jsonable(after),
        )
    )


def forget(conn: Connection, target: str) -> None:
    """Erasure: keep that changes happened, drop the values they held (names, notes)."""
    conn.execute(
        update(audit_log).where(audit_log.c.target == target).values(before=None, after=None)
    )


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for each field that differs."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def recent(conn: Connection, *, limit: int = 50, before_id: int | None = None) -> list[Entry]:
    """Newest first, a page at a time (keyset on id)."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    return [Entry(**dict(row)) for row in conn.execute(query).mappings()]
