"""One scheduler per database: the lease (SQLite) and the advisory lock (PostgreSQL)."""

from __future__ import annotations

import time

from syndicate.core.clock import FixedClock
from syndicate.core.db import open_store
from syndicate.service.leader import AdvisoryLock, LeaseLock
from tests.support import T0


def test_sqlite_lease_has_one_holder_and_passes_on_after_expiry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = open_store(f"sqlite:///{tmp_path / 'lead.db'}")
    clock = FixedClock(T0)
    first = LeaseLock(engine, clock, 30, "first")
    second = LeaseLock(engine, clock, 30, "second")
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        clock.advance(seconds=20)
        assert first.try_acquire()  # renewing extends the lease
        clock.advance(seconds=20)
        assert not second.try_acquire()
        clock.advance(seconds=11)  # the leader stopped renewing: lease expired
        assert second.try_acquire()
        assert not first.try_acquire()
        second.release()
        assert first.try_acquire()
    finally:
        engine.dispose()


def test_postgres_advisory_lock_frees_when_the_leader_connection_dies(pg_url: str) -> None:
    engine = open_store(pg_url)
    first = AdvisoryLock(engine, "first")
    second = AdvisoryLock(engine, "second")
    try:
        assert first.try_acquire()
        assert first.try_acquire()
        assert not second.try_acquire()
        first._conn.invalidate()  # the leader's session ends as if the process died
        first._conn = None
        first._held = False
        # The server frees the lock once its backend sees the session gone: a moment.
        deadline = time.monotonic() + 10
        while not second.try_acquire():
            assert time.monotonic() < deadline, "the dead session's lock was never freed"
            time.sleep(0.05)
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()
        engine.dispose()
