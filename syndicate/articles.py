"""The Article model and the queries that read articles for feeds, digests and pages.

Importers (``syndicate.intake.importers``) write articles; everything else reads them here,
through one filter, so a feed and a digest drawing on the same tags see the same set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from sqlalchemy import Select, and_, bindparam, delete, exists, func, not_, or_, select
from sqlalchemy.engine import Connection, Result

from syndicate.core.buildstamp import CHANGE_KEY
from syndicate.core.clock import utc
from syndicate.core.db import article_tags, articles, dialect_insert_for, meta, tuples

if TYPE_CHECKING:
    from syndicate.core.config import FeedSettings

# A media type as stored (``image_type`` is String(100)) and written to enclosures.
_MIME_TYPE = re.compile(r"[a-z0-9.+-]{1,40}/[a-z0-9.+-]{1,59}")


def valid_mime_type(value: str | None) -> str | None:
    """``value`` lower-cased when it is a plain ``type/subtype`` that fits the column."""
    mime = (value or "").strip().lower()
    return mime if _MIME_TYPE.fullmatch(mime) else None


def page_url(site_url: str, slug: str) -> str:
    """An article's public page: ``<site.url><slug>/``."""
    return f"{site_url}{slug}/"


@dataclass(frozen=True)
class Article:
    """One stored article; ``uid`` is its permanent feed id, ``slug`` its URL name."""

    id: int
    uid: str
    slug: str
    title: str
    summary: str
    content_html: str
    content_text: str
    published_at: datetime
    updated_at: datetime
    author_name: str | None = None
    author_email: str | None = None
    image_url: str | None = None
    image_type: str | None = None
    image_length: int | None = None
    audio_url: str | None = None
    audio_type: str | None = None
    audio_length: int | None = None
    audio_duration: int | None = None  # seconds
    draft: bool = False
    tags: tuple[str, ...] = ()
    source: str | None = None
    source_format: str = "markdown"
    content_hash: str = ""
    sanitized_with: str | None = None  # sanitize.policy_key of content_html's cleaning

    def url(self, site_url: str) -> str:
        return page_url(site_url, self.slug)


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles a feed or digest draws on. Empty lists mean "no constraint"."""

    tags_any: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        tags: Iterable[str] = (),
        tags_all: Iterable[str] = (),
        exclude_tags: Iterable[str] = (),
        authors: Iterable[str] = (),
    ) -> ArticleFilter:
        return cls(tuple(tags), tuple(tags_all), tuple(exclude_tags), tuple(authors))

    @classmethod
    def for_feed(cls, feed: FeedSettings) -> ArticleFilter:
        """The articles a configured feed (and a digest following it) draws on."""
        return cls.of(feed.tags, feed.tags_all, feed.exclude_tags, feed.authors)


def _has_tag(tag_values: Sequence[str]) -> Any:
    return exists().where(
        article_tags.c.article_id == articles.c.id, article_tags.c.tag.in_(tag_values)
    )


def _conditions(flt: ArticleFilter) -> list[Any]:
    conditions: list[Any] = []
    if flt.tags_any:
        conditions.append(_has_tag(flt.tags_any))
    for tag in flt.tags_all:
        conditions.append(_has_tag([tag]))
    if flt.exclude_tags:
        conditions.append(not_(_has_tag(flt.exclude_tags)))
    if flt.authors:
        conditions.append(articles.c.author_name.in_(flt.authors))
    return conditions


def _load_tags(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    tags: dict[int, list[str]] = {}
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        rows = conn.execute(
            select(article_tags.c.article_id, article_tags.c.tag)
            .where(article_tags.c.article_id.in_(chunk))
            .order_by(article_tags.c.article_id, article_tags.c.tag)
        )
        for article_id, tag in tuples(rows):
            tags.setdefault(article_id, []).append(tag)
    return {key: tuple(value) for key, value in tags.items()}


# Columns left out by ``bodies=False``: the large ones (they come back "").
BODY_COLUMNS = ("content_html", "content_text")


def _columns(bodies: bool) -> list[Any]:
    return [c for c in articles.c if bodies or c.name not in BODY_COLUMNS]


def _to_articles(conn: Connection, result: Result[Any]) -> list[Article]:
    keys = list(result.keys())
    rows = result.all()
    if not rows:
        return []
    id_at = keys.index("id")
    tags = _load_tags(conn, [row[id_at] for row in rows])
    # Every row has the same columns: find the Article fields among them once, then
    # read rows by position (a mapping lookup per column was most of a 10,000-row load).
    picks = [(name, at) for at, name in enumerate(keys) if name in Article.__dataclass_fields__]
    bodies: dict[str, Any] = {column: "" for column in BODY_COLUMNS if column not in keys}
    return [
        Article(**bodies, **{name: row[at] for name, at in picks}, tags=tags.get(row[id_at], ()))
        for row in rows
    ]


def published(
    conn: Connection,
    *,
    now: datetime,
    flt: ArticleFilter = ArticleFilter(),
    since: datetime | None = None,
    limit: int | None = None,
    oldest_first: bool = False,
    exclude_ids: Any = None,
    bodies: bool = True,
    late: tuple[datetime, datetime] | None = None,
) -> list[Article]:
    """Visible articles (not drafts, not future-dated), newest first by default.

    Ties on the publication time are broken by id so the order is deterministic.
    ``since`` keeps articles published after it; ``late = (imported_after,
    published_after)`` also keeps back-dated ones that arrived after ``imported_after``.
    ``exclude_ids`` is a subquery or list of article ids to leave out.
    ``bodies=False`` skips ``BODY_COLUMNS`` (cheap change detection; load them later
    with ``by_ids``).
    """
    conditions = [articles.c.draft.is_(False), articles.c.published_at <= now]
    conditions += _conditions(flt)
    if since is not None:
        window = articles.c.published_at > since
        if late is not None:
            imported_after, published_after = late
            window = or_(
                window,
                and_(
                    articles.c.imported_at > imported_after,
                    articles.c.published_at > published_after,
                ),
            )
        conditions.append(window)
    if exclude_ids is not None:
        conditions.append(articles.c.id.not_in(exclude_ids))
    order = (
        (articles.c.published_at.asc(), articles.c.id.asc())
        if oldest_first
        else (articles.c.published_at.desc(), articles.c.id.desc())
    )
    query = select(*_columns(bodies)).where(and_(*conditions)).order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return _to_articles(conn, conn.execute(query))


def all_articles(conn: Connection, *, bodies: bool = True) -> list[Article]:
    """Every stored article, drafts and future ones included, newest first.
    ``bodies=False`` leaves out ``BODY_COLUMNS`` (a listing needs no bodies)."""
    order = (articles.c.published_at.desc(), articles.c.id.desc())
    return _to_articles(conn, conn.execute(select(*_columns(bodies)).order_by(*order)))


def find(conn: Connection, key: str) -> Article | None:
    """An article by slug, uid or numeric id."""
    condition = or_(articles.c.slug == key, articles.c.uid == key)
    if key.isdigit():
        condition = or_(condition, articles.c.id == int(key))
    found = _to_articles(conn, conn.execute(select(articles).where(condition).limit(1)))
    return found[0] if found else None


def by_ids(conn: Connection, ids: Sequence[int]) -> list[Article]:
    """Articles by id, in the order given."""
    found: dict[int, Article] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(select(articles).where(articles.c.id.in_(ids[start : start + 500])))
        for article in _to_articles(conn, rows):
            found[article.id] = article
    return [found[i] for i in ids if i in found]


def bodies(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """``BODY_COLUMNS`` (HTML, text) by article id: what light rows (``bodies=False``)
    leave out, without loading their other columns and tags a second time."""
    found: dict[int, tuple[str, str]] = {}
    columns = [articles.c.id, *(articles.c[name] for name in BODY_COLUMNS)]
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        query = select(*columns).where(articles.c.id.in_(ids[start : start + 500]))
        for article_id, html, text in tuples(conn.execute(query)):
            found[article_id] = (html, text)
    return found


@lru_cache(maxsize=8)
def _lookup(column: str, whole: bool) -> Select[Any]:
    """``SELECT ... WHERE column = :value`` built once: the importer asks several of these
    per file, and building a statement costs more than SQLite answering it."""
    what = (articles,) if whole else (articles.c.id,)
    return select(*what).where(articles.c[column] == bindparam("value")).order_by(articles.c.id)


def by_source(conn: Connection, source: str) -> Article | None:
    """The article imported from ``source`` (a resolved file path), if any."""
    found = _to_articles(conn, conn.execute(_lookup("source", True), {"value": source}))
    return found[0] if found else None


def by_content_hash(conn: Connection, content_hash: str) -> list[Article]:
    """Articles whose imported content hashes to ``content_hash`` (to follow renames)."""
    rows = conn.execute(_lookup("content_hash", True), {"value": content_hash})
    return _to_articles(conn, rows)


def taken(conn: Connection, column: str, value: str) -> bool:
    """Whether an article has ``value`` in the unique ``column`` (``slug`` or ``uid``):
    one index lookup that loads no row."""
    return conn.execute(_lookup(column, False), {"value": value}).first() is not None


def slugs_like(conn: Connection, base: str) -> set[str]:
    """Slugs equal to ``base`` or of the form ``base-N`` (for picking a free one).

    ``LIKE`` cannot use the slug index (SQLite's is case-insensitive): ask ``taken``
    first and come here only when ``base`` is taken.
    """
    query = select(articles.c.slug).where(
        or_(articles.c.slug == base, articles.c.slug.like(f"{base}-%"))
    )
    return set(conn.execute(query).scalars())


def mark_changed(conn: Connection) -> None:
    """Record that the articles changed (a new token in ``meta``); every writer calls it,
    so the feed builder can tell "nothing changed" from one cheap read."""
    conn.execute(_mark_statement(conn.dialect.name), {"value": uuid4().hex})


@lru_cache(maxsize=4)
def _mark_statement(dialect: str) -> Any:
    """The upsert of the change token, built once per dialect (every import runs it)."""
    insert = dialect_insert_for(dialect)
    statement = insert(meta).values(key=CHANGE_KEY, value=bindparam("value"))
    return statement.on_conflict_do_update(
        index_elements=["key"], set_={"value": statement.excluded.value}
    )


def change_token(conn: Connection) -> str | None:
    return conn.execute(select(meta.c.value).where(meta.c.key == CHANGE_KEY)).scalar()


def remove(conn: Connection, article_id: int) -> None:
    """Delete an article; its tags go with it (ON DELETE CASCADE, SQLite included)."""
    conn.execute(delete(articles).where(articles.c.id == article_id))
    mark_changed(conn)


def visible_count(conn: Connection, now: datetime) -> int:
    """How many articles readers can see at ``now`` (not drafts, published by then)."""
    visible = and_(articles.c.draft.is_(False), articles.c.published_at <= now)
    return conn.execute(select(func.count()).select_from(articles).where(visible)).scalar_one()


def next_visible(conn: Connection, now: datetime) -> datetime | None:
    """When the next future-dated article becomes visible (None: there is none): until
    then, time passing changes nothing readers can see."""
    waiting = and_(articles.c.draft.is_(False), articles.c.published_at > now)
    found = conn.execute(select(func.min(articles.c.published_at)).where(waiting)).scalar()
    return utc(found) if found is not None else None


def newest_import(conn: Connection) -> datetime | None:
    """When the most recently imported (or re-imported) article was stored."""
    return conn.execute(select(func.max(articles.c.imported_at))).scalar()
