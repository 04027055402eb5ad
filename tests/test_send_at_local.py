"""``send_at_local``: each reader's copy waits for that hour in their own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from syndicate.core.clock import FixedClock
from syndicate.core.db import deliveries
from syndicate.readers import subscribers
from syndicate.service.context import App
from syndicate.service.jobs import send_digest
from tests.support.digests import add_dated_article

CONFIG = """
[[feeds]]
name = "all"
path = "all"

[[digests]]
name = "morning"
title = "Morning"
feed = "all"
schedule = "0 0 * * *"
timezone = "Europe/Kyiv"
send_at_local = 7
"""


@pytest.fixture
def config_extra() -> str:
    return CONFIG


def test_each_copy_waits_for_seven_in_the_readers_zone(app: App, clock: FixedClock) -> None:
    clock.set(datetime(2026, 7, 1, 0, 5, tzinfo=UTC))  # 03:05 in Kyiv (EEST, +3)
    add_dated_article(app, "Ferry timetable changes", clock.now() - timedelta(hours=5))
    with app.engine.begin() as conn:
        kyiv, _ = subscribers.add(conn, "kyiv@example.org", digests=["morning"], now=clock.now())
        york, _ = subscribers.add(
            conn,
            "york@example.org",
            digests=["morning"],
            now=clock.now(),
            timezone="America/New_York",
        )
    run = send_digest(app, "morning")
    assert run.queued == 2
    with app.engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.subscriber_id, deliveries.c.not_before)).all()
    wait = {subscriber_id: not_before for subscriber_id, not_before in rows}
    assert wait[kyiv.id] == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # 07:00 EEST
    assert wait[york.id] == datetime(2026, 7, 1, 11, 0, tzinfo=UTC)  # 07:00 EDT


def test_a_second_send_holds_only_the_new_rows(app: App, clock: FixedClock) -> None:
    clock.set(datetime(2026, 7, 1, 0, 5, tzinfo=UTC))  # 03:05 in Kyiv
    add_dated_article(app, "Ferry timetable changes", clock.now() - timedelta(hours=5))
    with app.engine.begin() as conn:
        first, _ = subscribers.add(conn, "first@example.org", digests=["morning"], now=clock.now())
    send_digest(app, "morning")
    clock.set(datetime(2026, 7, 1, 4, 30, tzinfo=UTC))  # 07:30 in Kyiv, not yet delivered
    with app.engine.begin() as conn:
        late, _ = subscribers.add(conn, "late@example.org", digests=["morning"], now=clock.now())
    assert send_digest(app, "morning").queued == 1
    with app.engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.subscriber_id, deliveries.c.not_before)).all()
    wait = {subscriber_id: not_before for subscriber_id, not_before in rows}
    assert wait[first.id] == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # still due today
    assert wait[late.id] == datetime(2026, 7, 2, 4, 0, tzinfo=UTC)  # joined after 07:00
