"""Feed audience without tracking: aggregators' reported subscriber counts and distinct
direct readers per day.

Aggregators poll once for many people and say how many in their User-Agent
("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 123 subscribers)"); the latest
figure per (day, feed, aggregator) is kept. Every other client of a live feed counts as
one reader per day, identified only by SHA-256(daily salt, address, User-Agent). The
salt is random per UTC day and deleted the next day, after which a stored hash can no
longer be tied to an address. Requests are tallied in memory and written at most once a
minute, so serving a feed costs no database write. Rows older than ``KEEP_DAYS`` (the
dashboard shows 30) are deleted by housekeeping.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from syndicate.core.db import dialect_insert, feed_audience, feed_readers, meta, transaction

FLUSH_EVERY = timedelta(seconds=60)
MAX_PENDING = 50_000  # readers (and, apart, aggregator reports) held before an early write
KEEP_DAYS = 31  # days of feed_readers / feed_audience rows kept: the dashboard shows 30
SALT_KEY = "reader_salt:"
_REPORTED = re.compile(r"(\d[\d,]{0,12})\s+(?:subscribers|readers|followers)\b", re.IGNORECASE)
_NAME_END = re.compile(r"[/(;]| - ")


@dataclass(frozen=True)
class Report:
    agent: str
    subscribers: int


def reported(user_agent: str) -> Report | None:
    """An aggregator's name and subscriber count from its User-Agent, if it gives one."""
    found = _REPORTED.search(user_agent or "")
    if not found:
        return None
    name = _NAME_END.split(user_agent, maxsplit=1)[0].strip()[:100] or "unknown"
    return Report(name, int(found.group(1).replace(",", "")))


@dataclass
class Recorder:
    """Per process: what was seen since the last write."""

    engine: Engine
    last_flush: datetime | None = None
    max_pending: int = MAX_PENDING
    reports: dict[tuple[str, str, str], int] = field(default_factory=dict)
    readers: set[tuple[str, str, str]] = field(default_factory=set)
    _salts: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, feed: str, user_agent: str, address: str, now: datetime) -> None:
        day = now.date().isoformat()
        report = reported(user_agent)
        with self._lock:
            if report is not None:
                self.reports[(day, feed, report.agent)] = report.subscribers
            else:
                salt = self._salt(day)
                digest = hashlib.sha256(f"{salt}|{address}|{user_agent}".encode()).hexdigest()
                self.readers.add((day, feed, digest))
            due = (
                self.last_flush is None
                or now - self.last_flush >= FLUSH_EVERY
                or len(self.readers) >= self.max_pending
                or len(self.reports) >= self.max_pending
            )
        if due:
            self.flush(now)

    def _salt(self, day: str) -> str:
        if day not in self._salts:
            self._salts = {day: shared_salt(self.engine, day)}
        return self._salts[day]

    def flush(self, now: datetime) -> None:
        with self._lock:
            reports, readers = self.reports, self.readers
            self.reports, self.readers, self.last_flush = {}, set(), now
        if not reports and not readers:
            return
        with transaction(self.engine) as conn:
            insert_ = dialect_insert(conn)
            for (day, feed, agent), count in reports.items():
                statement = insert_(feed_audience).values(
                    day=day, feed=feed, agent=agent, subscribers=count
                )
                conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=["day", "feed", "agent"], set_={"subscribers": count}
                    )
                )
            if readers:
                conn.execute(
                    insert_(feed_readers).on_conflict_do_nothing(),
                    [{"day": d, "feed": f, "reader": r} for d, f, r in readers],
                )


def shared_salt(engine: Engine, day: str) -> str:
    """Today's salt, the same for every process on the store; older salts are deleted."""
    key = SALT_KEY + day
    with transaction(engine) as conn:
        row = conn.execute(select(meta.c.value).where(meta.c.key == key)).first()
        if row:
            return row[0]
        conn.execute(delete(meta).where(meta.c.key.like(SALT_KEY + "%"), meta.c.key != key))
        value = secrets.token_hex(32)
        try:
            with conn.begin_nested():
                conn.execute(insert(meta).values(key=key, value=value))
        except IntegrityError:
            value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one()
        return value


def prune(conn: Connection, today: date, keep_days: int = KEEP_DAYS) -> int:
    """Delete reader hashes and aggregator reports older than ``keep_days``; the rows gone."""
    cutoff = (today - timedelta(days=keep_days)).isoformat()  # days are ISO strings
    gone = conn.execute(delete(feed_readers).where(feed_readers.c.day < cutoff)).rowcount
    return gone + conn.execute(delete(feed_audience).where(feed_audience.c.day < cutoff)).rowcount


@dataclass(frozen=True)
class Audience:
    days: list[date]
    readers: list[int]  # distinct direct readers per day
    aggregated: list[int]  # subscribers aggregators reported per day
    agents: list[tuple[str, int]]  # latest day's figure per aggregator


def audience(conn: Connection, days: list[date]) -> Audience:
    """Per day: distinct readers and the sum of aggregators' reports (their latest per feed)."""
    first = days[0].isoformat()
    readers = dict(
        conn.execute(
            select(feed_readers.c.day, func.count(func.distinct(feed_readers.c.reader)))
            .where(feed_readers.c.day >= first)
            .group_by(feed_readers.c.day)
        ).all()
    )
    per_day: dict[str, int] = {}
    latest: dict[str, int] = {}
    last_day = ""
    for day, agent, total in conn.execute(
        select(feed_audience.c.day, feed_audience.c.agent, func.sum(feed_audience.c.subscribers))
        .where(feed_audience.c.day >= first)
        .group_by(feed_audience.c.day, feed_audience.c.agent)
        .order_by(feed_audience.c.day)
    ):
        per_day[day] = per_day.get(day, 0) + int(total)
        if day != last_day:
            latest, last_day = {}, day
        latest[agent] = int(total)
    keys = [d.isoformat() for d in days]
    return Audience(
        days=days,
        readers=[readers.get(k, 0) for k in keys],
        aggregated=[per_day.get(k, 0) for k in keys],
        agents=sorted(latest.items(), key=lambda item: -item[1]),
    )
