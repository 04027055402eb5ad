"""Feed audience: aggregators' reported subscribers and distinct readers by a daily hash."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import insert, select

from syndicate.core.clock import FixedClock
from syndicate.core.db import feed_audience, feed_readers, meta
from syndicate.intake.importers.pipeline import import_paths
from syndicate.readers import audience
from syndicate.service.context import App
from syndicate.service.jobs import build_feeds, housekeeping
from syndicate.web import create_app
from tests.support import EXAMPLES
from tests.support.console import DIGESTS, MONDAY, browser, make_operator

FEEDLY = (
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 1,234 subscribers; like FeedFetcher-Google)"
)
INOREADER = "Mozilla/5.0 (compatible; Inoreader/1.0; 56 subscribers; +http://www.inoreader.com)"
NEWSBLUR = "NewsBlur Feed Fetcher - 7 subscribers - https://www.newsblur.com/site/1/x"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def config_extra() -> str:
    return DIGESTS


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def flask(app: App) -> Flask:
    assert not import_paths(app.engine, app.settings, clock=app.clock, paths=[EXAMPLES]).failed
    build_feeds(app.engine, app.settings, clock=app.clock)
    return create_app(app)


def test_user_agents_that_report_subscribers() -> None:
    assert audience.reported(FEEDLY) == audience.Report("Feedly", 1234)
    assert audience.reported(NEWSBLUR) == audience.Report("NewsBlur Feed Fetcher", 7)
    assert audience.reported(INOREADER).subscribers == 56
    assert audience.reported(FIREFOX) is None
    assert audience.reported("") is None


def fetch(flask: Flask, agent: str, address: str) -> int:
    client = flask.test_client()
    answer = client.get(
        "/feeds/all/rss.xml",
        headers={"User-Agent": agent},
        environ_base={"REMOTE_ADDR": address},
    )
    return answer.status_code


def test_readers_are_counted_per_day_without_keeping_addresses(
    app: App, flask: Flask, clock: FixedClock
) -> None:
    assert fetch(flask, FEEDLY, "192.0.2.1") == 200
    for agent, address in ((FIREFOX, "198.51.100.7"), (FIREFOX, "198.51.100.7"),
                           (FIREFOX, "198.51.100.8"), (NEWSBLUR, "192.0.2.2")):  # fmt: skip
        fetch(flask, agent, address)
    fetch(flask, FEEDLY.replace("1,234", "1,240"), "192.0.2.1")  # the latest report wins
    flask.extensions["syndicate_audience"].flush(clock.now())
    with app.engine.connect() as conn:
        counted = audience.audience(conn, [MONDAY.date()])
        stored = [tuple(r) for r in conn.execute(select(feed_readers))]
        stored += [tuple(r) for r in conn.execute(select(feed_audience))]
        salts = [k for (k,) in conn.execute(select(meta.c.key)) if k.startswith("reader_salt:")]
    assert counted.readers == [2] and counted.aggregated == [1240 + 7]
    assert counted.agents == [("Feedly", 1240), ("NewsBlur Feed Fetcher", 7)]
    assert not any("198.51.100" in str(value) for row in stored for value in row)
    assert salts == ["reader_salt:2026-11-23"]

    clock.advance(days=1)  # a new day: a new salt, yesterday's is gone
    fetch(flask, FIREFOX, "198.51.100.7")
    flask.extensions["syndicate_audience"].flush(clock.now())
    with app.engine.connect() as conn:
        salts = [k for (k,) in conn.execute(select(meta.c.key)) if k.startswith("reader_salt:")]
        days = audience.audience(conn, [MONDAY.date(), clock.now().date()])
    assert salts == ["reader_salt:2026-11-24"]
    assert days.readers == [2, 1]

    owner = browser(flask, app, make_operator(app, "o@example.org", "owner"))
    page = owner.get("/admin/").text
    assert "feed readers today" in page and "Feed readers per day" in page


def test_a_failing_store_costs_the_figure_never_the_feed(
    app: App, flask: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """The audience tables (and the salt's table) gone: feeds are still served, one line each."""
    with app.engine.begin() as conn:
        for table in (feed_readers, feed_audience, meta):
            table.drop(conn)
    caplog.set_level(logging.WARNING, logger="syndicate.web.feedserve")
    assert fetch(flask, FIREFOX, "198.51.100.7") == 200  # the salt cannot be read
    assert fetch(flask, FEEDLY, "192.0.2.1") == 200  # the write cannot be made
    lines = [r.getMessage() for r in caplog.records if "not recorded" in r.getMessage()]
    assert len(lines) == 2 and all("\n" not in line for line in lines)


def test_aggregator_reports_held_in_memory_are_capped(app: App, clock: FixedClock) -> None:
    recorder = audience.Recorder(app.engine, max_pending=3)
    for n in range(8):  # one clock instant: only the cap makes it write early
        recorder.seen("all/rss.xml", f"Fetcher{n}/1.0 ({n + 1} subscribers)", "", clock.now())
        assert len(recorder.reports) < 3
    with app.engine.connect() as conn:
        assert len(conn.execute(select(feed_audience)).all()) >= 6


def test_housekeeping_prunes_old_audience_rows(app: App, clock: FixedClock) -> None:
    old = (MONDAY.date() - timedelta(days=audience.KEEP_DAYS + 1)).isoformat()
    recent = (MONDAY.date() - timedelta(days=29)).isoformat()
    with app.engine.begin() as conn:
        for day in (old, recent):
            conn.execute(insert(feed_readers).values(day=day, feed="all", reader=day))
            conn.execute(
                insert(feed_audience).values(day=day, feed="all", agent="Feedly", subscribers=3)
            )
    assert housekeeping(app)["audience_rows_pruned"] == 2
    with app.engine.connect() as conn:
        assert [r.day for r in conn.execute(select(feed_readers))] == [recent]
        assert [r.day for r in conn.execute(select(feed_audience))] == [recent]
