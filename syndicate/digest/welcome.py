"""The welcome email: sent through the outbox on confirmation, at most once.

A welcome is an edition of its own (digest ``<name>.welcome``, which no digest name
can be, status ``welcome``) rendered once per (digest, latest edition, next slot), so
its link to the latest edition in the archive and its "next edition" date are
current; each reader gets one delivery row, queued in the transaction that confirms
them. A crash either confirms and queues, or neither; the (edition, subscriber) key
means a reader who confirms again while nothing changed is not welcomed twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from syndicate.core.config import DigestSettings, Settings
from syndicate.core.db import deliveries, dialect_insert, editions
from syndicate.core.i18n import translator
from syndicate.core.render import render, render_string
from syndicate.delivery.messages import (
    PLACEHOLDERS,
    WELCOME_SUFFIX,
    header_value,
    message_domain,
    message_id_for,
)
from syndicate.digest.render import view_url
from syndicate.digest.windows import edition_date, next_slot, period_key
from syndicate.readers.subscribers import Subscriber

STATUS = "welcome"


def _latest(conn: Connection, digest: DigestSettings) -> tuple[int, datetime] | None:
    row = conn.execute(
        select(editions.c.id, editions.c.period_end)
        .where(editions.c.digest == digest.name, editions.c.status == "composed")
        .order_by(editions.c.period.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def _edition(settings: Settings, conn: Connection, digest: DigestSettings, now: datetime) -> int:
    """The welcome edition that is current for ``digest``, stored on first use."""
    tz = settings.digest_timezone(digest)
    latest = _latest(conn, digest)
    upcoming = next_slot(digest, tz, now)
    period = f"welcome:{latest[0] if latest else 0}:{period_key(upcoming) if upcoming else '-'}"
    name = f"{digest.name}{WELCOME_SUFFIX}"
    found = conn.execute(
        select(editions.c.id).where(editions.c.digest == name, editions.c.period == period)
    ).scalar()
    if found is not None:
        return int(found)
    language = settings.digest_language(digest)
    context: dict[str, Any] = {
        "site": settings.site,
        "language": language,
        "digest": digest,
        "topics": [topic.label for topic in digest.topics],
        "next_edition": edition_date(upcoming, tz) if upcoming else None,
        "latest_url": view_url(settings, digest.name, edition_date(latest[1], tz))
        if latest
        else None,
        "archive_url": f"{settings.web_base_url}digests/{digest.name}/",
        "links": {
            "unsubscribe": PLACEHOLDERS[0],
            "preferences": PLACEHOLDERS[1],
            "feed": PLACEHOLDERS[4],
        },
    }
    if digest.welcome_subject is None:
        t = translator(language, settings.templates_dir)
        subject = header_value(t.gettext("Welcome to %(title)s") % {"title": digest.title})
    else:
        subject = header_value(
            render_string(
                digest.welcome_subject, label=f"digest {digest.name!r} welcome_subject", **context
            )
        )
    html = render(settings.templates_dir, "email/welcome.html", subject=subject, **context)
    text = render(settings.templates_dir, "email/welcome.txt", subject=subject, **context)
    conn.execute(
        dialect_insert(conn)(editions)
        .values(
            digest=name,
            period=period,
            period_start=now,
            period_end=now,
            status=STATUS,
            subject=subject,
            html=html,
            text=text,
            html_bytes=len(html.encode("utf-8")),
            created_at=now,
            queued_at=now,
        )
        .on_conflict_do_nothing(index_elements=["digest", "period"])
    )
    return int(
        conn.execute(
            select(editions.c.id).where(editions.c.digest == name, editions.c.period == period)
        ).scalar_one()
    )


def queue_welcome(
    settings: Settings, conn: Connection, subscriber: Subscriber, now: datetime
) -> int:
    """Queue a welcome for each of the reader's digests that sends one; returns the
    rows added."""
    added = 0
    domain = message_domain(settings)
    for digest in settings.digests:
        if not digest.welcome or digest.name not in subscriber.digests:
            continue
        edition_id = _edition(settings, conn, digest, now)
        sid = subscriber.id
        result = conn.execute(
            dialect_insert(conn)(deliveries)
            .values(
                edition_id=edition_id,
                subscriber_id=sid,
                email=subscriber.email,
                name=subscriber.name,
                status="queued",
                attempts=0,
                uncertain_attempts=0,
                not_before=now,
                message_id=message_id_for(edition_id, sid, domain),
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["edition_id", "subscriber_id"])
        )
        added += result.rowcount or 0
    return added
