"""The outbox: claims and leases, suppression, result recording, retry schedule, status."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from syndicate.core.clock import FixedClock
from syndicate.core.config import DeliverySettings
from syndicate.core.db import deliveries, subscribers, subscriptions
from syndicate.delivery.outbox import (
    Outcome,
    backoff_delay,
    claim,
    list_rows,
    record,
    release,
    retry_failed,
    status,
)
from syndicate.service.context import App
from tests.support.deliveries import queued_edition


def states(app: App) -> dict[int, str]:
    with app.engine.connect() as conn:
        return dict(conn.execute(select(deliveries.c.subscriber_id, deliveries.c.status)).all())


def test_claims_are_disjoint_and_leased(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 5, now=clock.now())
    with app.engine.begin() as conn:
        first = claim(conn, worker_id="a", now=clock.now(), lease_seconds=60, limit=3)
    with app.engine.begin() as conn:
        second = claim(conn, worker_id="b", now=clock.now(), lease_seconds=60, limit=3)
    with app.engine.begin() as conn:
        third = claim(conn, worker_id="c", now=clock.now(), lease_seconds=60, limit=3)
    assert len(first.rows) == 3 and len(second.rows) == 2 and not third
    assert not {r.id for r in first.rows} & {r.id for r in second.rows}
    with app.engine.connect() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == first.rows[0].id)).one()
    assert row.status == "sending" and row.claimed_by == "a"
    assert row.lease_until == clock.now() + timedelta(seconds=60)


def test_expired_lease_is_claimed_again_with_same_message_id(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 2, now=clock.now())
    with app.engine.begin() as conn:
        taken = claim(conn, worker_id="dead", now=clock.now(), lease_seconds=60, limit=10)
    clock.advance(seconds=59)
    with app.engine.begin() as conn:
        assert not claim(conn, worker_id="b", now=clock.now(), lease_seconds=60, limit=10)
    clock.advance(seconds=2)
    with app.engine.begin() as conn:
        again = claim(conn, worker_id="b", now=clock.now(), lease_seconds=60, limit=10)
    assert [r.message_id for r in again.rows] == [r.message_id for r in taken.rows]
    # The dead worker's late result no longer counts: b holds the rows now.
    with app.engine.begin() as conn:
        record(
            conn,
            [Outcome(taken.rows[0], "permanent", error="late")],
            worker_id="dead",
            now=clock.now(),
            policy=app.settings.delivery,
        )
    assert set(states(app).values()) == {"sending"}


def test_release_gives_back_a_restarted_workers_rows(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 3, now=clock.now())
    with app.engine.begin() as conn:
        claim(conn, worker_id="w1", now=clock.now(), lease_seconds=300, limit=10)
        assert release(conn, worker_id="w1", now=clock.now()) == 3
        again = claim(conn, worker_id="w1", now=clock.now(), lease_seconds=300, limit=10)
    assert len(again.rows) == 3


def test_subscribers_who_left_are_suppressed_not_sent(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 4, now=clock.now())
    sids = sorted(states(app))
    with app.engine.begin() as conn:
        conn.execute(
            update(subscribers).where(subscribers.c.id == sids[0]).values(status="unsubscribed")
        )
        conn.execute(subscriptions.delete().where(subscriptions.c.subscriber_id == sids[1]))
        conn.execute(subscribers.delete().where(subscribers.c.id == sids[2]))
    with app.engine.begin() as conn:
        batch = claim(conn, worker_id="a", now=clock.now(), lease_seconds=60, limit=10)
    assert [r.subscriber_id for r in batch.rows] == [sids[3]]
    assert batch.suppressed == 3
    with app.engine.connect() as conn:
        counts = status(conn)[0].counts
    assert counts["suppressed"] == 3 and counts["sending"] == 1


def test_one_claim_holds_one_edition(app: App, clock: FixedClock) -> None:
    first = queued_edition(app.engine, 2, now=clock.now())
    second = queued_edition(app.engine, 2, now=clock.now(), period="2026-03-09T06:00Z")
    with app.engine.begin() as conn:
        a = claim(conn, worker_id="a", now=clock.now(), lease_seconds=60, limit=100)
        b = claim(conn, worker_id="a", now=clock.now(), lease_seconds=60, limit=100)
    assert {r.edition_id for r in a.rows} == {first}
    assert {r.edition_id for r in b.rows} == {second}
    assert len(b.rows) == 4  # the second edition went to all four subscribers


def test_recording_outcomes(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 4, now=clock.now())
    policy = app.settings.delivery
    with app.engine.begin() as conn:
        rows = claim(conn, worker_id="a", now=clock.now(), lease_seconds=60, limit=10).rows
        counts = record(
            conn,
            [
                Outcome(rows[0], "sent", provider_id="p-1"),
                Outcome(rows[1], "temporary", error="451 try later", retry_after=7200),
                Outcome(rows[2], "permanent", error="550 no such user"),
                Outcome(rows[3], "uncertain", error="timed out"),
            ],
            worker_id="a",
            now=clock.now(),
            policy=policy,
        )
    assert counts == {"sent": 1, "deferred": 2, "failed": 1, "uncertain": 1}
    with app.engine.connect() as conn:
        got = {r.id: r for r in conn.execute(select(deliveries))}
    sent, deferred, failed, uncertain = (got[r.id] for r in rows)
    assert sent.status == "sent" and sent.provider_id == "p-1" and sent.sent_at == clock.now()
    assert deferred.status == "deferred" and deferred.attempts == 1
    assert deferred.not_before == clock.now() + timedelta(seconds=7200)  # Retry-After wins
    assert deferred.last_error == "451 try later"
    assert failed.status == "failed" and failed.last_error == "550 no such user"
    assert uncertain.status == "deferred" and uncertain.uncertain_attempts == 1
    assert uncertain.message_id == rows[3].message_id
    # Not due yet: nothing to claim; due later: claimed again.
    with app.engine.begin() as conn:
        assert not claim(conn, worker_id="a", now=clock.now(), lease_seconds=60, limit=10)
    clock.advance(seconds=policy.backoff_max_seconds + 1)
    with app.engine.begin() as conn:
        again = claim(conn, worker_id="a", now=clock.now(), lease_seconds=60, limit=10).rows
    assert {r.id for r in again} == {rows[1].id, rows[3].id}


def test_temporary_failures_give_up_after_max_attempts(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 1, now=clock.now())
    policy = app.settings.delivery
    for attempt in range(1, policy.max_attempts + 1):
        clock.advance(seconds=policy.backoff_max_seconds + 1)
        with app.engine.begin() as conn:
            (row,) = claim(conn, worker_id="a", now=clock.now(), lease_seconds=60, limit=1).rows
            assert row.attempts == attempt - 1
            record(
                conn,
                [Outcome(row, "temporary", error="421 busy")],
                worker_id="a",
                now=clock.now(),
                policy=policy,
            )
    with app.engine.connect() as conn:
        (item,) = list_rows(conn)
    assert item["status"] == "failed"
    assert item["last_error"] == f"gave up after {policy.max_attempts} attempts: 421 busy"


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    policy = DeliverySettings(backoff_base_seconds=60, backoff_max_seconds=3600)
    rng = random.Random(1)
    for attempt, ceiling in ((1, 60), (2, 120), (3, 240), (10, 3600)):
        delays = {backoff_delay(attempt, policy, retry_after=None, rng=rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert backoff_delay(1, policy, retry_after=900, rng=rng) == 900
    assert backoff_delay(1, policy, retry_after=10**6, rng=rng) == 3600


def test_status_and_retry_failed(app: App, clock: FixedClock) -> None:
    edition = queued_edition(app.engine, 5, now=clock.now())
    with app.engine.begin() as conn:
        rows = claim(conn, worker_id="a", now=clock.now(), lease_seconds=60, limit=10).rows
        record(
            conn,
            [Outcome(rows[0], "sent")]
            + [Outcome(r, "permanent", error="550 mailbox unavailable") for r in rows[1:3]]
            + [Outcome(rows[3], "permanent", error="554 policy")]
            + [Outcome(rows[4], "temporary", error="451 later")],
            worker_id="a",
            now=clock.now(),
            policy=app.settings.delivery,
        )
    with app.engine.connect() as conn:
        (report,) = status(conn)
    assert report.edition_id == edition and report.digest == "weekly"
    assert report.counts == {
        "queued": 0,
        "sending": 0,
        "sent": 1,
        "deferred": 1,
        "failed": 3,
        "suppressed": 0,
    }
    assert report.top_failures == [("550 mailbox unavailable", 2), ("554 policy", 1)]
    with app.engine.begin() as conn:
        assert retry_failed(conn, now=clock.now(), edition_id=edition + 1) == 0
        assert retry_failed(conn, now=clock.now(), edition_id=edition) == 3
    with app.engine.connect() as conn:
        counts = status(conn)[0].counts
        assert counts["queued"] == 3 and counts["sent"] == 1 and counts["deferred"] == 1
        failed_rows = list_rows(conn, state="queued")
    assert all(r["attempts"] == 0 for r in failed_rows)


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)  # SQLite has one writer
def test_postgres_workers_skip_each_others_locked_rows(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 6, now=clock.now())
    with app.engine.connect() as first, app.engine.connect() as second:
        with first.begin():
            held = claim(first, worker_id="a", now=clock.now(), lease_seconds=60, limit=4)
            # "a" has not committed: "b" neither waits nor takes a's rows.
            with second.begin():
                other = claim(second, worker_id="b", now=clock.now(), lease_seconds=60, limit=4)
        assert len(held.rows) == 4 and len(other.rows) == 2
        assert not {r.id for r in held.rows} & {r.id for r in other.rows}
