"""The outbox: one delivery row per (edition, subscriber), claimed with a lease.

States: queued -> sending -> sent | deferred | failed | suppressed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, literal, select
from sqlalchemy.engine import Connection

from .db import deliveries, subscribers, subscriptions


def message_id_for(edition_id: int, subscriber_id: int, domain: str) -> str:
    """Stable per (edition, subscriber): a resend carries the same Message-ID."""
    return f"<e{edition_id}.s{subscriber_id}@{domain}>"


def enqueue(conn: Connection, *, edition_id: int, digest: str, now: datetime, domain: str) -> int:
    """Queue the edition for every active subscriber of the digest, in one statement.

    Idempotent: the (edition, subscriber) unique key means a second call adds only
    subscribers who joined since. Returns the number of rows added.
    """
    from sqlalchemy import func

    already = select(deliveries.c.subscriber_id).where(deliveries.c.edition_id == edition_id)
    message_id = func.concat(literal(f"<e{edition_id}.s"), subscribers.c.id, literal(f"@{domain}>"))
    source = (
        select(
            literal(edition_id),
            subscribers.c.id,
            subscribers.c.email,
            subscribers.c.name,
            literal("queued"),
            literal(0),
            literal(0),
            literal(now, type_=deliveries.c.not_before.type),
            message_id,
            literal(now, type_=deliveries.c.created_at.type),
        )
        .select_from(
            subscribers.join(subscriptions, subscriptions.c.subscriber_id == subscribers.c.id)
        )
        .where(
            and_(
                subscriptions.c.digest == digest,
                subscribers.c.status == "active",
                subscribers.c.id.not_in(already),
            )
        )
    )
    result = conn.execute(
        deliveries.insert().from_select(
            [
                "edition_id",
                "subscriber_id",
                "email",
                "name",
                "status",
                "attempts",
                "uncertain_attempts",
                "not_before",
                "message_id",
                "created_at",
            ],
            source,
        )
    )
    return result.rowcount or 0
