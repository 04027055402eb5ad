"""Composing an edition for readers with topic choices beside readers of one selection.

    .venv/bin/python benchmarks/bench_topics.py [--readers 100000] [--topics 8] [--runs 3]

Two digests over the same 16 articles (each tagged with one or two of ``--topics``
topics) with the same ``--readers`` active readers each:

  one selection  every reader takes every topic: one render, one INSERT ... SELECT.
  random topics  each reader picks a random non-empty set of topics (up to 255
                 distinct sets over 8 topics): the edition is inlined once fenced and
                 each distinct set is a cut of it (digest/variants.py), then the same
                 one INSERT ... SELECT points every row at its variant.

Each run composes and queues the edition (``jobs.send_digest``: select, render, store,
variants, delivery rows, one transaction) on a store where the previous run's edition
was deleted. The cases alternate over ``--runs`` rounds. Goal: random topics within 3x
of one selection. SQLite, and PostgreSQL when SYNDICATE_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_outbox import fresh_pg_database
from measure import Row, at_most, interleaved, print_rows
from sqlalchemy import delete, func, insert, select

from syndicate.core.clock import FixedClock
from syndicate.core.config import parse_settings
from syndicate.core.db import (
    article_tags,
    articles,
    deliveries,
    editions,
    subscribers,
    subscriptions,
)
from syndicate.digest.variants import topics_key
from syndicate.service.context import App
from syndicate.service.jobs import send_digest

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
SLOT = datetime(2026, 3, 2, 8, tzinfo=UTC)
ARTICLES = 16
ROWS: list[Row] = []


def config(url: str, base: Path, topics: list[str]) -> App:
    digest = {
        "title": "Bench News weekly",
        "feed": "all",
        "schedule": "0 8 * * MON",
        "timezone": "UTC",
        "lookback": "14d",
        "max_articles": ARTICLES,
        "topics": [{"tag": t, "label": t.title()} for t in topics],
    }
    settings = parse_settings(
        {
            "site": {"title": "Bench News", "url": "https://news.example.org/"},
            "database": {"url": url},
            "mail": {"from": "Bench News <news@news.example.org>"},
            "feeds": [{"name": "all", "path": "all"}],
            "digests": [{"name": "one", **digest}, {"name": "many", **digest}],
            "web": {"base_url": "https://news.example.org/"},
        },
        base_dir=base,
        source="bench",
    )
    return App(settings, clock=FixedClock(NOW))


def populate(app: App, readers: int, topics: list[str]) -> int:
    """Articles, readers and their choices; returns the distinct topic sets."""
    rng = random.Random(16)
    with app.engine.begin() as conn:
        for i in range(ARTICLES):
            article_id = conn.execute(
                insert(articles)
                .values(
                    uid=f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
                    slug=f"story-{i}",
                    source_format="markdown",
                    title=f"Story {i}: the council votes on tram line {i}",
                    summary="What happened, who decided it, and what changes next week. " * 3,
                    content_html="<p>x</p>",
                    content_text="x",
                    published_at=NOW - timedelta(hours=i + 2),
                    updated_at=NOW - timedelta(hours=i + 2),
                    content_hash=f"{i:064d}",
                    imported_at=NOW - timedelta(days=1),
                )
                .returning(articles.c.id)
            ).scalar_one()
            tags = {topics[i % len(topics)], topics[(i * 3 + 1) % len(topics)]}
            conn.execute(insert(article_tags), [{"article_id": article_id, "tag": t} for t in tags])
        people = [
            {
                "email": f"reader{i}@example.org",
                "email_key": f"reader{i}@example.org",
                "name": "",
                "status": "active",
                "soft_bounces": 0,
                "created_at": NOW,
            }
            for i in range(readers)
        ]
        for start in range(0, readers, 10_000):
            conn.execute(insert(subscribers), people[start : start + 10_000])
        ids = list(conn.execute(select(subscribers.c.id).order_by(subscribers.c.id)).scalars())
        picks = []
        for sid in ids:
            size = rng.randint(1, len(topics))
            chosen = rng.sample(topics, size)
            key = None if size == len(topics) else topics_key(chosen)
            picks.append({"subscriber_id": sid, "digest": "many", "created_at": NOW, "topics": key})
            picks.append({"subscriber_id": sid, "digest": "one", "created_at": NOW, "topics": None})
        for start in range(0, len(picks), 20_000):
            conn.execute(insert(subscriptions), picks[start : start + 20_000])
        return conn.execute(
            select(func.count(func.distinct(subscriptions.c.topics))).where(
                subscriptions.c.digest == "many"
            )
        ).scalar_one()


def forget(app: App, name: str) -> None:
    """Delete the digest's edition (its rows, variants and article links go with it)."""
    with app.engine.begin() as conn:
        ids = select(editions.c.id).where(editions.c.digest == name)
        conn.execute(delete(deliveries).where(deliveries.c.edition_id.in_(ids)))
        conn.execute(delete(editions).where(editions.c.digest == name))


def bench(label: str, url: str, base: Path, readers: int, count: int, runs: int) -> None:
    topics = [f"topic{i}" for i in range(count)]
    app = config(url, base, topics)
    try:
        distinct = populate(app, readers, topics)
        queued: dict[str, int] = {}

        def run(name: str):
            def case() -> None:
                queued[name] = send_digest(app, name, slot=SLOT).queued

            return case

        results = interleaved(
            {"one": run("one"), "many": run("many")}, runs, before=lambda name: forget(app, name)
        )
        assert queued["one"] == readers and queued["many"] == readers, queued
        one, many = results["one"], results["many"]
        ROWS.append(
            at_most(
                f"compose + queue for {readers:,} readers over {count} topics ({label})",
                many.wall_median,
                one.wall_median,
                3,
                measured=f"random topics ({distinct} distinct sets + every-topic readers): "
                f"{many.describe()}",
                reference=f"one selection: {one.describe()}",
                reason=f"{many.wall_median / one.wall_median:.2f}x",
            )
        )
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--topics", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        bench(
            "SQLite", f"sqlite:///{base / 'topics.db'}", base, args.readers, args.topics, args.runs
        )
        admin_url = os.environ.get("SYNDICATE_TEST_DATABASE_URL")
        if admin_url:
            url = fresh_pg_database(admin_url)
            bench("PostgreSQL", url, base, args.readers, args.topics, args.runs)
    print_rows(ROWS)


if __name__ == "__main__":
    main()
