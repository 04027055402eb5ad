"""Subscribers in the console: search with keyset pages, and one person's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from syndicate.core.db import audit_log, is_sqlite, subscribers, subscriptions
from syndicate.delivery.outbox import history_of

PAGE = 50


# Above every character a string can hold: ``prefix + TOP`` bounds the prefix's range.
TOP = "\U0010ffff"


def starts_with(conn: Connection, column: ColumnElement[str], term: str) -> ColumnElement[bool]:
    """``lower(column)`` begins with ``term`` (lower-cased): a range on the expression
    index of migration 0010, so a search reads the matching rows only. The range is
    in the "C" collation on PostgreSQL (SQLite compares bytes already), where every
    string with the prefix, and no other, lies between the two bounds."""
    lowered: ColumnElement[str] = func.lower(column)
    if not is_sqlite(conn):
        lowered = lowered.collate("C")
    prefix = term.lower()
    return and_(lowered >= prefix, lowered < prefix + TOP)


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next_after: int | None  # the id to continue below, when there is more


def search(
    conn: Connection,
    *,
    text: str = "",
    status: str | None = None,
    digest: str | None = None,
    after: int | None = None,
    limit: int = PAGE,
) -> Page:
    """Newest first; ``after`` is the last id of the previous page (keyset, not OFFSET).
    ``text`` is the start of an address or a name (see ``starts_with``)."""
    query = select(
        subscribers.c.id,
        subscribers.c.email,
        subscribers.c.name,
        subscribers.c.status,
        subscribers.c.created_at,
        subscribers.c.status_changed_at,
    ).order_by(subscribers.c.id.desc())
    if text.strip():
        term = text.strip()
        query = query.where(
            or_(
                starts_with(conn, subscribers.c.email_key, term),
                starts_with(conn, subscribers.c.name, term),
            )
        )
    if status:
        query = query.where(subscribers.c.status == status)
    if digest:
        query = query.where(
            subscribers.c.id.in_(
                select(subscriptions.c.subscriber_id).where(subscriptions.c.digest == digest)
            )
        )
    if after is not None:
        query = query.where(subscribers.c.id < after)
    rows = [dict(r) for r in conn.execute(query.limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1]["id"] if more and rows else None)


def target(subscriber_id: int) -> str:
    """How the audit log names a subscriber: by id, so erasing them leaves no address."""
    return f"subscriber {subscriber_id}"


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str
    detail: str


def history(conn: Connection, subscriber: Any, *, limit: int = 200) -> list[Event]:
    """Subscribed, confirmed, each delivery and its outcome, status changes, operator edits."""
    events = [Event(subscriber.created_at, "signed up", "")]
    if subscriber.confirmed_at:
        events.append(Event(subscriber.confirmed_at, "confirmed", ""))
    if subscriber.status_changed_at and subscriber.status not in ("active", "pending"):
        events.append(
            Event(subscriber.status_changed_at, subscriber.status, subscriber.status_reason or "")
        )
    for row in history_of(conn, subscriber.id, limit):
        detail = f"edition {row['id']} ({row['digest']} {row['period']})"
        if row["last_error"]:
            detail += f": {row['last_error']}"
        events.append(
            Event(row["sent_at"] or row["created_at"], f"delivery {row['status']}", detail)
        )
    for row in conn.execute(
        select(audit_log.c.at, audit_log.c.action, audit_log.c.actor)
        .where(audit_log.c.target == target(subscriber.id))
        .order_by(audit_log.c.id.desc())
        .limit(limit)
    ).mappings():
        events.append(Event(row["at"], row["action"], f"by {row['actor']}"))
    return sorted(events, key=lambda e: e.at, reverse=True)
