"""An edition's reach (who bounced, complained or unsubscribed within seven days of it)
is counted by the store as each change happens (migration 0011), and the list's size
per day is kept once a day is over, so the dashboard reads a few rows."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select, update

from syndicate.core import counts
from syndicate.core.clock import FixedClock
from syndicate.core.db import (
    alembic_config,
    edition_reach,
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


def two_weeks_of_changes(app: App, clock: FixedClock) -> tuple[int, int]:
    """Two editions three days apart, and readers leaving in every way around them."""
    t0 = clock.now()
    first = queued_edition(app.engine, 6, now=t0)  # reader0 .. reader5
    with app.engine.connect() as conn:
        ids = dict(tuples(conn.execute(select(subscribers.c.email, subscribers.c.id))))
    with transaction(app.engine) as conn:
        subs.suppress(conn, "reader0@example.com", "bounced", "550 no such user", t0 + DAY)
    second = add_edition(app.engine, now=t0 + 3 * DAY, period="2026-03-05T06:00Z")
    with transaction(app.engine) as conn:
        enqueue(conn, edition_id=second, digest="weekly", now=t0 + 3 * DAY,
                domain="news.example.org")  # fmt: skip
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


def test_reach_counts_each_change_against_the_editions_of_its_week(
    app: App, clock: FixedClock
) -> None:
    first, second = two_weeks_of_changes(app, clock)
    assert reach(app) == {first: (1, 1, 0), second: (0, 1, 3)}

    # Erasing a person keeps what happened to the edition; a later change of mind (back
    # and out again outside both weeks) adds nothing.
    with transaction(app.engine) as conn:
        assert subs.erase(conn, "reader1@example.com")
        back, _ = subs.add(conn, "reader0@example.com", digests=["weekly"],
                           now=clock.now() + 20 * DAY, force=True)  # fmt: skip
        subs.unsubscribe(conn, back.id, clock.now() + 21 * DAY)
    assert reach(app) == {first: (1, 1, 0), second: (0, 1, 3)}


def test_migration_counts_the_changes_made_before_it(app: App, clock: FixedClock) -> None:
    """An upgraded store starts from its rows, counted the way the console counted
    before (each person's last change): the same numbers while nobody changed twice."""
    from alembic import command

    config = alembic_config(app.engine.url.render_as_string(hide_password=False))
    with app.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    first, second = two_weeks_of_changes(app, clock)
    with app.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert reach(app) == {first: (1, 1, 0), second: (0, 1, 3)}
    with transaction(app.engine) as conn:  # and the trigger counts from there on
        subs.suppress(conn, "reader5@example.com", "complained", "abuse", clock.now() + 12 * DAY)
    assert reach(app) == {first: (1, 1, 0), second: (0, 1, 3)}  # outside both weeks
    late = queued_edition(app.engine, 2, now=clock.now() + 12 * DAY, period="2026-03-14")
    with transaction(app.engine) as conn:  # reader7 and reader8 got it
        subs.suppress(conn, "reader7@example.com", "bounced", "550", clock.now() + 13 * DAY)
    assert reach(app)[late] == (1, 0, 0)


def test_readers_leaving_at_once_are_all_counted(app: App, clock: FixedClock) -> None:
    """Unsubscribes on their own connections at the same time (PostgreSQL: each counts
    in its own slot, so none waits on another's counter row); housekeeping then folds
    the slots of the connections that are gone, and the sums stay."""
    edition = queued_edition(app.engine, 40, now=clock.now())
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
