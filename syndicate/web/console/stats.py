"""The dashboard's numbers: each one an aggregate over an index or a kept count
(migration 0010), never a loop over rows in Python. Per-day series come back as one
row per day; only the few dozen days are walked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Interval,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from syndicate.core.db import deliveries, editions, is_sqlite, job_runs, pushes, subscribers, tuples
from syndicate.delivery.outbox import edition_counts
from syndicate.readers.subscribers import STATUSES, SUPPRESSED, counts_by_status

REACH_WINDOW = timedelta(days=7)
PENDING_STATES = ("queued", "deferred", "sending")
# What a delivery row's state means for a reader, in the order the charts stack them.
OUTCOMES = ("sent", "failed", "suppressed", "queued", "deferred", "sending", "paused", "cancelled")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def days(now: datetime, count: int) -> list[date]:
    last = now.date()
    return [last - timedelta(days=count - 1 - i) for i in range(count)]


@dataclass
class Series:
    """Values per day for each named group (same length as ``days``)."""

    days: list[date]
    groups: dict[str, list[int]] = field(default_factory=dict)

    def total(self, name: str) -> int:
        return sum(self.groups.get(name, []))


def _start(axis: list[date]) -> datetime:
    return datetime.combine(axis[0], datetime.min.time(), tzinfo=UTC)


@cache
def _series_statements(span: int) -> tuple[Any, Any, Any]:
    """The three statements of ``subscribers_over_time``, built once per span (building
    90 SELECTs costs more than running them): each a UNION ALL of plain aggregates over
    one day's index range, the days bound as :d0 .. :d<span>. No GROUP BY: it would
    sort the window's rows by a computed day."""
    c, f, t = subscribers.c.created_at, subscribers.c.confirmed_at, subscribers.c.status_changed_at
    status = subscribers.c.status
    moved = status != "pending"
    never_confirmed = f.is_(None)

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    def per_day(when: Any, where: ColumnElement[bool] | None, *counts: Any) -> Any:
        def day(i: int) -> Any:
            query = select(literal(i), *counts).where(
                when >= bindparam(f"d{i}", type_=when.type),
                when < bindparam(f"d{i + 1}", type_=when.type),
            )
            return query if where is None else query.where(where)

        return union_all(*(day(i) for i in range(span)))

    return (
        per_day(c, None, func.count()),
        per_day(f, moved, func.count()),
        per_day(
            t,
            moved,
            count_if(never_confirmed),
            count_if(and_(status.in_(SUPPRESSED), ~never_confirmed)),
            *(count_if(status == state) for state in SUPPRESSED),
        ),
    )


def subscribers_over_time(conn: Connection, now: datetime, span: int = 30) -> Series:
    """How many people were in each state at the end of each day.

    The store keeps each person's current state, when they entered it and when they
    confirmed: a person was pending from sign-up to confirmation, active from
    confirmation to their last change, and in their current state since. Today's
    counts come from the kept per-state counts; each earlier day is today's minus the changes
    after it. Those changes are three statements over the window's rows only, one per
    timestamp, each counting day by day on a covering index of that timestamp
    (migration 0010), so the cost follows the window, not the list.
    """
    axis = days(now, span)
    bounds = {f"d{i}": _start([d]) for i, d in enumerate([*axis, axis[-1] + timedelta(days=1)])}
    signed_up, confirmed, changed = _series_statements(span)
    delta = {s: [0] * span for s in STATUSES}

    def rows(statement: Any) -> list[list[Any]]:
        found = [list(row) for row in conn.execute(statement, bounds)]
        return sorted(found, key=lambda row: int(row[0]))

    # Signed up: pending from that day.
    for i, joined in rows(signed_up):
        delta["pending"][i] += joined or 0
    # Confirmed (and since moved on from pending): pending -> active that day.
    for i, count in rows(confirmed):
        delta["pending"][i] -= count or 0
        delta["active"][i] += count or 0
    # The last change: into a suppressed state, out of pending (never confirmed) or out
    # of active (confirmed before).
    for i, left_pending, left_active, *into in rows(changed):
        delta["pending"][i] -= left_pending or 0
        delta["active"][i] -= left_active or 0
        for state, count in zip(SUPPRESSED, into, strict=True):
            delta[state][i] += count or 0
    current = counts_by_status(conn)
    series = Series(axis)
    for state in STATUSES:
        values = [0] * span
        running = current.get(state, 0)
        for i in range(span - 1, -1, -1):  # walk back from today
            values[i] = running
            running -= delta[state][i]
        series.groups[state] = values
    return series


def deliveries_per_day(conn: Connection, now: datetime, span: int = 30) -> Series:
    """Delivery rows by the day their edition was queued, and their outcome.

    An edition's rows are queued together, so this is the per-edition count (kept by
    the store, see ``outbox.edition_counts``) placed on the edition's day.
    """
    axis = days(now, span)
    day_of_edition = {
        eid: created.date()
        for eid, created in tuples(
            conn.execute(
                select(editions.c.id, editions.c.created_at).where(
                    editions.c.created_at >= _start(axis)
                )
            )
        )
    }
    rows = [
        (day_of_edition[eid], status, count)
        for eid, states in edition_counts(conn, list(day_of_edition)).items()
        for status, count in states.items()
    ]
    index = {d: i for i, d in enumerate(axis)}
    series = Series(axis, {o: [0] * span for o in ("sent", "failed", "suppressed", "waiting")})
    for day, status, count in rows:
        name = status if status in series.groups else "waiting"
        position = index.get(_as_date(day))
        if position is not None:
            series.groups[name][position] += count
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
    unsubscribed within seven days of the edition being queued."""
    query = select(editions).where(editions.c.status == "composed")
    if edition_id is not None:
        query = query.where(editions.c.id == edition_id)
    recent = list(conn.execute(query.order_by(editions.c.id.desc()).limit(limit)).mappings())
    if not recent:
        return []
    ids = [row["id"] for row in recent]
    counts = edition_counts(conn, ids)
    after = {i: dict.fromkeys(("bounced", "complained", "unsubscribed"), 0) for i in ids}
    # For each edition, the people whose state changed in its seven days (a range on
    # the covering status_changed_at index, bounded by that edition's own dates), to
    # whether the edition reached them (the unique delivery key). The work follows the
    # changes in those weeks, not the list nor the deliveries.
    # (status || '') is not indexable, so the planner starts from the date range
    # instead of walking every suppressed person through the status index.
    unindexed_status = subscribers.c.status.concat(literal_column("''"))
    changed, queued = subscribers.c.status_changed_at, editions.c.created_at
    bound: ColumnElement[Any]
    if is_sqlite(conn):
        # Stored times are ISO text: the text bound (whole seconds, one spare) drives
        # the index range, the Julian-day test is the exact seven days.
        bound = func.datetime(queued, "+7 days", "+1 second")
        within = func.julianday(changed) < func.julianday(queued) + 7
    else:
        bound = queued + literal(REACH_WINDOW, Interval())
        within = changed < bound
    for eid, status, count in tuples(
        conn.execute(
            select(editions.c.id, unindexed_status, func.count())
            .select_from(editions)
            .join(subscribers, and_(changed >= queued, changed < bound))
            .join(
                deliveries,
                and_(
                    deliveries.c.edition_id == editions.c.id,
                    deliveries.c.subscriber_id == subscribers.c.id,
                ),
            )
            .where(
                editions.c.id.in_(ids),
                unindexed_status.in_(("bounced", "complained", "unsubscribed")),
                within,
            )
            .group_by(editions.c.id, unindexed_status)
        )
    ):
        if status in after[eid]:
            after[eid][status] = count
    return [
        Reach(
            edition_id=row["id"],
            digest=row["digest"],
            period=row["period"],
            subject=row["subject"],
            created_at=row["created_at"],
            counts=counts[row["id"]],
            **after[row["id"]],
        )
        for row in recent
    ]


@dataclass(frozen=True)
class Queue:
    depth: int
    oldest: datetime | None


def queue(conn: Connection) -> Queue:
    """Rows waiting to go out and the oldest's queue time: per state, on the
    (status, created_at) index, so neither needs a scan."""
    depth, oldest = 0, None
    for state in PENDING_STATES:
        ((count, first),) = tuples(
            conn.execute(
                select(func.count(), func.min(deliveries.c.created_at)).where(
                    deliveries.c.status == state
                )
            )
        )
        depth += count
        if first is not None and (oldest is None or first < oldest):
            oldest = first
    return Queue(depth, oldest)


def last_runs(conn: Connection) -> list[dict[str, Any]]:
    """The newest run of every job that has run."""
    newest = (
        select(job_runs.c.job, func.max(job_runs.c.id).label("id"))
        .group_by(job_runs.c.job)
        .subquery()
    )
    rows = conn.execute(
        select(job_runs).join(newest, newest.c.id == job_runs.c.id).order_by(job_runs.c.job)
    ).mappings()
    return [dict(r) for r in rows]


def last_pushes(conn: Connection) -> dict[str, dict[str, Any]]:
    newest = (
        select(pushes.c.host, func.max(pushes.c.id).label("id")).group_by(pushes.c.host).subquery()
    )
    rows = conn.execute(select(pushes).join(newest, newest.c.id == pushes.c.id)).mappings()
    return {r["host"]: dict(r) for r in rows}
