"""The dashboard's numbers: each one an aggregate over an index or a kept count
(migrations 0010 and 0011), never a loop over rows in Python. The list's size per day
is ``readers.growth``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, union_all
from sqlalchemy.engine import Connection

from syndicate.core.counts import per_edition, read_per_edition
from syndicate.core.db import deliveries, editions, job_runs, pushes, tuples
from syndicate.core.db import edition_counts as edition_counts_table
from syndicate.core.db import edition_reach as edition_reach_table
from syndicate.readers.growth import Series, day_start, days

PENDING_STATES = ("queued", "deferred", "sending")


_EDITION_ROWS = func.sum(edition_counts_table.c.row_count)
_ROWS_SINCE = (
    select(editions.c.created_at, edition_counts_table.c.status, _EDITION_ROWS)
    .join(edition_counts_table, edition_counts_table.c.edition_id == editions.c.id)
    .where(editions.c.created_at >= bindparam("since", type_=editions.c.created_at.type))
    .group_by(editions.c.id, editions.c.created_at, edition_counts_table.c.status)
    .having(_EDITION_ROWS != 0)
)
# Both of an edition's kept counts in one round trip: its rows by state, its leavers.
_COUNTS_OF = union_all(
    per_edition(edition_counts_table, "status", "rows"),
    per_edition(edition_reach_table, "outcome", "left"),
)


def deliveries_per_day(conn: Connection, now: datetime, span: int = 30) -> Series:
    """Delivery rows by the day their edition was queued, and their outcome.

    An edition's rows are queued together, so this is the per-edition count (kept by
    the store's triggers, see ``outbox.edition_counts``) placed on the edition's day:
    one statement over the window's editions.
    """
    axis = days(now, span)
    index = {d: i for i, d in enumerate(axis)}
    series = Series(axis, {o: [0] * span for o in ("sent", "failed", "suppressed", "waiting")})
    for created, status, count in tuples(conn.execute(_ROWS_SINCE, {"since": day_start(axis[0])})):
        name = status if status in series.groups else "waiting"
        position = index.get(created.date())
        if position is not None:
            series.groups[name][position] += int(count)
    return series


@dataclass(frozen=True)
class Reach:
    edition_id: int
    digest: str
    period: str
    subject: str
    created_at: datetime
    counts: dict[str, int]
    bounced: int
    complained: int
    unsubscribed: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def edition_reach(
    conn: Connection, *, limit: int = 10, edition_id: int | None = None
) -> list[Reach]:
    """Recent editions: rows by state, and recipients who bounced, complained or
    unsubscribed within seven days of the edition being queued (both counted by the
    store's triggers as the rows change, migrations 0010 and 0011)."""
    # Not the edition's HTML and text (tens of kilobytes each): the list shows none.
    query = select(
        editions.c.id, editions.c.digest, editions.c.period, editions.c.subject,
        editions.c.created_at,
    ).where(editions.c.status == "composed")  # fmt: skip
    if edition_id is not None:
        query = query.where(editions.c.id == edition_id)
    recent = list(conn.execute(query.order_by(editions.c.id.desc()).limit(limit)).mappings())
    if not recent:
        return []
    ids = [row["id"] for row in recent]
    found = read_per_edition(conn, _COUNTS_OF, ids)
    counts, after = found["rows"], found["left"]
    return [
        Reach(
            edition_id=row["id"],
            digest=row["digest"],
            period=row["period"],
            subject=row["subject"],
            created_at=row["created_at"],
            counts=counts[row["id"]],
            bounced=after[row["id"]].get("bounced", 0),
            complained=after[row["id"]].get("complained", 0),
            unsubscribed=after[row["id"]].get("unsubscribed", 0),
        )
        for row in recent
    ]


@dataclass(frozen=True)
class Queue:
    depth: int
    oldest: datetime | None


# Built once, not per view: building a statement costs as much as running these.
_QUEUE = (
    select(func.count(), func.min(deliveries.c.created_at))
    .where(deliveries.c.status.in_(PENDING_STATES))
    .group_by(deliveries.c.status)
)
_NEWEST_RUN = (
    select(job_runs.c.job, func.max(job_runs.c.id).label("id")).group_by(job_runs.c.job).subquery()
)
_LAST_RUNS = (
    select(job_runs).join(_NEWEST_RUN, _NEWEST_RUN.c.id == job_runs.c.id).order_by(job_runs.c.job)
)
_NEWEST_PUSH = (
    select(pushes.c.host, func.max(pushes.c.id).label("id")).group_by(pushes.c.host).subquery()
)
_LAST_PUSHES = select(pushes).join(_NEWEST_PUSH, _NEWEST_PUSH.c.id == pushes.c.id)


def queue(conn: Connection) -> Queue:
    """Rows waiting to go out and the oldest's queue time: per state, on the
    (status, created_at) index, so neither needs a scan."""
    depth, oldest = 0, None
    for count, first in tuples(conn.execute(_QUEUE)):
        depth += count
        if first is not None and (oldest is None or first < oldest):
            oldest = first
    return Queue(depth, oldest)


def last_runs(conn: Connection) -> list[dict[str, Any]]:
    """The newest run of every job that has run."""
    return [dict(r) for r in conn.execute(_LAST_RUNS).mappings()]


def last_pushes(conn: Connection) -> dict[str, dict[str, Any]]:
    """The newest push to every host that has been pushed to."""
    return {r["host"]: dict(r) for r in conn.execute(_LAST_PUSHES).mappings()}
