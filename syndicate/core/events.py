"""Events for outbound webhooks: written in the transaction that made the change.

``record(conn, type, data, now)`` is called inside the very transaction that changes
a subscriber, composes or finishes an edition, publishes a feed or fails a source, so
an event exists exactly when its change was committed (the outbox discipline of the
email deliveries). Each event gets its ``webhook-id`` here, once: every retry and
every replay of it carries the same id, so a receiver can drop duplicates.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, cast, func, select, update
from sqlalchemy.engine import Connection

from syndicate.core.config import EVENT_TYPES
from syndicate.core.db import deliveries, dialect_insert, edition_counts, editions, events, tuples

# Delivery states that mean an edition is still going out (paused rows too: held).
UNFINISHED = ("queued", "sending", "deferred", "paused")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def new_webhook_id() -> str:
    return "msg_" + secrets.token_hex(16)


def record(
    conn: Connection,
    type: str,
    data: dict[str, Any],
    now: datetime,
    *,
    once_key: str | None = None,
) -> None:
    """Store one event; the caller's transaction decides whether it ever existed.
    With ``once_key``, a second event with the same key is dropped."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    conn.execute(
        dialect_insert(conn)(events)
        .values(
            webhook_id=new_webhook_id(),
            type=type,
            once_key=once_key,
            payload={"type": type, "timestamp": now.isoformat(), "data": _jsonable(data)},
            created_at=now,
        )
        .on_conflict_do_nothing()
    )


def announce_sent(conn: Connection, edition_ids: set[int], now: datetime) -> None:
    """``edition.sent`` for each of these editions whose rows have all finished (sent,
    failed, suppressed or cancelled); once per edition, whoever notices first."""
    for edition_id in sorted(edition_ids):
        # An index seek first: this runs after every provider call, and counting the
        # edition's rows each time made a send quadratic in its size.
        unfinished = conn.execute(
            select(deliveries.c.id)
            .where(deliveries.c.edition_id == edition_id, deliveries.c.status.in_(UNFINISHED))
            .limit(1)
        ).first()
        if unfinished is not None:
            continue
        # The counts the store's triggers keep (migration 0010): a few rows, not a
        # count of the edition's deliveries.
        total = func.sum(edition_counts.c.row_count)
        counts = {
            status: int(count)
            for status, count in tuples(
                conn.execute(
                    select(edition_counts.c.status, total)
                    .where(edition_counts.c.edition_id == edition_id)
                    .group_by(edition_counts.c.status)
                    .having(total != 0)
                )
            )
        }
        if not counts:
            continue
        row = conn.execute(
            select(
                editions.c.digest, editions.c.period, editions.c.subject, editions.c.status
            ).where(editions.c.id == edition_id)
        ).first()
        if row is None or row.status != "composed":
            continue  # a welcome mail is not an edition receivers were told was composed
        edition = {"id": edition_id, "digest": row.digest, "period": row.period,
                   "subject": row.subject, "deliveries": counts}  # fmt: skip
        record(
            conn, "edition.sent", {"edition": edition}, now, once_key=f"edition.sent:{edition_id}"
        )


def subscriber_data(subscriber: Any) -> dict[str, Any]:
    """What subscriber.* events say about the person (no bounce counters, no history)."""
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status,
        "digests": list(subscriber.digests),
        "status_reason": subscriber.status_reason,
    }


def forget_subscriber(conn: Connection, subscriber_id: int) -> int:
    """Erasure reaches the outbound events too: every ``subscriber.*`` event about this
    person keeps only their id, so a retry or a replay never posts the address again.
    Returns the events rewritten. The database picks them out by the id inside the
    JSON (json_extract on SQLite, #> on PostgreSQL): no event is read into Python but
    the person's own, and housekeeping keeps events ``keep_history_days`` after
    delivery, so the scan follows that window, not the list."""
    # BIGINT, as ids are (as_integer() is a 4-byte INTEGER on PostgreSQL).
    about = cast(events.c.payload[("data", "subscriber", "id")].as_string(), BigInteger)
    rows = conn.execute(
        select(events.c.id, events.c.payload).where(
            events.c.type.like("subscriber.%"), about == subscriber_id
        )
    )
    rewritten = 0
    for event_id, payload in list(tuples(rows)):
        data: dict[str, Any] = dict(payload.get("data") or {})
        data["subscriber"] = {"id": subscriber_id, "erased": True}
        conn.execute(
            update(events).where(events.c.id == event_id).values(payload={**payload, "data": data})
        )
        rewritten += 1
    return rewritten
