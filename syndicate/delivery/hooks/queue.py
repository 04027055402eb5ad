"""Webhook deliveries in the store: fan-out, leased claims, attempts, give-up, replay.

The email outbox's discipline: one row per (event, receiver URL), unique; claimed with
a lease before the request; marked delivered only after a 2xx; a worker killed mid-post
leaves a row whose lease runs out and is posted again with the same ``webhook-id``
(at-least-once). A row is retried on ``SCHEDULE`` (about a day in all); when its last
try fails the receiver is disabled, and every row waiting for it is held until an
operator replays the backlog (``syndicate webhooks replay URL``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from syndicate.core.config import WebhookSettings
from syndicate.core.db import (
    dialect_insert,
    events,
    is_sqlite,
    tuples,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)

# Seconds to wait after the 1st, 2nd, ... failed attempt: exponential, ~23.7 hours in all.
SCHEDULE = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800)
MAX_ATTEMPTS = len(SCHEDULE) + 1
LEASE = timedelta(minutes=2)
MAX_RETRY_AFTER = 86400
STATES = ("pending", "sending", "delivered", "failed", "held")


@dataclass(frozen=True)
class Claimed:
    id: int
    url: str
    attempts: int
    webhook_id: str
    type: str
    payload: dict[str, Any]


def _ensure_endpoint(conn: Connection, url: str, now: datetime) -> str:
    conn.execute(
        dialect_insert(conn)(webhook_endpoints)
        .values(url=url, state="active", changed_at=now)
        .on_conflict_do_nothing()
    )
    return conn.execute(
        select(webhook_endpoints.c.state).where(webhook_endpoints.c.url == url)
    ).scalar_one()


def fan_out(
    conn: Connection, hooks: Sequence[WebhookSettings], now: datetime, limit: int = 500
) -> int:
    """One delivery row per (new event, receiver that wants its type); returns the
    number of events dispatched. Events no receiver wants are marked dispatched too."""
    query = (
        select(events.c.id, events.c.type)
        .where(events.c.dispatched_at.is_(None))
        .order_by(events.c.id)
        .limit(limit)
    )
    if not is_sqlite(conn):
        query = query.with_for_update(skip_locked=True)
    found = conn.execute(query).all()
    if not found:
        return 0
    states = {hook.url: _ensure_endpoint(conn, hook.url, now) for hook in hooks}
    rows = [
        {
            "event_id": event.id,
            "url": hook.url,
            "status": "held" if states[hook.url] == "disabled" else "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for event in found
        for hook in hooks
        if event.type in hook.events
    ]
    if rows:
        conn.execute(dialect_insert(conn)(webhook_deliveries).on_conflict_do_nothing(), rows)
    conn.execute(
        update(events).where(events.c.id.in_([e.id for e in found])).values(dispatched_at=now)
    )
    return len(found)


def claim(conn: Connection, urls: Sequence[str], now: datetime, limit: int = 50) -> list[Claimed]:
    """Due rows for these (configured) receivers, leased to the caller: pending ones
    whose time has come, and ones whose sender died (lease expired)."""
    if not urls:
        return []
    d = webhook_deliveries
    due = or_(
        and_(d.c.status == "pending", d.c.not_before <= now),
        and_(d.c.status == "sending", d.c.lease_until < now),
    )
    query = (
        select(d.c.id)
        .where(due, d.c.url.in_(list(urls)))
        .order_by(d.c.not_before, d.c.id)
        .limit(limit)
    )
    if not is_sqlite(conn):
        query = query.with_for_update(skip_locked=True)
    ids: list[int] = list(conn.execute(query).scalars())
    if not ids:
        return []
    conn.execute(update(d).where(d.c.id.in_(ids)).values(status="sending", lease_until=now + LEASE))
    rows = conn.execute(
        select(d.c.id, d.c.url, d.c.attempts, events.c.webhook_id, events.c.type, events.c.payload)
        .join(events, events.c.id == d.c.event_id)
        .where(d.c.id.in_(ids))
        .order_by(d.c.event_id)
    ).all()
    return [Claimed(*row) for row in tuples(rows)]


def record_attempt(
    conn: Connection,
    item: Claimed,
    now: datetime,
    *,
    status_code: int | None,
    error: str | None,
    retry_after: float | None = None,
) -> str:
    """Store one attempt and the row's next state: delivered | pending | failed."""
    d = webhook_deliveries
    conn.execute(
        insert(webhook_attempts).values(
            delivery_id=item.id, at=now, status_code=status_code, error=(error or None)
        )
    )
    attempts = item.attempts + 1
    mine = and_(d.c.id == item.id, d.c.status == "sending")
    if error is None:
        conn.execute(
            update(d)
            .where(mine)
            .values(status="delivered", attempts=attempts, delivered_at=now, lease_until=None,
                    last_error=None)
        )  # fmt: skip
        return "delivered"
    if attempts >= MAX_ATTEMPTS:
        conn.execute(
            update(d)
            .where(mine)
            .values(status="failed", attempts=attempts, lease_until=None, last_error=error)
        )
        disable(conn, item.url, now, f"gave up on event {item.webhook_id} after {attempts} "
                f"attempts over a day; last: {error}")  # fmt: skip
        return "failed"
    delay = float(SCHEDULE[attempts - 1])
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    conn.execute(
        update(d)
        .where(mine)
        .values(
            status="pending",
            attempts=attempts,
            lease_until=None,
            last_error=error,
            not_before=now + timedelta(seconds=delay),
        )
    )
    return "pending"


def disable(conn: Connection, url: str, now: datetime, reason: str) -> None:
    """Stop posting to ``url``: its waiting rows are held until a replay."""
    _ensure_endpoint(conn, url, now)
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.url == url)
        .values(state="disabled", reason=reason[:2000], changed_at=now)
    )
    conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.url == url,
            webhook_deliveries.c.status.in_(("pending", "sending")),
        )
        .values(status="held", lease_until=None)
    )


def replay(conn: Connection, url: str, now: datetime) -> int:
    """Enable ``url`` again and queue its held and failed rows (the backlog) now."""
    _ensure_endpoint(conn, url, now)
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.url == url)
        .values(state="active", reason=None, changed_at=now)
    )
    return conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.url == url,
            webhook_deliveries.c.status.in_(("held", "failed")),
        )
        .values(status="pending", attempts=0, not_before=now, last_error=None)
    ).rowcount


def endpoints(conn: Connection) -> list[dict[str, Any]]:
    """Every receiver seen: its state, why, and its rows by status."""
    counts: dict[str, dict[str, int]] = {}
    for url, status, count in tuples(
        conn.execute(
            select(webhook_deliveries.c.url, webhook_deliveries.c.status, func.count()).group_by(
                webhook_deliveries.c.url, webhook_deliveries.c.status
            )
        )
    ):
        counts.setdefault(url, {})[status] = count
    rows = conn.execute(select(webhook_endpoints).order_by(webhook_endpoints.c.url)).mappings()
    return [dict(r) | {"deliveries": counts.get(r["url"], {})} for r in rows]


def log(conn: Connection, *, url: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest attempts: when, to where, which event, the answer."""
    d, a = webhook_deliveries, webhook_attempts
    query = (
        select(
            a.c.at,
            d.c.url,
            events.c.type,
            events.c.webhook_id,
            a.c.status_code,
            a.c.error,
            d.c.status.label("delivery_status"),
            d.c.attempts,
        )
        .join(d, d.c.id == a.c.delivery_id)
        .join(events, events.c.id == d.c.event_id)
        .order_by(a.c.id.desc())
        .limit(limit)
    )
    if url:
        query = query.where(d.c.url == url)
    return [dict(r) for r in conn.execute(query).mappings()]


def prune(conn: Connection, before: datetime) -> int:
    """Forget events dispatched before ``before`` whose every delivery has finished
    (delivered or failed): their rows and attempts go with them. Held and waiting
    deliveries are kept however old, so a replay still finds its backlog."""
    waiting = select(webhook_deliveries.c.event_id).where(
        webhook_deliveries.c.status.in_(("pending", "sending", "held"))
    )
    return conn.execute(
        delete(events).where(
            events.c.dispatched_at.is_not(None),
            events.c.dispatched_at < before,
            events.c.id.not_in(waiting),
        )
    ).rowcount
