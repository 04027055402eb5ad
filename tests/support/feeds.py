"""Helpers shared by the feed tests: articles written straight into the store, and
feedparser checks. (No tests here.)"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
from sqlalchemy import delete, insert

from syndicate.articles import mark_changed
from syndicate.core.db import article_tags, articles
from syndicate.feeds.files import FEED_FILES
from syndicate.service.context import App

START = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)

FEEDS_CONFIG = """
[[feeds]]
name = "all"
path = "all"
title = "Test News"
limit = 5
archive = true
archive_page_size = 4
hubs = ["https://hub.example.org/"]

[[feeds]]
name = "analysis"
path = "analysis"
title = "Test News: analysis"
tags = ["analysis"]
content = "summary"
per_tag = false
"""


def add_article(
    app: App,
    number: int,
    *,
    title: str | None = None,
    content_html: str | None = None,
    content_text: str | None = None,
    summary: str = "",
    tags: tuple[str, ...] = ("news",),
    published: datetime | None = None,
    author: str | None = "Ann Author",
    author_email: str | None = "ann@news.example.org",
    image: tuple[str, str | None, int | None] | None = None,
    slug: str | None = None,
    draft: bool = False,
) -> int:
    """Insert article ``number`` (uid ``tag:news.example.org,2026:article-N``)."""
    when = published or START + timedelta(hours=6 * number)
    title = title if title is not None else f"Article {number}: “quotes” & dashes — fine"
    content_html = content_html or (
        f'<p>Body of article {number} with <a href="/about/">a relative link</a>.</p>'
        f"<p>Second paragraph, «ünïcödé» 🙂.</p>"
    )
    content_text = content_text or f"Body of article {number} with a relative link."
    digest = hashlib.sha256(f"{title}\n{content_html}\n{summary}".encode()).hexdigest()
    image_url, image_type, image_length = image or (None, None, None)
    with app.engine.begin() as conn:
        article_id = conn.execute(
            insert(articles).values(
                uid=f"tag:news.example.org,2026:article-{number}",
                slug=slug or f"article-{number}",
                source_format="markdown",
                title=title,
                author_name=author,
                author_email=author_email,
                summary=summary,
                content_html=content_html,
                content_text=content_text,
                image_url=image_url,
                image_type=image_type,
                image_length=image_length,
                published_at=when,
                updated_at=when,
                draft=draft,
                content_hash=digest,
                imported_at=when,
            )
        ).inserted_primary_key[0]
        for tag in tags:
            conn.execute(insert(article_tags).values(article_id=article_id, tag=tag))
        mark_changed(conn)  # as every real writer does: the feed builder relies on it
    return int(article_id)


def clear_articles(app: App) -> None:
    with app.engine.begin() as conn:
        conn.execute(delete(article_tags))
        conn.execute(delete(articles))
        mark_changed(conn)


def feed_files(root: Path) -> list[Path]:
    names = set(FEED_FILES.values())
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name in names)


def parse_clean(path: Path) -> Any:
    """feedparser's reading of ``path``; fails the test on any bozo (malformed) flag."""
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, f"{path}: feedparser bozo: {parsed.get('bozo_exception')!r}"
    return parsed
