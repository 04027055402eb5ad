"""Factories: the one place each kind of record is written directly by tests.

Tests that are not about the importer store articles through ``insert_article``;
the presets in ``feeds`` (numbered articles) and ``digests`` (titled, dated ones)
choose the column values and call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, insert

from syndicate.articles import mark_changed
from syndicate.core.db import article_tags, articles, transaction


def insert_article(engine: Engine, *, tags: Iterable[str] = (), **columns: Any) -> int:
    """Store one article row and its tags, and mark the store changed as every real
    writer does (the feed builder relies on it); returns the article's id."""
    with transaction(engine) as conn:
        article_id = conn.execute(
            insert(articles).values(**columns).returning(articles.c.id)
        ).scalar_one()
        for tag in tags:
            conn.execute(insert(article_tags).values(article_id=article_id, tag=tag))
        mark_changed(conn)
    return int(article_id)
