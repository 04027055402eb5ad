"""The service's digest runs with a fixed clock: catch-up, expiry, one edition per slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from syndicate.core.clock import FixedClock
from syndicate.core.db import deliveries, editions
from syndicate.readers import subscribers
from syndicate.service.context import App
from syndicate.service.jobs import catch_up, digest_slot_job
from tests.support.digests import DIGEST_CONFIG, add_dated_article

# Weekly digest: Mondays 08:00 Kyiv (06:00 UTC in winter); expires_after = 6h.
MON_1 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
MON_2 = MON_1 + timedelta(days=7)
MON_3 = MON_2 + timedelta(days=7)


@pytest.fixture
def config_extra() -> str:
    return DIGEST_CONFIG


def _editions(app: App) -> list[tuple[str, str, int]]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(editions.c.period, editions.c.status, editions.c.article_count)
            .where(editions.c.digest == "weekly")
            .order_by(editions.c.period)
        )
        return [tuple(r) for r in rows]


def _queued(app: App) -> int:
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(deliveries)).scalar_one()


@pytest.fixture
def reader(app: App) -> None:
    with app.engine.begin() as conn:
        subscribers.add(conn, "reader@example.org", digests=["weekly"], now=app.clock.now())


def first_week_sent(app: App, clock: FixedClock) -> None:
    """One article, and the first Monday's edition composed on time."""
    add_dated_article(app, "Bridge works begin", MON_1 - timedelta(days=1))
    clock.set(MON_1 + timedelta(minutes=5))
    digest_slot_job(app, "weekly", MON_1)


def _weekly(outcomes: list) -> object:  # type: ignore[type-arg]
    return next(o for o in outcomes if o.job == "digest:weekly")


def test_first_start_composes_the_latest_slot_once(
    app: App, clock: FixedClock, reader: None
) -> None:
    add_dated_article(app, "Tram line 4 reopens", MON_1 - timedelta(days=2))
    clock.set(MON_1 + timedelta(days=2))  # long after the slot, but there was never an edition
    first = _weekly(catch_up(app))
    assert first.status == "ok" and first.slot == "2026-03-02T08:00"
    assert first.counts["queued"] == 1
    assert [e[1:] for e in _editions(app)] == [("composed", 1)]
    assert _queued(app) == 1
    again = _weekly(catch_up(app))  # a restart: the slot is claimed, nothing runs twice
    assert again.status == "not-claimed"
    assert len(_editions(app)) == 1 and _queued(app) == 1


def test_a_slot_missed_by_more_than_expires_after_is_recorded_as_skipped(
    app: App, clock: FixedClock, reader: None
) -> None:
    first_week_sent(app, clock)
    add_dated_article(app, "Night buses extended", MON_2 - timedelta(days=1))
    clock.set(MON_2 + timedelta(hours=7))  # the service was down across the slot
    skipped = _weekly(catch_up(app))
    assert skipped.status == "skipped"
    assert [status for _, status, _ in _editions(app)] == ["composed", "skipped"]
    assert _queued(app) == 1  # nothing sent hours late
    clock.set(MON_3 + timedelta(minutes=1))  # the next slot carries the skipped week's article
    digest_slot_job(app, "weekly", MON_3)
    assert [status for _, status, _ in _editions(app)] == ["composed", "skipped", "composed"]
    assert _editions(app)[-1][2] == 1
    assert _queued(app) == 2


def test_a_slot_within_expires_after_is_composed_late(
    app: App, clock: FixedClock, reader: None
) -> None:
    first_week_sent(app, clock)
    add_dated_article(app, "Night buses extended", MON_2 - timedelta(days=1))
    clock.set(MON_2 + timedelta(hours=5))
    late = _weekly(catch_up(app))
    assert late.status == "ok"
    assert [status for _, status, _ in _editions(app)] == ["composed", "composed"]
    assert _queued(app) == 2


def test_a_slot_composed_by_hand_is_not_recorded_again_by_the_service(
    app: App, clock: FixedClock, reader: None
) -> None:
    from syndicate.service.jobs import send_digest

    first_week_sent(app, clock)
    clock.set(MON_2 + timedelta(days=1))  # the operator sends the late edition by hand
    add_dated_article(app, "Night buses extended", MON_2 - timedelta(days=1))
    assert send_digest(app, "weekly").status == "composed"
    started = _weekly(catch_up(app))  # then starts the service, past expires_after
    assert started.status == "ok" and started.counts["existing"] == 1
    assert [status for _, status, _ in _editions(app)] == ["composed", "composed"]


def test_a_back_dated_article_imported_after_an_edition_reaches_the_next_one(
    app: App, clock: FixedClock, reader: None
) -> None:
    from sqlalchemy import update

    from syndicate.core.db import articles

    first_week_sent(app, clock)
    # Written on Sunday, imported on Tuesday: dated before the first edition's end.
    late = add_dated_article(app, "Weekend ferry notes", MON_1 - timedelta(days=1, hours=2))
    with app.engine.begin() as conn:
        conn.execute(
            update(articles)
            .where(articles.c.id == late)
            .values(imported_at=MON_1 + timedelta(days=1))
        )
    clock.set(MON_2 + timedelta(minutes=5))
    digest_slot_job(app, "weekly", MON_2)
    assert [count for _, _, count in _editions(app)] == [1, 1]  # not missed, not repeated


def test_the_services_schedule_runs_each_job_once_per_slot(
    app: App, clock: FixedClock, reader: None
) -> None:
    from syndicate.service.jobs import scheduled_jobs

    schedule = {job.name: job for job in scheduled_jobs(app.settings)}
    assert set(schedule) == {"feeds", "housekeeping", "digest:weekly", "digest:daily"}
    add_dated_article(app, "Bridge works begin", MON_1 - timedelta(days=1))
    clock.set(MON_1 + timedelta(minutes=5))
    assert schedule["digest:weekly"].run(app, MON_1).status == "ok"
    assert schedule["digest:weekly"].run(app, MON_1).status == "not-claimed"
    feeds = schedule["feeds"].run(app, MON_1)
    assert feeds.status == "ok" and feeds.slot == "2026-03-02T06:00"  # UTC wall time
    assert feeds.counts["build_files_written"] > 0
    assert schedule["feeds"].run(app, MON_1).status == "not-claimed"
    assert _queued(app) == 1
