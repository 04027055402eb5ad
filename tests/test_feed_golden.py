"""Golden files: the exact bytes of the feeds of a small fixed store.

A change in what the builder writes shows up here as a diff; accept it with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_feed_golden.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from syndicate.feeds import build_feeds
from syndicate.service.context import App
from tests.support import check_golden
from tests.support.feeds import FEEDS_CONFIG, START, add_numbered_article

GOLDEN_FILES = [
    "all/rss.xml",
    "all/atom.xml",
    "all/feed.json",
    "all/archive/1/rss.xml",
    "all/archive/1/atom.xml",
    "all/archive/1/feed.json",
    "analysis/rss.xml",
    "analysis/atom.xml",
    "analysis/feed.json",
    "index.html",
    "feeds.opml",
]


@pytest.fixture
def config_extra() -> str:
    return FEEDS_CONFIG


def _fixed_store(app: App) -> None:
    add_numbered_article(app, 1, summary="The first one, with a summary of its own.")
    add_numbered_article(
        app,
        2,
        title="<b>Bold</b> &amp; <script>alert(1)</script>Title",
        content_html='<p onclick="x()">Hi <img src="/img/a.png" alt="a"></p><script>x</script>',
        content_text="Hi",
        tags=("analysis", "news"),
        author=None,
    )
    add_numbered_article(app, 3, image=("https://cdn.example.org/photo.jpg", "image/jpeg", 52_100))
    add_numbered_article(app, 4, tags=("analysis",), author_email="not an address")
    add_numbered_article(app, 5, published=START + timedelta(days=3), tags=())
    add_numbered_article(app, 6, title="Ünïcödé — كتابة — 書く — ✅ ⚠️", tags=("world",))


def test_golden_feeds(app: App) -> None:
    _fixed_store(app)
    build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    for relpath in GOLDEN_FILES:
        check_golden(f"feeds/{relpath}", (root / relpath).read_bytes())
