"""Feed build benchmark on a 10,000-article store (a plain script, not a test).

    .venv/bin/python benchmarks/bench_feeds.py [--articles N] [--keep DIR]

Measures, in one run:
- the full build of every configured feed (all formats, RFC 5005 archive pages),
- feedgen alone serialising the same pages' entries to RSS and Atom (the goal is a
  full build within 1.5x of it),
- a rebuild with nothing changed (goal: 0 bytes written, under 5% of the full build),
- a rebuild after one new article (only the live feeds and newest archive page).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedgen.feed import FeedGenerator
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from goals import at_most

from syndicate.clock import FixedClock
from syndicate.config import load_settings
from syndicate.context import App
from syndicate.db import article_tags, articles
from syndicate.feeds import build_feeds
from syndicate.feeds.build import _Entries, _plan, render_page

CONFIG = """
[site]
title = "Bench News"
url = "https://news.example.org/"
description = "Benchmark"
author = {{ name = "Desk", email = "desk@news.example.org" }}

[database]
url = "sqlite:///{db}"

[paths]
feeds = "feeds"

[[feeds]]
name = "all"
path = "all"
limit = 50
archive = true
archive_page_size = 50
hubs = ["https://hub.example.org/"]

[[feeds]]
name = "analysis"
path = "analysis"
tags = ["analysis"]
limit = 50
archive = true
archive_page_size = 50

[mail]
from = "Bench <bench@news.example.org>"
"""

START = datetime(2020, 1, 1, tzinfo=UTC)
BODY = (
    "<h2>Section</h2><p>Lorem ipsum dolor sit amet, <a href='/link/{n}'>consectetur</a> "
    "adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. "
    "“Quotes” — dashes, ünïcödé 🙂.</p>"
) * 8


def _row(number: int) -> dict:
    when = START + timedelta(hours=number)
    html = BODY.format(n=number)
    return {
        "uid": f"tag:news.example.org,2020:bench-{number}",
        "slug": f"bench-{number}",
        "source_format": "markdown",
        "title": f"Benchmark article {number}: a fairly ordinary headline",
        "author_name": "Ann Author",
        "author_email": "ann@news.example.org",
        "summary": "A summary of a couple of sentences that readers see in their list.",
        "content_html": html,
        "content_text": html.replace("<", " "),
        "published_at": when,
        "updated_at": when,
        "draft": False,
        "content_hash": hashlib.sha256(html.encode()).hexdigest(),
        "imported_at": when,
    }


def populate(app: App, count: int) -> None:
    with app.engine.begin() as conn:
        conn.execute(insert(articles), [_row(n) for n in range(1, count + 1)])
        ids = conn.execute(select(articles.c.id)).scalars().all()
        tags = [{"article_id": i, "tag": "news"} for i in ids]
        tags += [{"article_id": i, "tag": "analysis"} for i in ids if i % 4 == 0]
        conn.execute(insert(article_tags), tags)


def feedgen_alone(app: App) -> float:
    """Seconds feedgen itself takes to serialise the same pages' entries (RSS + Atom)."""
    with app.engine.connect() as conn:
        plan = _plan(conn, app, None)
        entries = _Entries(conn)
        entries.load(plan.pages)
        pages = [(page, entries.of(page)) for page in plan.pages]
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for page, items in pages:
            generator = FeedGenerator()
            generator.id(page.spec.feed_id)
            generator.title(page.spec.title)
            generator.link(href=page.spec.home_url, rel="alternate")
            generator.description(page.spec.description)
            generator.updated(page.updated)
            for entry in items:
                item = generator.add_entry(order="append")
                item.id(entry.id)
                item.title(entry.title)
                item.link(href=entry.url)
                item.published(entry.published)
                item.updated(entry.updated)
                item.author({"name": entry.author_name or "Desk"})
                item.summary(entry.summary)
                item.content(entry.content_html, type="html")
                item.category([{"term": tag} for tag in entry.tags])
            generator.rss_str(pretty=True)
            generator.atom_str(pretty=True)
    return time.perf_counter() - started


def render_only(app: App) -> float:
    """Seconds to plan, load and render every page without writing (where time goes)."""
    started = time.perf_counter()
    with app.engine.connect() as conn:
        plan = _plan(conn, app, None)
        entries = _Entries(conn)
        for page in plan.pages:
            entries.load([page])
            render_page(page, entries.of(page), list(page.spec.formats))
    return time.perf_counter() - started


def timed(app: App) -> tuple[float, object]:
    started = time.perf_counter()
    report = build_feeds(app)
    return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="Work in DIR and keep it.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "config.toml"
        config.write_text(CONFIG.format(db=folder / "bench.db"), encoding="utf-8")
        clock = FixedClock(START + timedelta(hours=args.articles + 100))
        with App(load_settings(config), clock=clock) as app:
            populate(app, args.articles)
            full_time, full = timed(app)
            alone = feedgen_alone(app)
            rendering = render_only(app)
            again_time, again = timed(app)
            with app.engine.begin() as conn:
                conn.execute(insert(articles), [_row(args.articles + 1)])
            one_time, one = timed(app)
        rows = [
            ("full build", full_time, len(full.written), full.bytes_written),
            ("feedgen alone (same pages, RSS+Atom)", alone, 0, 0),
            ("build without writing (3 formats)", rendering, 0, 0),
            ("rebuild, nothing changed", again_time, len(again.written), again.bytes_written),
            ("rebuild after one new article", one_time, len(one.written), one.bytes_written),
        ]
        print(f"{args.articles} articles, {len(full.written)} files")
        print(f"{'case':40} {'seconds':>9} {'files':>6} {'bytes':>11}")
        for name, seconds, files, size in rows:
            print(f"{name:40} {seconds:9.3f} {files:6d} {size:11d}")
        ratio, share = full_time / alone, again_time / full_time
        print(f"full build / feedgen alone: {ratio:.2f}x {at_most(ratio, 1.5, '<= 1.5x')}")
        print(
            f"no-change rebuild / full build: {share:.1%} {at_most(share, 0.05, '< 5%')}, "
            f"{again.bytes_written} bytes written {at_most(again.bytes_written, 0, '0 bytes')}"
        )
        print("written after one new article:", ", ".join(sorted(one.written)))


if __name__ == "__main__":
    main()
