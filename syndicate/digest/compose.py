"""Choose an edition's articles and store the edition, once per (digest, period).

The window of the edition at ``slot`` is ``(start, slot]``: ``start`` is the end of
the previous edition that was composed or empty (a skipped slot does not move it, so
its articles reach the next edition), or ``slot - lookback`` for the first edition.
The very first edition of a digest ends at the moment it is composed rather than at
its slot, so a new site's first run mails what was just written; the next edition
starts at the slot and leaves out what is already in an edition.
A service that was down across several periods therefore covers them all, once.
An article imported after the previous edition was composed but dated before its
end (a late, back-dated article) joins the next edition if it is within ``lookback``;
re-importing an edited article counts as arriving then, so an article left out by
``max_articles`` can come back after an edit.
An article already in an edition of this digest is never chosen again (the
``edition_articles`` unique key enforces it too).
"""

from __future__ import annotations

import dataclasses
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, insert, select, text, type_coerce, update
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from syndicate.articles import Article, ArticleFilter, by_ids, published
from syndicate.core import events
from syndicate.core.clock import Clock
from syndicate.core.config import DigestSettings, Settings
from syndicate.core.db import (
    UtcDateTime,
    edition_articles,
    editions,
    is_sqlite,
    transaction,
    tuples,
)
from syndicate.core.errors import DigestError
from syndicate.digest.render import render_edition
from syndicate.digest.windows import latest_slot, parse_period, period_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Edition:
    """One stored edition; ``html``/``text`` still carry the per-recipient placeholders."""

    id: int
    digest: str
    period: str
    period_start: datetime
    period_end: datetime
    status: str  # composed | skipped | empty
    subject: str
    html: str
    text: str
    article_count: int
    more_count: int
    html_bytes: int
    reason: str | None
    created_at: datetime
    queued_at: datetime | None = None  # when its delivery rows were queued
    article_ids: tuple[int, ...] = ()
    created: bool = field(default=False, compare=False)  # stored by this call

    @property
    def slot(self) -> datetime:
        return parse_period(self.period)


@dataclass(frozen=True)
class Selection:
    """What an edition at a slot would carry, before anything is stored."""

    slot: datetime
    period_start: datetime
    articles: list[Article]
    more_count: int


def article_filter(settings: Settings, digest: DigestSettings) -> ArticleFilter:
    """The digest's articles: its feed's filter, or its own any-of tags."""
    if digest.feed is not None:
        feed = settings.feed(digest.feed)
        return ArticleFilter.for_feed(feed)
    return ArticleFilter.of(digest.tags)


def _edition_from(conn: Connection, row: RowMapping, *, created: bool = False) -> Edition:
    ids: list[int] = list(
        conn.execute(
            select(edition_articles.c.article_id)
            .where(edition_articles.c.edition_id == row["id"])
            .order_by(edition_articles.c.position)
        ).scalars()
    )
    names = [name for name in Edition.__dataclass_fields__ if name in row]
    return Edition(**{n: row[n] for n in names}, article_ids=tuple(ids), created=created)


def find_edition(
    conn: Connection,
    *,
    digest: str | None = None,
    period: str | None = None,
    edition_id: int | None = None,
) -> Edition | None:
    """An edition by id, or by (digest, period)."""
    if edition_id is not None:
        condition = editions.c.id == edition_id
    elif digest is not None and period is not None:
        condition = (editions.c.digest == digest) & (editions.c.period == period)
    else:
        raise ValueError("find_edition needs edition_id or digest and period")
    row = conn.execute(select(editions).where(condition)).mappings().first()
    return None if row is None else _edition_from(conn, row)


def find_edition_row(conn: Connection, edition_id: int) -> RowMapping | None:
    """One stored edition's row, every column (what a message is built from)."""
    return conn.execute(select(editions).where(editions.c.id == edition_id)).mappings().first()


def has_edition(conn: Connection, digest: str) -> bool:
    """Whether ``digest`` ever stored an edition (composed, empty or skipped)."""
    found = conn.execute(select(editions.c.id).where(editions.c.digest == digest).limit(1))
    return found.first() is not None


@dataclass(frozen=True)
class History:
    """What the editions before a slot say about its window, read in one query."""

    previous_end: datetime | None  # end of the last composed or empty edition
    chosen_at: datetime | None  # when that edition chose its articles
    earliest_skipped: datetime | None  # start of the earliest earlier edition of any kind


def history(conn: Connection, digest: DigestSettings, slot: datetime) -> History:
    before = (editions.c.digest == digest.name) & (editions.c.period < period_key(slot))
    counted = editions.c.status != "skipped"

    def utc(aggregate: Any) -> Any:  # aggregates bypass the column type: restore it
        return type_coerce(aggregate, UtcDateTime)

    ((last_end, last_created, earliest),) = tuples(
        conn.execute(
            select(
                utc(func.max(case((counted, editions.c.period_end)))),
                utc(func.max(case((counted, editions.c.created_at)))),
                utc(func.min(editions.c.period_start)),
            ).where(before)
        )
    )
    return History(last_end, last_created, earliest)


def window_start(digest: DigestSettings, slot: datetime, past: History) -> datetime:
    """Where the window of ``slot`` begins (see the module docstring)."""
    if past.previous_end is not None:
        return past.previous_end
    start = slot - digest.lookback
    if past.earliest_skipped is not None:
        start = min(start, past.earliest_skipped)
    return start


def late_arrivals(
    digest: DigestSettings, slot: datetime, past: History
) -> tuple[datetime, datetime] | None:
    """Back-dated articles imported after the previous edition chose its articles are
    not missed: they join this edition if published within ``lookback`` of the slot."""
    if past.chosen_at is None:
        return None  # the first edition reaches back ``lookback`` anyway
    return past.chosen_at, slot - digest.lookback


def select_articles(
    conn: Connection,
    settings: Settings,
    digest: DigestSettings,
    slot: datetime,
    *,
    composed_at: datetime | None = None,
) -> Selection:
    """Newest first, at most ``max_articles``, none already in an edition of this digest.

    The first edition a digest ever composes also takes what was published between its
    slot and ``composed_at``: a new site's first `run --once` mails the article just
    written instead of an empty edition. Those articles are then in an edition, so the
    next one (whose window starts at this slot) never repeats them."""
    past = history(conn, digest, slot)
    start = window_start(digest, slot, past)
    first = past == History(None, None, None)
    until = max(slot, composed_at) if first and composed_at is not None else slot
    already = select(edition_articles.c.article_id).where(edition_articles.c.digest == digest.name)
    candidates = published(
        conn,
        now=until,
        flt=article_filter(settings, digest),
        since=start,
        late=late_arrivals(digest, slot, past),
        exclude_ids=already,
        bodies=False,
    )
    chosen = by_ids(conn, [article.id for article in candidates[: digest.max_articles]])
    return Selection(slot, start, chosen, max(0, len(candidates) - len(chosen)))


def _lock_digest(conn: Connection, name: str) -> None:
    """Serialise composition per digest (SQLite's BEGIN IMMEDIATE already does)."""
    if not is_sqlite(conn):
        key = zlib.crc32(f"digest:{name}".encode())
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _resolve_slot(
    settings: Settings, clock: Clock, digest: DigestSettings, slot: datetime | None
) -> datetime:
    now = clock.now()
    if slot is None:
        found = latest_slot(digest, settings.digest_timezone(digest), now)
        if found is None:
            raise DigestError(
                f"digest {digest.name!r} has no scheduled slot before now",
                hint=f"check its schedule {digest.schedule!r}",
            )
        return found
    if slot.tzinfo is None:
        raise ValueError("slot must be an aware datetime")
    if slot > now:
        raise DigestError(
            f"the slot {period_key(slot)} of digest {digest.name!r} is still in the future"
        )
    return slot.astimezone(UTC)


def _store(
    conn: Connection,
    *,
    digest: str,
    slot: datetime,
    period_start: datetime,
    status: str,
    created_at: datetime,
    reason: str | None = None,
    subject: str = "",
    html: str = "",
    text_body: str = "",
    article_ids: list[int] | None = None,
    more_count: int = 0,
) -> Edition:
    ids = article_ids or []
    edition_id: int = conn.execute(
        insert(editions)
        .values(
            digest=digest,
            period=period_key(slot),
            period_start=period_start,
            period_end=slot,
            status=status,
            subject=subject,
            html=html,
            text=text_body,
            article_count=len(ids),
            more_count=more_count,
            html_bytes=len(html.encode("utf-8")),
            reason=reason,
            created_at=created_at,
        )
        .returning(editions.c.id)
    ).scalar_one()
    if ids:
        conn.execute(
            insert(edition_articles),
            [
                {"edition_id": edition_id, "article_id": aid, "digest": digest, "position": i}
                for i, aid in enumerate(ids)
            ],
        )
    if status == "composed":
        events.record(
            conn,
            "edition.composed",
            {"edition": {"id": edition_id, "digest": digest, "period": period_key(slot),
                         "subject": subject, "article_count": len(ids)}},
            created_at,
        )  # fmt: skip
    row = conn.execute(select(editions).where(editions.c.id == edition_id)).mappings().one()
    return _edition_from(conn, row, created=True)


Queue = Callable[[Connection, Edition], object]


def _needs_queue(edition: Edition, queue: Queue | None) -> bool:
    return queue is not None and edition.status == "composed" and edition.queued_at is None


def compose(
    engine: Engine,
    settings: Settings,
    digest: DigestSettings,
    *,
    clock: Clock,
    slot: datetime | None = None,
    queue: Queue | None = None,
) -> Edition:
    """The edition of ``slot`` (default: the latest slot at or before now), stored once.

    Composing a period twice returns the stored edition. With no new article and
    ``skip_empty`` the edition is stored as ``empty`` (nothing to send). A failed
    pre-send check stores nothing and raises DigestError listing the problems.

    ``queue(conn, edition)`` queues a composed edition's delivery rows in the same
    transaction that stores it (and stamps ``queued_at``), so a process killed midway
    leaves either both or neither; a composed edition found without ``queued_at``
    (stored without ``queue``, or before this rule) is queued now.
    """
    name = digest.name
    slot = _resolve_slot(settings, clock, digest, slot)
    period = period_key(slot)
    with engine.connect() as conn:
        existing = find_edition(conn, digest=name, period=period)
    if existing is not None and not _needs_queue(existing, queue):
        return existing
    try:
        with transaction(engine) as conn:
            _lock_digest(conn, name)
            edition = find_edition(conn, digest=name, period=period)
            if edition is None:
                edition = _compose_locked(settings, clock, conn, digest, slot)
            if queue is not None and _needs_queue(edition, queue):
                queue(conn, edition)
                queued_at = clock.now()
                conn.execute(
                    update(editions).where(editions.c.id == edition.id).values(queued_at=queued_at)
                )
                edition = dataclasses.replace(edition, queued_at=queued_at)
            return edition
    except IntegrityError:
        # Another process stored this period between our check and insert.
        with engine.connect() as conn:
            existing = find_edition(conn, digest=name, period=period)
        if existing is None:
            raise DigestError(f"digest {name!r}: could not store the edition of {period}") from None
        return existing


def _compose_locked(
    settings: Settings, clock: Clock, conn: Connection, digest: DigestSettings, slot: datetime
) -> Edition:
    now = clock.now()
    selection = select_articles(conn, settings, digest, slot, composed_at=now)
    if not selection.articles and digest.skip_empty:
        edition = _store(
            conn,
            digest=digest.name,
            slot=slot,
            period_start=selection.period_start,
            status="empty",
            created_at=now,
            reason="no new articles in the period",
        )
        log.info("digest %s: edition %s of %s is empty", digest.name, edition.id, edition.period)
        return edition
    rendered = render_edition(
        settings, digest, selection.articles, slot=slot, more_count=selection.more_count
    )
    if not rendered.check.ok:
        raise DigestError(
            f"digest {digest.name!r}: the edition of {period_key(slot)} fails the pre-send "
            f"check: {'; '.join(rendered.check.errors)}",
            hint="fix the template (or the articles) and send again; nothing was stored",
        )
    for warning in rendered.check.warnings:
        log.warning("digest %s: %s", digest.name, warning)
    edition = _store(
        conn,
        digest=digest.name,
        slot=slot,
        period_start=selection.period_start,
        status="composed",
        created_at=now,
        subject=rendered.subject,
        html=rendered.html,
        text_body=rendered.text,
        article_ids=[article.id for article in selection.articles],
        more_count=selection.more_count,
    )
    log.info(
        "digest %s: edition %s of %s composed with %d article(s), %d more, %d bytes",
        digest.name,
        edition.id,
        edition.period,
        edition.article_count,
        edition.more_count,
        edition.html_bytes,
    )
    return edition


def record_skipped(
    engine: Engine, digest: DigestSettings, slot: datetime, reason: str, *, clock: Clock
) -> Edition:
    """Record a slot that will not be sent (missed by more than ``expires_after``).

    Its articles are not consumed: the next composed edition's window starts before it.
    """
    name = digest.name
    slot = slot.astimezone(UTC)
    period = period_key(slot)
    try:
        with transaction(engine) as conn:
            _lock_digest(conn, name)
            existing = find_edition(conn, digest=name, period=period)
            if existing is not None:
                return existing
            edition = _store(
                conn,
                digest=name,
                slot=slot,
                period_start=window_start(digest, slot, history(conn, digest, slot)),
                status="skipped",
                created_at=clock.now(),
                reason=reason,
            )
    except IntegrityError:
        with engine.connect() as conn:
            existing = find_edition(conn, digest=name, period=period)
        if existing is None:
            raise
        return existing
    log.info("digest %s: slot %s recorded as skipped: %s", name, period, reason)
    return edition
