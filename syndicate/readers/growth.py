"""The list's size per day: how many people were in each state at the end of each UTC
day, for the console's chart.

Days that are over are kept in ``subscriber_days`` by housekeeping (``keep_days``);
the rest are worked out from the rows, an aggregate per day over covering indexes of
the three timestamps a person carries (migration 0010), never a loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from syndicate.core.db import dialect_insert, subscriber_days, subscribers, tuples
from syndicate.readers.subscribers import STATUSES, SUPPRESSED, counts_by_status


def days(now: datetime, count: int) -> list[date]:
    """The last ``count`` UTC days, oldest first, today last."""
    last = now.date()
    return [last - timedelta(days=count - 1 - i) for i in range(count)]


@dataclass
class Series:
    """Values per day for each named group (same length as ``days``)."""

    days: list[date]
    groups: dict[str, list[int]] = field(default_factory=dict)

    def total(self, name: str) -> int:
        return sum(self.groups.get(name, []))


def day_start(day: date) -> datetime:
    """The first instant of a UTC day."""
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


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


def _reconstructed(conn: Connection, now: datetime, span: int) -> Series:
    """The last ``span`` days (today included) worked out from the rows.

    The store keeps each person's current state, when they entered it and when they
    confirmed: a person was pending from sign-up to confirmation, active from
    confirmation to their last change, and in their current state since. Today's
    counts come from the kept per-state counts; each earlier day is today's minus the
    changes after it. Those changes are three statements over the window's rows only,
    one per timestamp, each counting day by day on a covering index of that timestamp
    (migration 0010), so the cost follows the window, not the list.
    """
    axis = days(now, span)
    bounds = {f"d{i}": day_start(d) for i, d in enumerate([*axis, axis[-1] + timedelta(days=1)])}
    signed_up, confirmed, changed = _series_statements(span)
    delta = {s: [0] * span for s in STATUSES}

    def rows(statement: Any) -> list[list[Any]]:
        if span == 1:  # today alone is the current counts: no change is walked back
            return []
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


_KEPT_DAYS = select(
    subscriber_days.c.day, subscriber_days.c.status, subscriber_days.c.row_count
).where(subscriber_days.c.day >= bindparam("first"), subscriber_days.c.day <= bindparam("last"))


def _kept_days(conn: Connection, first: date, last: date) -> dict[date, dict[str, int]]:
    """The per-state counts housekeeping kept for the days from ``first`` to ``last``."""
    kept: dict[date, dict[str, int]] = {}
    bounds = {"first": first.isoformat(), "last": last.isoformat()}
    for day, status, count in tuples(conn.execute(_KEPT_DAYS, bounds)):
        kept.setdefault(date.fromisoformat(day), {})[status] = int(count)
    return kept


def _kept_and_fresh(
    conn: Connection, now: datetime, span: int
) -> tuple[list[date], dict[date, dict[str, int]], Series]:
    """The axis, the kept days on it, and the days from the first one not kept (today
    at least) worked out from the rows."""
    axis = days(now, span)
    kept = _kept_days(conn, axis[0], axis[-1] - timedelta(days=1))
    first_missing = next((day for day in axis[:-1] if day not in kept), axis[-1])
    return axis, kept, _reconstructed(conn, now, (axis[-1] - first_missing).days + 1)


def subscribers_over_time(conn: Connection, now: datetime, span: int = 30) -> Series:
    """How many people were in each state at the end of each day (UTC), the last
    ``span`` days, today's as of now.

    Days that are over come from ``subscriber_days`` (housekeeping keeps them, see
    ``keep_days``); only the days since the first one not kept yet are worked out from
    the rows (usually none: today is the kept per-state counts), so a view costs a few
    index reads.
    """
    axis, kept, fresh = _kept_and_fresh(conn, now, span)
    at = {day: i for i, day in enumerate(fresh.days)}
    series = Series(axis)
    for state in STATUSES:
        series.groups[state] = [
            kept[day].get(state, 0) if day in kept else fresh.groups[state][at[day]] for day in axis
        ]
    return series


def keep_days(conn: Connection, now: datetime, span: int = 30) -> int:
    """Keep the per-state counts of the days of the last ``span`` that are over and not
    kept yet (housekeeping, once a day). A kept day is not worked out again, so later
    changes (an erased person, a second change of state that overwrites the first)
    leave it as it was. Returns the days kept."""
    axis, kept, fresh = _kept_and_fresh(conn, now, span)
    at = {day: i for i, day in enumerate(fresh.days)}
    rows = [
        {"day": day.isoformat(), "status": state, "row_count": fresh.groups[state][i]}
        for day, i in at.items()
        if day != axis[-1] and day not in kept
        for state in STATUSES
    ]
    if rows:
        conn.execute(dialect_insert(conn)(subscriber_days).on_conflict_do_nothing(), rows)
    return len(rows) // len(STATUSES)
