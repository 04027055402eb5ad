"""An edition's reach (who bounced, complained or unsubscribed within seven days of it)
is counted by the store as each change happens (migration 0011), and the list's size
per day is kept once a day is over, so the dashboard reads a few rows."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from syndicate.core import counts
from syndicate.core.clock import FixedClock
from syndicate.core.db import (
    alembic_config,
    deliveries,
    edition_reach,
    is_sqlite,
    subscriber_days,
    subscribers,
    transaction,
    tuples,
)
from syndicate.delivery.outbox import enqueue
from syndicate.readers import growth
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.service.jobs import housekeeping
from syndicate.web.console import stats
from tests.support.deliveries import add_edition, add_subscribers, queued_edition

DAY = timedelta(days=1)


def reach(app: App) -> dict[int, tuple[int, int, int]]:
    """(bounced, complained, unsubscribed) of every composed edition."""
    with app.engine.connect() as conn:
        found = stats.edition_reach(conn, limit=100)
    return {r.edition_id: (r.bounced, r.complained, r.unsubscribed) for r in found}


def mark(app: App, edition_id: int, state: str, emails: list[str] | None = None) -> None:
    """What the drain would have done with an edition's rows (all, or these people's)."""
    rows = update(deliveries).where(deliveries.c.edition_id == edition_id)
    if emails is not None:
        rows = rows.where(deliveries.c.email.in_(emails))
    with transaction(app.engine) as conn:
        conn.execute(rows.values(status=state))


def two_weeks_of_changes(app: App, clock: FixedClock) -> tuple[int, int]:
    """Two editions three days apart, and readers leaving in every way around them."""
    t0 = clock.now()
    first = queued_edition(app.engine, 8, now=t0)  # reader0 .. reader7
    mark(app, first, "sent")
    mark(app, first, "failed", ["reader6@example.com"])  # refused at once: a bounce
    mark(app, first, "queued", ["reader7@example.com"])  # never reached them
    with app.engine.connect() as conn:
        ids = dict(tuples(conn.execute(select(subscribers.c.email, subscribers.c.id))))
    with transaction(app.engine) as conn:
        subs.suppress(conn, "reader0@example.com", "bounced", "550 no such user", t0 + DAY)
        subs.suppress(conn, "reader6@example.com", "bounced", "550 refused", t0 + DAY)
        subs.unsubscribe(conn, ids["reader7@example.com"], t0 + DAY)
        # Already gone: a complaint after the bounce counts the person no second time.
        subs.suppress(conn, "reader0@example.com", "complained", "abuse report", t0 + 2 * DAY)
    second = add_edition(app.engine, now=t0 + 3 * DAY, period="2026-03-05T06:00Z")
    with transaction(app.engine) as conn:
        enqueue(conn, edition_id=second, digest="weekly", now=t0 + 3 * DAY,
                domain="news.example.org")  # fmt: skip
    mark(app, second, "sent")  # reader1 .. reader5
    with transaction(app.engine) as conn:
        subs.suppress(conn, "reader1@example.com", "complained", "abuse report", t0 + 4 * DAY)
    # Someone neither edition reached leaves: nothing to count.
    [late] = add_subscribers(app.engine, 1, now=t0 + 5 * DAY)
    with transaction(app.engine) as conn:
        subs.unsubscribe(conn, late, t0 + 6 * DAY)
        subs.unsubscribe(conn, ids["reader2@example.com"], t0 + 8 * DAY)  # only the second's week
        # Two people in one statement (a statement trigger sees both rows).
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id.in_([ids["reader3@example.com"], ids["reader4@example.com"]]))
            .values(status="unsubscribed", status_changed_at=t0 + 9 * DAY)
        )
        subs.unsubscribe(conn, ids["reader5@example.com"], t0 + 11 * DAY)  # too late for both
        # A change that is not a state change counts nothing.
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == ids["reader0@example.com"])
            .values(status_reason="550 still no such user")
        )
    return first, second


# (bounced, complained, unsubscribed) per edition after two_weeks_of_changes.
FIRST, SECOND = (2, 1, 0), (0, 1, 3)


def test_reach_counts_each_change_against_the_editions_of_its_week(
    app: App, clock: FixedClock
) -> None:
    first, second = two_weeks_of_changes(app, clock)
    assert reach(app) == {first: FIRST, second: SECOND}

    # Erasing a person keeps what happened to the edition; a later change of mind (back
    # and out again outside both weeks) adds nothing.
    with transaction(app.engine) as conn:
        assert subs.erase(conn, "reader1@example.com")
        back, _ = subs.add(conn, "reader0@example.com", digests=["weekly"],
                           now=clock.now() + 20 * DAY, force=True)  # fmt: skip
        subs.unsubscribe(conn, back.id, clock.now() + 21 * DAY)
    assert reach(app) == {first: FIRST, second: SECOND}


def test_a_state_changed_by_hand_counts_as_now(app: App, clock: FixedClock) -> None:
    """An UPDATE of the state alone (an operator's SQL) leaves status_changed_at as it
    was: the change is placed at the database's now, not at that old time."""
    old = queued_edition(app.engine, 1, now=clock.now())  # reader0, in March 2026
    today = datetime.now(UTC)
    recent = add_edition(app.engine, now=today - DAY, period="today")
    with transaction(app.engine) as conn:
        enqueue(conn, edition_id=recent, digest="weekly", now=today - DAY,
                domain="news.example.org")  # fmt: skip
    mark(app, old, "sent")
    mark(app, recent, "sent")
    with transaction(app.engine) as conn:
        conn.execute(update(subscribers).values(status="unsubscribed"))
    assert reach(app) == {old: (0, 0, 0), recent: (0, 0, 1)}


def test_migration_counts_the_changes_made_before_it(app: App, clock: FixedClock) -> None:
    """An upgraded store starts from its rows, counted the way the console counted
    before: by each person's current state and last change."""
    from alembic import command

    config = alembic_config(app.engine.url.render_as_string(hide_password=False))
    with app.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    first, second = two_weeks_of_changes(app, clock)
    with app.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    # reader0 bounced, then complained: by their last change, a complaint.
    assert reach(app) == {first: (1, 2, 0), second: SECOND}
    late = queued_edition(app.engine, 2, now=clock.now() + 12 * DAY, period="2026-03-14")
    mark(app, late, "sent")  # reader9 and reader10 got it; the trigger counts from here
    with transaction(app.engine) as conn:
        subs.suppress(conn, "reader9@example.com", "bounced", "550", clock.now() + 13 * DAY)
    assert reach(app)[late] == (1, 0, 0)


def test_readers_leaving_at_once_are_all_counted(app: App, clock: FixedClock) -> None:
    """Unsubscribes on their own connections at the same time (PostgreSQL: each counts
    in its own slot, so none waits on another's counter row); housekeeping then folds
    the slots of the connections that are gone, and the sums stay."""
    edition = queued_edition(app.engine, 40, now=clock.now())
    mark(app, edition, "sent")
    with app.engine.connect() as conn:
        ids = list(conn.execute(select(subscribers.c.id).order_by(subscribers.c.id)).scalars())
    errors: list[BaseException] = []

    def leave(mine: list[int]) -> None:
        try:
            for sid in mine:
                with transaction(app.engine) as conn:
                    subs.unsubscribe(conn, sid, clock.now() + DAY)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=leave, args=(ids[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert reach(app) == {edition: (0, 0, 40)}
    app.engine.dispose()
    for _ in range(100):  # a closed backend leaves pg_stat_activity a moment later
        with transaction(app.engine) as conn:
            counts.fold(conn)
        with app.engine.connect() as conn:
            if set(conn.execute(select(edition_reach.c.slot)).scalars()) == {0}:
                break
        time.sleep(0.1)
    with app.engine.connect() as conn:
        rows = conn.execute(select(edition_reach.c.slot, edition_reach.c.row_count)).all()
    assert rows == [(0, 40)]
    assert reach(app) == {edition: (0, 0, 40)}


def test_days_that_are_over_are_kept_and_read_back(app: App, clock: FixedClock) -> None:
    today = clock.now()
    # One joins every other day; every third of them leaves the day after joining.
    joined = [add_subscribers(app.engine, 1, now=today - (24 - 2 * n) * DAY)[0] for n in range(12)]
    with transaction(app.engine) as conn:
        for n in range(0, 12, 3):
            subs.unsubscribe(conn, joined[n], today - (23 - 2 * n) * DAY)
    with app.engine.connect() as conn:
        worked_out = growth.subscribers_over_time(conn, today, 30)
    assert worked_out.groups["active"][-1] == 8 and worked_out.groups["unsubscribed"][-1] == 4
    assert worked_out.groups["active"][0] == 0

    assert housekeeping(app)["subscriber_days_kept"] == 29  # every day but today
    assert housekeeping(app)["subscriber_days_kept"] == 0  # once
    with app.engine.connect() as conn:
        assert growth.subscribers_over_time(conn, today, 30) == worked_out
        kept_rows = conn.execute(select(subscriber_days)).all()
    assert len(kept_rows) == 29 * len(subs.STATUSES)

    # A kept day stays as it was: erasing someone changes today, not the past.
    with transaction(app.engine) as conn:
        first = conn.execute(select(subscribers.c.email).order_by(subscribers.c.id)).scalar()
        assert subs.erase(conn, first)
    with app.engine.connect() as conn:
        after = growth.subscribers_over_time(conn, today, 30)
    assert after.groups["unsubscribed"][:-1] == worked_out.groups["unsubscribed"][:-1]
    assert after.groups["unsubscribed"][-1] == 3

    # A day not kept (housekeeping did not run that night) is worked out again, with the
    # days after it, from the rows.
    middle = growth.days(today, 30)[20]
    with transaction(app.engine) as conn:
        conn.execute(subscriber_days.delete().where(subscriber_days.c.day == middle.isoformat()))
    with app.engine.connect() as conn:
        again = growth.subscribers_over_time(conn, today, 30)
    assert again.groups["active"] == after.groups["active"]
    assert again.groups["unsubscribed"][20] == worked_out.groups["unsubscribed"][20] - 1
    assert again.groups["unsubscribed"][21:29] == worked_out.groups["unsubscribed"][21:29]


def test_a_day_is_kept_from_one_moment_while_people_join(
    app: App, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone joins while housekeeping keeps the days, between its reads of the
    changes and of today's counts: the kept days must not shift by them (PostgreSQL:
    one REPEATABLE READ snapshot; SQLite: the join waits for housekeeping's lock)."""
    today = clock.now()
    add_subscribers(app.engine, 3, now=today - 10 * DAY)
    with app.engine.connect() as conn:
        before = growth.subscribers_over_time(conn, today, 30)
    joiner = threading.Thread(target=add_subscribers, args=(app.engine, 1), kwargs={"now": today})
    real_counts = growth.counts_by_status

    def counts_after_a_join(conn: Connection) -> dict[str, int]:
        joiner.start()
        joiner.join(timeout=0.5 if is_sqlite(app.engine) else 10)  # SQLite: it waits
        return real_counts(conn)

    monkeypatch.setattr(growth, "counts_by_status", counts_after_a_join)
    assert housekeeping(app)["subscriber_days_kept"] == 29
    joiner.join(timeout=30)
    assert not joiner.is_alive()
    monkeypatch.setattr(growth, "counts_by_status", real_counts)
    with app.engine.connect() as conn:
        after = growth.subscribers_over_time(conn, today, 30)
    assert after.groups["active"][:-1] == before.groups["active"][:-1]  # 0 then 3
    assert after.groups["active"][-1] == 4  # today has the one who joined
