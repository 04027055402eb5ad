"""The per-edition counts (and per-state subscriber counts) the console reads, kept by
triggers (migration 0010), always equal a fresh count of the rows, whatever changed
them."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from sqlalchemy import func, select, update

from syndicate.core import counts
from syndicate.core.clock import FixedClock
from syndicate.core.db import deliveries, edition_counts, subscribers, transaction, tuples
from syndicate.delivery.outbox import (
    Outcome,
    claim,
    enqueue,
    move_unsent,
    record,
    release,
    retry_failed,
)
from syndicate.delivery.outbox import edition_counts as counts_of
from syndicate.digest.choices import stop_pending
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from tests.support.deliveries import add_edition, add_subscribers, queued_edition


def fresh(app: App) -> dict[int, dict[str, int]]:
    """A GROUP BY over every delivery row."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    with app.engine.connect() as conn:
        for eid, state, count in tuples(
            conn.execute(
                select(deliveries.c.edition_id, deliveries.c.status, func.count()).group_by(
                    deliveries.c.edition_id, deliveries.c.status
                )
            )
        ):
            found[eid][state] = count
    return dict(found)


def people_agree(app: App) -> bool:
    with app.engine.connect() as conn:
        fresh_people = dict(
            tuples(
                conn.execute(
                    select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
                )
            )
        )
        kept_people = {k: v for k, v in subs.counts_by_status(conn).items() if v}
    return kept_people == fresh_people


def kept(app: App) -> dict[int, dict[str, int]]:
    with app.engine.connect() as conn:
        ids = list(conn.execute(select(edition_counts.c.edition_id).distinct()).scalars())
        return {eid: states for eid, states in counts_of(conn, ids).items() if states}


def test_counts_follow_every_kind_of_change(app: App, clock: FixedClock) -> None:
    now = clock.now()
    policy = app.settings.delivery
    first = queued_edition(app.engine, 30, now=now)
    assert kept(app) == fresh(app) == {first: {"queued": 30}}

    # Claim, then a mix of outcomes: sent, refused for good, try later.
    with transaction(app.engine) as conn:
        batch = claim(conn, worker_id="w1", now=now, lease_seconds=60, limit=10)
    outcomes = [Outcome(row, "sent") for row in batch.rows[:6]]
    outcomes += [Outcome(batch.rows[6], "permanent", error="550 no such user")]
    outcomes += [Outcome(row, "temporary", error="451 later") for row in batch.rows[7:]]
    with transaction(app.engine) as conn:
        record(conn, outcomes, worker_id="w1", now=now, policy=policy)
    assert kept(app) == fresh(app)
    assert kept(app)[first] == {"sent": 6, "failed": 1, "deferred": 3, "queued": 20}

    # A worker killed mid-batch: restarted with its id, it gives its rows back; another
    # batch's lease runs out and a second worker takes the rows over.
    with transaction(app.engine) as conn:
        claim(conn, worker_id="w2", now=now, lease_seconds=60, limit=5)
    with transaction(app.engine) as conn:
        assert release(conn, worker_id="w2", now=now, in_flight=True) == 5
    with transaction(app.engine) as conn:
        claim(conn, worker_id="dead", now=now, lease_seconds=60, limit=4)
    clock.advance(seconds=61)
    with transaction(app.engine) as conn:
        taken = claim(conn, worker_id="w3", now=clock.now(), lease_seconds=60, limit=4)
        record(
            conn, [Outcome(r, "sent") for r in taken.rows], worker_id="w3", now=clock.now(),
            policy=policy,
        )  # fmt: skip
    assert kept(app) == fresh(app)

    add_subscribers(app.engine, 5, now=clock.now())  # for the second edition, below

    # People leave: a suppressed row at claim time, a reader who changes their digests,
    # an erased reader (their rows lose the subscriber, not their state).
    with transaction(app.engine) as conn:
        row = conn.execute(
            select(deliveries.c.email, deliveries.c.subscriber_id).where(
                deliveries.c.edition_id == first, deliveries.c.status == "queued"
            )
        ).first()
        assert row is not None
        subs.suppress(conn, row.email, "bounced", "550", clock.now())
        other = conn.execute(
            select(deliveries.c.subscriber_id, deliveries.c.email).where(
                deliveries.c.edition_id == first,
                deliveries.c.status == "queued",
                deliveries.c.subscriber_id != row.subscriber_id,
            )
        ).all()
        assert stop_pending(conn, other[0].subscriber_id, ["weekly"], now=clock.now()) == 1
        assert subs.erase(conn, other[1].email)
    with transaction(app.engine) as conn:
        claimed = claim(conn, worker_id="w4", now=clock.now(), lease_seconds=60, limit=30)
        assert claimed.suppressed >= 1
        release(conn, worker_id="w4", now=clock.now(), ids=[r.id for r in claimed.rows[:3]])
    assert kept(app) == fresh(app)

    # An operator's pause, resume and cancel, a retry of the failed, a second edition
    # queued beside the first, and a statement that changes no state at all.
    second = add_edition(app.engine, now=clock.now(), period="2026-03-09T06:00Z")
    with transaction(app.engine) as conn:
        enqueue(conn, edition_id=second, digest="weekly", now=clock.now(), domain="x.example")
        assert move_unsent(conn, second, sources=("queued",), target="paused", now=clock.now())
        move_unsent(conn, second, sources=("paused",), target="queued", now=clock.now())
        move_unsent(
            conn, first, sources=("queued", "deferred"), target="cancelled", now=clock.now()
        )
        assert retry_failed(conn, now=clock.now(), edition_id=first) == 1
        conn.execute(update(deliveries).values(last_error=None))
    assert kept(app) == fresh(app)
    assert set(kept(app)) == {first, second}
    assert people_agree(app)  # added, bounced, erased, left a digest


def test_concurrent_workers_keep_the_counts(app: App, clock: FixedClock) -> None:
    """Workers on their own connections claiming and recording at once (PostgreSQL:
    each counts in its own slot, so none waits on another's counter row)."""
    edition_id = queued_edition(app.engine, 400, now=clock.now())
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while True:
                with transaction(app.engine) as conn:
                    batch = claim(conn, worker_id=name, now=clock.now(), lease_seconds=60, limit=7)
                if not batch.rows:
                    return
                half = len(batch.rows) // 2
                outcomes = [Outcome(r, "sent") for r in batch.rows[:half]]
                outcomes += [Outcome(r, "permanent", error="550") for r in batch.rows[half:]]
                with transaction(app.engine) as conn:
                    record(
                        conn,
                        outcomes,
                        worker_id=name,
                        now=clock.now(),
                        policy=app.settings.delivery,
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert kept(app) == fresh(app) and people_agree(app)
    assert sum(kept(app)[edition_id].values()) == 400
    assert set(kept(app)[edition_id]) == {"sent", "failed"}

    # Housekeeping folds the slots of connections that are gone into one row each,
    # and the sums stay (PostgreSQL: one slot per backend; SQLite: zero rows go).
    before = kept(app)
    app.engine.dispose()  # the workers' connections end
    for _ in range(100):  # a closed backend leaves pg_stat_activity a moment later
        with transaction(app.engine) as conn:
            counts.fold(conn)
        with app.engine.connect() as conn:
            slots = conn.execute(
                select(edition_counts.c.slot).where(edition_counts.c.row_count != 0)
            ).scalars()
            if set(slots) == {0}:
                break
        time.sleep(0.1)
    assert kept(app) == before == fresh(app)
    with app.engine.connect() as conn:
        rows = conn.execute(select(edition_counts.c.slot, edition_counts.c.row_count)).all()
    assert {slot for slot, _ in rows} == {0} and all(count != 0 for _, count in rows)


def test_migration_counts_rows_queued_before_it(app: App, clock: FixedClock) -> None:
    """An upgraded store starts from its existing rows (the migration's backfill)."""
    from alembic import command

    from syndicate.core.db import alembic_config

    edition_id = queued_edition(app.engine, 12, now=clock.now())
    config = alembic_config(app.engine.url.render_as_string(hide_password=False))
    with app.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
    with transaction(app.engine) as conn:
        batch = claim(conn, worker_id="w", now=clock.now(), lease_seconds=60, limit=5)
        record(conn, [Outcome(r, "sent") for r in batch.rows], worker_id="w", now=clock.now(),
               policy=app.settings.delivery)  # fmt: skip
    with app.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert kept(app) == fresh(app) == {edition_id: {"sent": 5, "queued": 7}}
    assert people_agree(app)
