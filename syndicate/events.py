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

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from .config import EVENT_TYPES
from .db import events


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


def record(conn: Connection, type: str, data: dict[str, Any], now: datetime) -> None:
    """Store one event; the caller's transaction decides whether it ever existed."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    conn.execute(
        insert(events).values(
            webhook_id=new_webhook_id(),
            type=type,
            payload={"type": type, "timestamp": now.isoformat(), "data": _jsonable(data)},
            created_at=now,
        )
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
