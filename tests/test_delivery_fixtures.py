"""Shared by the outbox, mailer, delivery and crash tests: a queued edition in a store.

(Named test_* so it belongs to the delivery area; it holds helpers, no tests.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, insert, select

from syndicate.db import editions, subscribers, subscriptions
from syndicate.outbox import enqueue

EDITION_HTML = (
    "<html><body><p>Hello @@name@@,</p><p>{body}</p>"
    '<p><a href="@@unsubscribe_url@@">Unsubscribe</a> '
    '<a href="@@preferences_url@@">Preferences</a></p></body></html>'
)
EDITION_TEXT = "Hello @@name@@,\n\n{body}\n\nUnsubscribe: @@unsubscribe_url@@\n"


def add_subscribers(
    engine: Engine, count: int, *, now: datetime, digest: str = "weekly"
) -> list[int]:
    """``count`` new active subscribers of ``digest``; returns their ids."""
    with engine.connect() as conn:
        start = conn.execute(select(func.count()).select_from(subscribers)).scalar_one()
    rows = [
        {
            "email": f"reader{i}@example.com",
            "email_key": f"reader{i}@example.com",
            "name": f"Reader {i}",
            "status": "active",
            "soft_bounces": 0,
            "created_at": now,
            "confirmed_at": now,
        }
        for i in range(start, start + count)
    ]
    with engine.begin() as conn:
        ids = [
            conn.execute(insert(subscribers).values(**row)).inserted_primary_key[0] for row in rows
        ]
        conn.execute(
            insert(subscriptions),
            [{"subscriber_id": sid, "digest": digest, "created_at": now} for sid in ids],
        )
    return ids


def add_edition(
    engine: Engine,
    *,
    now: datetime,
    digest: str = "weekly",
    period: str = "2026-03-02T06:00Z",
    body: str = "This week's news.",
) -> int:
    with engine.begin() as conn:
        return conn.execute(
            insert(editions).values(
                digest=digest,
                period=period,
                period_start=now,
                period_end=now,
                status="composed",
                subject="Test News weekly: 2 March",
                html=EDITION_HTML.format(body=body),
                text=EDITION_TEXT.format(body=body),
                article_count=1,
                more_count=0,
                html_bytes=100,
                created_at=now,
            )
        ).inserted_primary_key[0]


def queued_edition(engine: Engine, count: int, *, now: datetime, **kw: object) -> int:
    """An edition queued for ``count`` new subscribers; returns the edition id."""
    add_subscribers(engine, count, now=now)
    edition_id = add_edition(engine, now=now, **kw)  # type: ignore[arg-type]
    with engine.begin() as conn:
        enqueue(conn, edition_id=edition_id, digest="weekly", now=now, domain="news.example.org")
    return edition_id
