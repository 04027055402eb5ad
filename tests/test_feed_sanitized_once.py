"""Article HTML is sanitised once, at import: the feed builder uses it as stored when it
was cleaned under the current policy, and cleans everything else again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, update

from syndicate.core.db import articles
from syndicate.core.sanitize import policy_key
from syndicate.feeds import build_feeds
from syndicate.intake.importers.pipeline import import_paths
from syndicate.service.context import App
from tests.support.feeds import FEEDS_CONFIG, add_numbered_article

TRICKY = """\
---
title: "Tricky {n}"
date: 2026-02-0{n} 10:00
tags: [news, analysis]
---

A [relative link](/about/) and a [footnote](#notes) with&nbsp;a no-break space,
**bold** `code` and an entity &#169; &amp; <b onclick="x()">raw</b>.

<iframe src="https://video.example.com/embed/{n}"></iframe>
<iframe src="https://evil.example.net/embed/{n}"></iframe>
<script>alert({n})</script><img src="/media/{n}.png" alt="a picture">

- item <a href="javascript:alert(1)">bad</a>
- item <a href="mailto:desk@news.example.org">mail</a>
"""


@pytest.fixture
def config_extra() -> str:
    return FEEDS_CONFIG


@pytest.fixture
def video_app(app: App) -> App:
    """The app with iframes allowed from one host (the policy depends on it)."""
    site = app.settings.site.model_copy(update={"iframe_hosts": ["video.example.com"]})
    return App(app.settings.model_copy(update={"site": site}), clock=app.clock, _engine=app.engine)


def _feed_bytes(app: App) -> dict[str, bytes]:
    root = app.settings.feeds_dir
    files = (p for p in root.rglob("*.*") if not p.name.startswith("."))  # not the manifest
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def test_stored_html_gives_the_same_feed_bytes_as_cleaning_it_again(
    video_app: App, tmp_path: Path
) -> None:
    app = video_app
    source = tmp_path / "articles"
    source.mkdir()
    for number in range(1, 6):
        (source / f"tricky-{number}.md").write_text(TRICKY.format(n=number), encoding="utf-8")
    assert import_paths(app.engine, app.settings, clock=app.clock, paths=[source]).failed == []
    site = app.settings.site
    with app.engine.connect() as conn:
        keys = set(conn.execute(select(articles.c.sanitized_with)).scalars())
    assert keys == {policy_key(site.url, site.iframe_hosts)}

    build_feeds(app.engine, app.settings, clock=app.clock)
    trusted = _feed_bytes(app)
    rss = trusted["all/rss.xml"].decode()
    assert "alert(" not in rss and "evil.example.net" not in rss and "onclick" not in rss
    assert "video.example.com/embed/5" in rss and "https://news.example.org/about/" in rss

    with app.engine.begin() as conn:  # as if cleaned under an older policy
        conn.execute(update(articles).values(sanitized_with=None))
    shutil.rmtree(app.settings.feeds_dir)
    build_feeds(app.engine, app.settings, clock=app.clock)
    assert _feed_bytes(app) == trusted


def test_html_cleaned_under_another_policy_is_cleaned_again(app: App) -> None:
    add_numbered_article(
        app,
        1,
        content_html='<p onclick="steal()">Hi <script>alert(1)</script>'
        '<a href="javascript:alert(2)">x</a><a href="/rel/">y</a></p>',
    )
    with app.engine.begin() as conn:
        conn.execute(update(articles).values(sanitized_with="an-older-policy"))
    build_feeds(app.engine, app.settings, clock=app.clock)
    rss = (app.settings.feeds_dir / "all/rss.xml").read_text(encoding="utf-8")
    assert "Hi" in rss
    for unsafe in ("onclick", "alert(", "javascript:"):
        assert unsafe not in rss
    assert "https://news.example.org/rel/" in rss
