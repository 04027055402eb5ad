"""Variants of an edition: what readers with a choice receive, cut from one render.

A digest that offers topics or a frequency choice renders its edition once more with
each article's block fenced and the article-dependent values left as slots
(``render.py``, ``marked``), and premailer inlines that once. A reader's variant is
that HTML with the other articles' blocks cut out and the slots filled; its text and
subject are Jinja alone. So 100,000 readers over 8 topics cost one inlining plus a
string cut per distinct selection, never a render per reader.

Variants are keyed per edition: ``t:<topics>`` for a topic set (the subscription's
``topics``), ``a:<article ids>`` for a reader who already had some of the edition's
articles through another frequency of the same feed. The delivery row points at its
variant; readers of every topic keep ``variant_id`` NULL and get the edition itself.

Already had: derived from the delivery rows of the sibling digests' editions (their
variants' ``article_ids``), read in the transaction that queues the new rows, so the
rule holds across a crash at any line: either the rows and their variants are stored
together or neither is. A row counts unless it was suppressed (never sent); a failed
row counts too, since a retry may still deliver it.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from syndicate.articles import by_ids
from syndicate.core.clock import Clock
from syndicate.core.config import DigestSettings, Settings
from syndicate.core.db import (
    deliveries,
    dialect_insert,
    edition_articles,
    edition_variants,
    editions,
    subscribers,
    subscriptions,
    tuples,
)
from syndicate.delivery.outbox import enqueue
from syndicate.digest.render import (
    ARTICLE_BEGIN,
    ARTICLE_END,
    NUMBER,
    SLOTS,
    count_label,
    preheader,
    render_edition,
    render_subject,
    template_context,
)

if TYPE_CHECKING:
    from syndicate.digest.compose import Edition

_FENCED = re.compile(
    re.escape(ARTICLE_BEGIN).replace(r"\{\}", r"(\d+)") + "(.*?)" + re.escape(ARTICLE_END),
    re.DOTALL,
)
_NUMBER = re.compile(re.escape(NUMBER))


def topics_key(tags: Iterable[str]) -> str:
    """How a topic set is stored: its tags sorted, joined by commas (tags have none)."""
    return ",".join(sorted(set(tags)))


def has_choices(digest: DigestSettings, siblings: Sequence[str]) -> bool:
    """Readers of this digest may receive something other than the edition itself."""
    return bool(digest.topics) or bool(siblings)


@dataclass(frozen=True)
class Fenced:
    """The marked render in pieces: text before, each article's block with the text
    after it, in edition order."""

    head: str
    blocks: dict[int, tuple[str, str]]

    @classmethod
    def parse(cls, source: str, ids: Sequence[int]) -> Fenced | None:
        """None when the template does not fence every article (an operator's own)."""
        bits = _FENCED.split(source)
        found = [int(i) for i in bits[1::3]]
        if found != list(ids):
            return None
        blocks = {int(bits[i]): (bits[i + 1], bits[i + 2]) for i in range(1, len(bits) - 1, 3)}
        return cls(bits[0], blocks)

    def cut(self, ids: Sequence[int]) -> str:
        """The blocks of ``ids`` only, each with the text that followed it."""
        order = list(self.blocks)
        tail = self.blocks[order[-1]][1] if order else ""
        kept = [self.blocks[i][0] + (self.blocks[i][1] if i != order[-1] else "") for i in ids]
        return self.head + "".join(kept) + tail


class Variants:
    """The variants of one edition, rendered at most once per distinct article set."""

    def __init__(
        self, settings: Settings, clock: Clock, conn: Connection, edition: Edition
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.conn = conn
        self.edition = edition
        self.digest = settings.digest(edition.digest)
        self.articles = by_ids(conn, list(edition.article_ids))
        self._fenced: tuple[Fenced | None, Fenced | None] | None = None  # not rendered yet
        self._ids: dict[str, int] = {}
        self.carried: dict[int, tuple[int, ...]] = {}  # variant id -> its articles
        for vid, key, ids in tuples(
            conn.execute(
                select(
                    edition_variants.c.id, edition_variants.c.key, edition_variants.c.article_ids
                ).where(edition_variants.c.edition_id == edition.id)
            )
        ):
            self._ids[key] = vid
            self.carried[vid] = tuple(ids)

    def for_topics(self, key: str) -> tuple[int, ...]:
        """The edition's articles tagged with one of the topics in ``key``."""
        wanted = set(key.split(","))
        return tuple(a.id for a in self.articles if wanted.intersection(a.tags))

    def ensure(self, key: str, ids: Sequence[int]) -> int | None:
        """The id of the variant ``key`` carrying ``ids``, stored now if new; None when
        it would be empty and the digest skips empty editions (no mail)."""
        return self.ensure_all({key: tuple(ids)})[key]

    def ensure_all(self, wanted: Mapping[str, tuple[int, ...]]) -> dict[str, int | None]:
        """``ensure`` for many keys: the new ones rendered, then stored in one statement."""
        now = self.clock.now()
        new = []
        for key, ids in wanted.items():
            if key in self._ids or (not ids and self.digest.skip_empty):
                continue
            subject, body, text = self._render(ids)
            new.append(
                {
                    "edition_id": self.edition.id,
                    "key": key,
                    "subject": subject,
                    "html": body,
                    "text": text,
                    "article_ids": list(ids),
                    "created_at": now,
                }
            )
        if new:
            self.conn.execute(
                dialect_insert(self.conn)(edition_variants).on_conflict_do_nothing(
                    index_elements=["edition_id", "key"]
                ),
                new,
            )
            stored = self.conn.execute(
                select(edition_variants.c.key, edition_variants.c.id).where(
                    edition_variants.c.edition_id == self.edition.id,
                    edition_variants.c.key.in_([row["key"] for row in new]),
                )
            )
            for key, vid in tuples(stored):
                self._ids[key] = vid
                self.carried[vid] = tuple(wanted[key])
        return {key: self._ids.get(key) for key in wanted}

    def _render(self, ids: Sequence[int]) -> tuple[str, str, str]:
        wanted = set(ids)
        chosen = [a for a in self.articles if a.id in wanted]
        more = self.edition.more_count
        html_source, text_source = self._sources()
        if html_source is None or text_source is None or not chosen:
            rendered = render_edition(
                self.settings, self.digest, chosen, slot=self.edition.slot, more_count=more
            )
            return rendered.subject, rendered.html, rendered.text
        context = template_context(
            self.settings, self.digest, chosen, slot=self.edition.slot, more_count=more
        )
        subject = render_subject(self.digest, context)
        values = {
            "subject": subject,
            "preheader": preheader([a.title for a in chosen]),
            "count_label": count_label(self.settings, self.digest, len(chosen) + more),
        }
        order = [a.id for a in chosen]
        body = _fill(html_source.cut(order), values, html.escape)
        text = _fill(text_source.cut(order), values, str)
        return subject, body, text

    def _sources(self) -> tuple[Fenced | None, Fenced | None]:
        """The edition rendered once with fences: HTML (inlined) and text."""
        if self._fenced is None:
            marked = render_edition(
                self.settings,
                self.digest,
                self.articles,
                slot=self.edition.slot,
                more_count=self.edition.more_count,
                marked=True,
            )
            ids = [a.id for a in self.articles]
            self._fenced = (Fenced.parse(marked.html, ids), Fenced.parse(marked.text, ids))
        return self._fenced


def _fill(source: str, values: Mapping[str, str], escape: Callable[[str], str]) -> str:
    """The slots filled and the articles numbered again from 1."""
    for name, slot in SLOTS.items():
        source = source.replace(slot, escape(values[name]))
    numbers = itertools.count(1)
    return _NUMBER.sub(lambda _: str(next(numbers)), source)


def queue(
    settings: Settings,
    clock: Clock,
    conn: Connection,
    edition: Edition,
    *,
    now: datetime,
    domain: str,
) -> int:
    """Queue ``edition`` for every current reader, each with their choice; idempotent.

    A digest without choices queues one row per reader of the edition itself, as ever.
    Returns the rows added."""
    digest = settings.digest(edition.digest)
    siblings = [d.name for d in settings.frequency_choices(digest) if d.name != digest.name]
    if not has_choices(digest, siblings):
        return enqueue(conn, edition_id=edition.id, digest=digest.name, now=now, domain=domain)
    variants = Variants(settings, clock, conn, edition)
    keys: Iterable[str] = conn.execute(
        select(subscriptions.c.topics)
        .join(subscribers, subscribers.c.id == subscriptions.c.subscriber_id)
        .where(
            subscriptions.c.digest == digest.name,
            subscriptions.c.topics.is_not(None),
            subscribers.c.status == "active",
        )
        .distinct()
    ).scalars()
    variants.ensure_all({f"t:{key}": variants.for_topics(key) for key in keys})
    added = enqueue(
        conn, edition_id=edition.id, digest=digest.name, now=now, domain=domain, variants=True
    )
    if siblings and edition.article_ids:
        added -= _leave_out_already_had(conn, variants, siblings, now)
    return added


def _leave_out_already_had(
    conn: Connection, variants: Variants, siblings: Sequence[str], now: datetime
) -> int:
    """Rows just queued for readers who had some of these articles through another
    frequency get a variant without them (or go, when nothing is left and the digest
    skips empty editions). Returns the rows removed."""
    edition = variants.edition
    d, e, ea, v = deliveries, editions, edition_articles, edition_variants
    just_queued = (d.c.edition_id == edition.id) & (d.c.created_at == now)
    new = select(d.c.subscriber_id).where(just_queued)
    earlier = d.alias("earlier")
    rows = conn.execute(
        select(earlier.c.subscriber_id, ea.c.article_id, v.c.article_ids)
        .select_from(
            earlier.join(e, e.c.id == earlier.c.edition_id)
            .join(ea, ea.c.edition_id == e.c.id)
            .outerjoin(v, v.c.id == earlier.c.variant_id)
        )
        .where(
            e.c.digest.in_(list(siblings)),
            ea.c.article_id.in_(list(edition.article_ids)),
            earlier.c.status != "suppressed",
            earlier.c.subscriber_id.in_(new),
        )
    )
    had: dict[int, set[int]] = defaultdict(set)
    for subscriber_id, article_id, carried in tuples(rows):
        if isinstance(carried, str):
            carried = json.loads(carried)
        if carried is None or article_id in carried:
            had[subscriber_id].add(article_id)
    if not had:
        return 0
    removed = 0
    current = conn.execute(
        select(d.c.id, d.c.subscriber_id, d.c.variant_id).where(
            just_queued, d.c.subscriber_id.in_(list(had))
        )
    ).all()
    for row_id, subscriber_id, variant_id in tuples(current):
        carried = variants.carried[variant_id] if variant_id else edition.article_ids
        ids = tuple(i for i in carried if i not in had[subscriber_id])
        if ids == tuple(carried):
            continue
        key = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:32]
        new_variant = variants.ensure(f"a:{key}", ids)
        if new_variant is None:
            conn.execute(delete(d).where(d.c.id == row_id))
            removed += 1
        else:
            conn.execute(update(d).where(d.c.id == row_id).values(variant_id=new_variant))
    return removed
