"""A reader's choices beyond which digests: topics, how often, and the private feed.

Readers pick in groups (``Choice``): a digest on its own, or the digests of one feed
that set a ``frequency`` (daily, weekly...), offered as one "how often" choice of
which a reader holds at most one. Within a choice a reader keeps some or all of its
topics; "all" is stored as NULL so a topic added later reaches them too.

Forms send ``digest`` (checkboxes, one per digest on its own), ``often-<key>`` (one
radio per group: a digest name, or empty for none) and ``topics-<key>`` (checkboxes).
Anything not offered is refused with a 400 (``NotOffered``), never stored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from syndicate.core import events
from syndicate.core.config import DigestSettings, Settings, TopicSettings
from syndicate.core.db import deliveries, editions, subscribers, subscriptions, tuples
from syndicate.core.errors import BadInput
from syndicate.delivery.messages import WELCOME_SUFFIX
from syndicate.digest.variants import topics_key
from syndicate.readers import subscribers as subs

log = logging.getLogger(__name__)

MAX_VALUES = 50  # form values read per field


class NotOffered(BadInput):
    """A topic or frequency the form never offered (a forged or stale request)."""


class Form(Protocol):
    def get(self, key: str) -> str | None: ...
    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Choice:
    """One thing a reader decides: a digest, or how often to get one feed."""

    key: str  # form field suffix: the digest's name, or the feed's name for a group
    title: str
    digests: tuple[DigestSettings, ...]  # one, or the frequencies in config order
    topics: tuple[TopicSettings, ...]  # what the choice offers (the first digest's)

    @property
    def grouped(self) -> bool:
        return len(self.digests) > 1 or self.digests[0].frequency is not None

    def has(self, name: str) -> bool:
        return any(d.name == name for d in self.digests)


def choices(settings: Settings) -> list[Choice]:
    """Every choice the forms offer, in config order."""
    found: list[Choice] = []
    seen: set[str] = set()
    for digest in settings.digests:
        if digest.name in seen:
            continue
        group = tuple(settings.frequency_choices(digest))
        seen.update(d.name for d in group)
        key = digest.feed if digest.frequency is not None and digest.feed else digest.name
        title = settings.feed(digest.feed).title if len(group) > 1 and digest.feed else None
        topics = next((d.topics for d in group if d.topics), [])
        found.append(Choice(key, title or digest.title, group, tuple(topics)))
    return found


def parse_topics(digest: DigestSettings, given: Sequence[str]) -> str | None:
    """The stored form of a topic pick: None for all (or none picked), else the key."""
    if len(given) > MAX_VALUES:
        raise NotOffered(f"too many topics for {digest.title!r}")
    offered = {topic.tag for topic in digest.topics}
    wanted = set(given)
    unknown = sorted(wanted - offered)
    if unknown:
        raise NotOffered(f"{digest.title!r} offers no topic {unknown[0][:60]!r}")
    if not wanted or wanted == offered:
        return None
    return topics_key(wanted)


def read_form(settings: Settings, form: Form) -> dict[str, str | None]:
    """digest name -> topics (None: all) from a subscribe or preferences form."""
    ticked = set(form.getlist("digest")[:MAX_VALUES])
    chosen: dict[str, str | None] = {}
    for choice in choices(settings):
        picked: DigestSettings | None = None
        if choice.grouped:
            often = form.get(f"often-{choice.key}")
            if often is None:  # no radio sent: a plain ``digest`` value still counts
                picked = next((d for d in choice.digests if d.name in ticked), None)
            elif often:
                picked = next((d for d in choice.digests if d.name == often[:200]), None)
                if picked is None:
                    raise NotOffered(f"{choice.title!r} is not offered {often[:60]!r}")
        elif choice.digests[0].name in ticked:
            picked = choice.digests[0]
        if picked is not None:
            chosen[picked.name] = parse_topics(picked, form.getlist(f"topics-{choice.key}"))
    return chosen


def topics_of(conn: Connection, subscriber_id: int) -> dict[str, tuple[str, ...] | None]:
    """digest -> the reader's topics (None: all), for the digests they receive."""
    rows = conn.execute(
        select(subscriptions.c.digest, subscriptions.c.topics).where(
            subscriptions.c.subscriber_id == subscriber_id
        )
    )
    return {digest: tuple(topics.split(",")) if topics else None for digest, topics in tuples(rows)}


def change(
    conn: Connection,
    current: subs.Subscriber,
    *,
    digests: Sequence[str],
    timezone: str | None,
    name: str,
    now: datetime,
    topics: Mapping[str, str | None] | None = None,
) -> None:
    """A reader's new choices, from the preferences page or the API, in the caller's
    transaction: details and digests, topics when given (else kept), and the rows
    still queued for a digest they left stopped (``stop_pending``)."""
    subs.set_preferences(conn, current.id, digests=digests, timezone=timezone, name=name, now=now)
    if topics is not None:
        set_topics(conn, current.id, topics)
    stop_pending(conn, current.id, [d for d in current.digests if d not in digests], now=now)


def set_topics(conn: Connection, subscriber_id: int, chosen: Mapping[str, str | None]) -> None:
    """Store the topics of the reader's subscriptions (after their digests are set)."""
    for digest, topics in chosen.items():
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.subscriber_id == subscriber_id, subscriptions.c.digest == digest)
            .values(topics=topics)
        )


def stop_pending(
    conn: Connection, subscriber_id: int, left: Sequence[str], *, now: datetime
) -> int:
    """Rows still waiting for digests the reader just left (a new frequency, say) are
    suppressed now, in the transaction that changes the choice: whatever was queued is
    then either sent (already claimed) or never sent, and the next edition of the new
    frequency knows which (see digest/variants.py)."""
    if not left:
        return 0
    names = [*left, *(f"{name}{WELCOME_SUFFIX}" for name in left)]
    waiting = (
        deliveries.c.subscriber_id == subscriber_id,
        deliveries.c.status.in_(("queued", "deferred")),
        deliveries.c.edition_id.in_(select(editions.c.id).where(editions.c.digest.in_(names))),
    )
    touched: set[int] = set(conn.execute(select(deliveries.c.edition_id).where(*waiting)).scalars())
    stopped = (
        conn.execute(
            update(deliveries)
            .where(*waiting)
            .values(status="suppressed", last_error="the reader changed their choice")
        ).rowcount
        or 0
    )
    if stopped:
        events.announce_sent(conn, touched, now)  # an edition this reader was last of
    return stopped


def revoke_feed(conn: Connection, subscriber_id: int) -> None:
    """The private feed's old URL stops working (410); the next one carries a new key."""
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(feed_key=subscribers.c.feed_key + 1)
    )
    log.info("subscriber %s: private feed URL revoked", subscriber_id)


def topic_labels(settings: Settings, digest: str, topics: tuple[str, ...] | None) -> list[str]:
    """What a reader picked, in words (every topic when they picked all)."""
    offered = settings.digest(digest).topics
    return [t.label for t in offered if topics is None or t.tag in topics]


@dataclass(frozen=True)
class ChoiceState:
    """A choice as a form shows it: which digest is picked and which topics ticked."""

    choice: Choice
    current: str | None  # the digest picked, if any
    ticked: frozenset[str]  # topic tags ticked (every one when the reader has all)


def as_tags(chosen: Mapping[str, str | None]) -> dict[str, tuple[str, ...] | None]:
    """``read_form``'s answer in the shape of ``topics_of``."""
    return {d: tuple(t.split(",")) if t else None for d, t in chosen.items()}


def form_state(
    offered: Sequence[Choice], picked: Mapping[str, tuple[str, ...] | None]
) -> list[ChoiceState]:
    states = []
    for choice in offered:
        current = next((d.name for d in choice.digests if d.name in picked), None)
        tags = picked.get(current) if current else None
        every = frozenset(topic.tag for topic in choice.topics)
        states.append(ChoiceState(choice, current, every if tags is None else frozenset(tags)))
    return states
