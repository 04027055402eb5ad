"""Claimed job runs hold a lease: a run whose process died is taken over and finished.

The last test kills a real `syndicate run` with SIGKILL while it queues a digest for
a few thousand subscribers and checks that the restarted service leaves exactly one
edition with exactly one delivery row per subscriber.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, text

from syndicate.core.clock import FixedClock
from syndicate.core.db import deliveries, editions, job_runs, open_store
from syndicate.core.schedules import latest_fire_time, slot_key
from syndicate.digest import compose
from syndicate.readers import subscribers
from syndicate.service import claims
from syndicate.service.context import App
from syndicate.service.jobs import digest_slot_job, housekeeping, now_slot, resume_stale
from syndicate.service.status import collect
from tests.support import write_config
from tests.support.deliveries import add_subscribers
from tests.support.digests import DIGEST_CONFIG, add_dated_article
from tests.support.processes import SyndicateProcess
from tests.test_jobs_digest import MON_1

LEASE = 120  # the default job_lease_seconds
KYIV = ZoneInfo("Europe/Kyiv")


@pytest.fixture
def config_extra() -> str:
    return DIGEST_CONFIG


def _rows(app: App) -> int:
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(deliveries)).scalar_one()


def _weekly_run(app: App) -> tuple[str, str | None]:
    with app.engine.connect() as conn:
        return conn.execute(
            select(job_runs.c.status, job_runs.c.error).where(job_runs.c.job == "digest:weekly")
        ).one()


def test_a_live_claim_is_kept_and_an_expired_one_is_taken_over(app: App, clock: FixedClock) -> None:
    first = claims.claim(app, "feeds", "2026-03-02T09:00")
    assert first is not None and not first.taken_over
    assert claims.claim(app, "feeds", "2026-03-02T09:00") is None  # its lease runs
    assert housekeeping(app)["stale_claims"] == 0
    clock.advance(seconds=LEASE + 1)  # the holder died: nobody renewed the lease
    assert housekeeping(app)["stale_claims"] == 1
    (stale,) = collect(app)["stale_claims"]
    assert (stale["job"], stale["slot"]) == ("feeds", "2026-03-02T09:00")
    second = claims.claim(app, "feeds", "2026-03-02T09:00")
    assert second is not None and second.taken_over and second.run_id == first.run_id
    assert claims.claim(app, "feeds", "2026-03-02T09:00") is None  # one taker only
    # The dead holder's late finish does not overwrite the taker's run.
    claims.finish(app, first, status="failed", counts=None, error="late")
    claims.finish(app, second, status="ok", counts={"n": 1}, error=None)
    with app.engine.connect() as conn:
        assert conn.execute(select(job_runs.c.status, job_runs.c.error)).one() == ("ok", None)


def test_an_edition_stored_without_its_rows_is_completed_not_reported_existing(
    app: App, clock: FixedClock
) -> None:
    with app.engine.begin() as conn:
        subscribers.add(conn, "reader@example.org", digests=["weekly"], now=clock.now())
    add_dated_article(app, "Bridge works begin", MON_1 - timedelta(days=1))
    clock.set(MON_1 + timedelta(minutes=5))
    # What a process killed between storing the edition and queueing it left behind.
    edition = compose(
        app.engine, app.settings, app.settings.digest("weekly"), clock=app.clock, slot=MON_1
    )
    assert edition.queued_at is None and _rows(app) == 0
    outcome = digest_slot_job(app, "weekly", MON_1)
    assert outcome.status == "ok" and "existing" not in outcome.counts
    assert outcome.counts["queued"] == 1 and _rows(app) == 1
    assert digest_slot_job(app, "weekly", MON_1).status == "not-claimed"
    assert _rows(app) == 1


def test_the_leader_resumes_a_digest_run_whose_process_died(app: App, clock: FixedClock) -> None:
    add_subscribers(app.engine, 5, now=clock.now())
    add_dated_article(app, "Bridge works begin", MON_1 - timedelta(days=1))
    clock.set(MON_1 + timedelta(minutes=5))
    with app.engine.begin() as conn:  # a claim from before leases: never renewed
        conn.execute(
            insert(job_runs).values(
                job="digest:weekly",
                slot=slot_key(MON_1, KYIV),
                status="running",
                started_at=clock.now(),
            )
        )
    assert digest_slot_job(app, "weekly", MON_1).status == "ok"  # taken over at once
    assert _rows(app) == 5 and _weekly_run(app) == ("ok", None)
    assert resume_stale(app) == []


def test_resume_sweep_takes_over_an_expired_claim_of_a_scheduled_job(
    app: App, clock: FixedClock
) -> None:
    add_subscribers(app.engine, 3, now=clock.now())
    add_dated_article(app, "Bridge works begin", MON_1 - timedelta(days=1))
    clock.set(MON_1 + timedelta(minutes=5))
    held = claims.claim(app, "digest:weekly", slot_key(MON_1, KYIV))
    assert held is not None
    assert resume_stale(app) == []  # the lease still runs: not ours to take
    clock.advance(seconds=LEASE + 1)
    (outcome,) = resume_stale(app)
    assert outcome.status == "ok" and outcome.counts["queued"] == 3
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(editions)).scalar_one() == 1
    assert _rows(app) == 3 and _weekly_run(app) == ("ok", None)


def test_an_interrupted_manual_feeds_build_is_closed_not_widened(
    app: App, clock: FixedClock
) -> None:
    """`feeds build NAME` records as job "feeds": resuming it as build-and-publish of
    everything would push what nobody asked for."""
    held = claims.claim(app, "feeds", now_slot(app))
    assert held is not None
    clock.advance(seconds=LEASE + 1)
    (outcome,) = resume_stale(app)
    assert outcome.status == "failed" and "interrupted" in (outcome.error or "")
    assert not app.settings.feeds_dir.exists()  # nothing was built or published
    assert resume_stale(app) == []


def test_an_interrupted_manual_digest_send_is_finished_at_its_slot(
    app: App, clock: FixedClock
) -> None:
    add_subscribers(app.engine, 4, now=clock.now())
    add_dated_article(app, "Bridge works begin", MON_1 - timedelta(days=1))
    clock.set(MON_1 + timedelta(hours=3))
    held = claims.claim(app, "digest:weekly", now_slot(app))
    assert held is not None
    clock.advance(seconds=LEASE + 1)
    (outcome,) = resume_stale(app)
    assert outcome.status == "ok" and outcome.counts["queued"] == 4
    with app.engine.connect() as conn:
        periods = conn.execute(select(editions.c.period)).scalars().all()
    assert len(periods) == 1 and _rows(app) == 4


RECIPIENTS = 3000

SERVICE = """
[[feeds]]
name = "all"
path = "all"

[[digests]]
name = "daily"
title = "Test News daily"
schedule = "0 0 * * *"
timezone = "UTC"
feed = "all"
lookback = "3d"

[schedule]
leader_lease_seconds = 5
job_lease_seconds = 2
deliver_every_seconds = 3600
"""


def _wait(condition, what: str, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_sigkill_of_run_while_queueing_leaves_one_edition_and_one_row_each(
    tmp_path: Path, pg_url: str
) -> None:
    """PostgreSQL lets the test hold the deliveries table so the kill lands exactly
    between the claim and the queued rows."""
    config = write_config(tmp_path, pg_url, SERVICE)
    engine = open_store(pg_url)
    try:
        now = datetime.now(UTC)
        slot = latest_fire_time("0 0 * * *", ZoneInfo("UTC"), now)
        assert slot is not None
        add_subscribers(engine, RECIPIENTS, now=now, digest="daily")
        add_dated_article(SimpleNamespace(engine=engine), "Bridge works", slot - timedelta(hours=1))  # type: ignore[arg-type]
        blocker = engine.connect()
        blocking = blocker.begin()
        blocker.execute(text("LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE"))
        service = SyndicateProcess(config, "run")
        try:

            def waiting_on_deliveries() -> bool:
                # The drain may wait on the table too: wait for the digest's claim as well.
                with engine.connect() as conn:
                    claimed = conn.execute(
                        select(job_runs.c.status).where(job_runs.c.job == "digest:daily")
                    ).first()
                    return claimed is not None and bool(
                        conn.execute(
                            text(
                                "SELECT count(*) FROM pg_locks WHERE NOT granted "
                                "AND relation = 'deliveries'::regclass"
                            )
                        ).scalar()
                    )

            _wait(waiting_on_deliveries, "the service to queue the edition")
            with engine.connect() as conn:
                assert (
                    conn.execute(
                        select(job_runs.c.status).where(job_runs.c.job == "digest:daily")
                    ).scalar_one()
                    == "running"
                )
            service.kill()
        finally:
            blocking.rollback()
            blocker.close()
            if service.proc.poll() is None:
                service.kill()
        restarted = SyndicateProcess(config, "run")
        try:

            def finished() -> bool:
                with engine.connect() as conn:
                    return (
                        conn.execute(
                            select(job_runs.c.status).where(job_runs.c.job == "digest:daily")
                        ).scalar_one()
                        != "running"
                    )

            _wait(finished, "the restarted service to take over the digest run")
            restarted.wait_for("taking it over")
        finally:
            assert restarted.stop() == 0
        with engine.connect() as conn:
            assert (
                conn.execute(
                    select(job_runs.c.status).where(job_runs.c.job == "digest:daily")
                ).scalar_one()
                == "ok"
            )
            (edition_id,) = (
                conn.execute(select(editions.c.id).where(editions.c.digest == "daily"))
                .scalars()
                .all()
            )
            per_subscriber = conn.execute(
                select(func.count(), func.count(deliveries.c.subscriber_id.distinct())).where(
                    deliveries.c.edition_id == edition_id
                )
            ).one()
        assert tuple(per_subscriber) == (RECIPIENTS, RECIPIENTS)
        assert not any("Traceback" in line for line in restarted.lines)
    finally:
        engine.dispose()
