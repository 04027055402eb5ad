"""Shared pieces of the digest tests: a small fixed store and the digest config.

(No tests here; the other test_digest_* modules import these helpers.)
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import insert

from syndicate.core.db import article_tags, articles, transaction
from syndicate.service.context import App

# Weekly on Monday 08:00 Kyiv; T0 (tests/support.py) is Monday 2026-03-02 09:00 UTC,
# so the slot at or before T0 is 2026-03-02 06:00 UTC (08:00 EET).
DIGEST_CONFIG = """
[[feeds]]
name = "all"
path = "all"

[[feeds]]
name = "transit"
path = "transit"
tags = ["transit"]

[[digests]]
name = "weekly"
title = "Test News weekly"
feed = "all"
schedule = "0 8 * * MON"
timezone = "Europe/Kyiv"
max_articles = 3
skip_empty = true
lookback = "14d"
expires_after = "6h"

[[digests]]
name = "daily"
title = "Test News daily"
schedule = "30 3 * * *"
timezone = "Europe/Kyiv"
tags = ["transit"]
max_articles = 10
skip_empty = false
lookback = "1d"
"""

_counter = iter(range(1, 1_000_000))


def add_article(
    app: App,
    title: str,
    published_at: datetime,
    *,
    summary: str = "",
    tags: tuple[str, ...] = (),
    image_url: str | None = None,
    author: str | None = "City Desk",
    draft: bool = False,
    slug: str | None = None,
) -> int:
    """Store one article directly (the importer has its own tests)."""
    number = next(_counter)
    slug = slug or f"article-{number}"
    text = summary or f"The text of {title}."
    with transaction(app.engine) as conn:
        article_id = conn.execute(
            insert(articles)
            .values(
                uid=f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
                slug=slug,
                source=None,
                source_format="markdown",
                title=title,
                author_name=author,
                summary=summary or text,
                content_html=f"<p>{text}</p>",
                content_text=text,
                image_url=image_url,
                published_at=published_at,
                updated_at=published_at,
                draft=draft,
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                imported_at=published_at + timedelta(minutes=1),
            )
            .returning(articles.c.id)
        ).scalar_one()
        for tag in tags:
            conn.execute(insert(article_tags).values(article_id=article_id, tag=tag))
    return article_id
