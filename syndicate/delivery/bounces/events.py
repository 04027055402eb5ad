"""One path for every bounce or complaint event, whoever reports it.

Provider webhooks and bounce mail (DSN, ARF, NDR) both end here: the event id is
recorded in ``webhook_events`` (provider, event_id) in the caller's transaction, so
the same report twice changes nothing, and ``subscribers.record_bounce`` applies the
rule (hard bounce or complaint suppress, soft bounces count).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from syndicate.core.db import dialect_insert, webhook_events
from syndicate.core.sanitize import strip_control_chars
from syndicate.readers import subscribers as subs

log = logging.getLogger(__name__)

Kind = subs.BounceKind  # hard_bounce | soft_bounce | complaint


@dataclass(frozen=True)
class MailEvent:
    """One bounce or complaint; its text fields are made storable on creation."""

    event_id: str
    kind: Kind
    email: str
    reason: str

    def __post_init__(self) -> None:
        for name in ("event_id", "email", "reason"):
            object.__setattr__(self, name, storable(getattr(self, name)))


def storable(text: str) -> str:
    """Text any store accepts: no NUL or other XML-illegal controls (PostgreSQL refuses
    NUL) and no lone surrogates (JSON allows them; no database driver encodes them)."""
    return strip_control_chars(text.encode("utf-8", "replace").decode("utf-8"))


def apply(conn: Connection, source: str, event: MailEvent, *, now: datetime, limit: int) -> bool:
    """Record the event id and act on it, in the caller's transaction; False for a replay
    (also for the same id twice in one transaction). ``source`` is the provider name,
    or ``mail`` for reports that arrived as mail."""
    # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT DO NOTHING.
    claimed = conn.execute(
        dialect_insert(conn)(webhook_events)
        .values(provider=source, event_id=event.event_id[:300], received_at=now)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(webhook_events.c.event_id)
    ).first()
    if claimed is None:
        return False
    reason = f"{source}: {event.reason}"[:1000]
    subscriber = subs.record_bounce(
        conn, event.email, event.kind, reason=reason, now=now, limit=limit
    )
    if subscriber is not None:
        log.info("%s: %s for subscriber %s", source, event.kind, subscriber.id)
    return True
