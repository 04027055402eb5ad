"""Claims on (job, slot) runs, held under a lease that a heartbeat renews.

A claim is a ``job_runs`` row in ``running`` state. While its process works, a
heartbeat thread pushes ``lease_until`` forward; a process killed with SIGKILL stops
renewing, the lease runs out, and the next process that runs the same (job, slot) --
the leader's resume sweep, or a scheduled fire -- takes the claim over and does the
work again. Every claimed job is idempotent, so finishing someone else's half-done
run is safe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ColumnElement

from syndicate.core.db import dialect_insert, job_runs, tuples
from syndicate.service.context import App
from syndicate.service.leader import holder_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    run_id: int
    holder: str
    taken_over: bool = False


def _lease(app: App) -> timedelta:
    return timedelta(seconds=app.settings.schedule.job_lease_seconds)


def expired(now: datetime) -> ColumnElement[bool]:
    """A running claim nobody renews: its lease ran out (or predates leases)."""
    return (job_runs.c.status == "running") & or_(
        job_runs.c.lease_until.is_(None), job_runs.c.lease_until < now
    )


def claim(app: App, job: str, slot: str) -> Claim | None:
    """Claim (job, slot), or take over its expired claim; None if someone holds it."""
    now = app.clock.now()
    holder = holder_id()
    until = now + _lease(app)
    with app.engine.begin() as conn:
        statement = (
            dialect_insert(conn)(job_runs)
            .values(
                job=job,
                slot=slot,
                status="running",
                started_at=now,
                holder=holder,
                lease_until=until,
            )
            .on_conflict_do_nothing(index_elements=["job", "slot"])
            .returning(job_runs.c.id)
        )
        # No row back means the slot was already claimed (rowcount is unreliable here).
        run_id = conn.execute(statement).scalar_one_or_none()
        if run_id is not None:
            return Claim(run_id, holder)
        # The row lock (PostgreSQL) or the single writer (SQLite) lets one taker win.
        taken = conn.execute(
            update(job_runs)
            .where(job_runs.c.job == job, job_runs.c.slot == slot, expired(now))
            .values(holder=holder, lease_until=until)
            .returning(job_runs.c.id, job_runs.c.holder)
        ).first()
    if taken is None:
        return None
    log.warning(
        "job %s slot %s: its claim's lease expired (the process died); taking it over", job, slot
    )
    return Claim(taken.id, holder, taken_over=True)


@contextmanager
def heartbeat(app: App, held: Claim) -> Iterator[None]:
    """Renew the claim's lease every third of its length while the body runs."""
    lease = _lease(app)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(lease.total_seconds() / 3):
            try:
                with app.engine.begin() as conn:
                    renewed = conn.execute(
                        update(job_runs)
                        .where(job_runs.c.id == held.run_id, job_runs.c.holder == held.holder)
                        .values(lease_until=app.clock.now() + lease)
                    ).rowcount
            except SQLAlchemyError as exc:  # a busy database: try again next beat
                log.warning("job claim %s: lease not renewed: %s", held.run_id, type(exc).__name__)
                continue
            if not renewed:
                log.warning("job claim %s was taken over by another process", held.run_id)
                return

    thread = threading.Thread(target=beat, name=f"syndicate-lease-{held.run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def finish(
    app: App, held: Claim, *, status: str, counts: dict[str, object] | None, error: str | None
) -> None:
    with app.engine.begin() as conn:
        conn.execute(
            update(job_runs)
            .where(job_runs.c.id == held.run_id, job_runs.c.holder == held.holder)
            .values(
                status=status,
                finished_at=app.clock.now(),
                counts=counts or None,
                error=error,
                lease_until=None,
            )
        )


def stale(app: App) -> list[Row[Any]]:
    """Running claims whose lease has expired: (job, slot, started_at, holder)."""
    with app.engine.connect() as conn:
        return list(
            conn.execute(
                select(job_runs.c.job, job_runs.c.slot, job_runs.c.started_at, job_runs.c.holder)
                .where(expired(app.clock.now()))
                .order_by(job_runs.c.started_at)
            )
        )


# -- the run history (``status``, ``/metrics``, housekeeping read and prune it here) -----


def last_run(conn: Connection, job: str) -> Row[Any] | None:
    """The newest run of ``job``, every column."""
    return conn.execute(
        select(job_runs)
        .where(job_runs.c.job == job)
        .order_by(job_runs.c.started_at.desc(), job_runs.c.id.desc())
        .limit(1)
    ).first()


def recent_failures(conn: Connection, limit: int) -> list[Row[Any]]:
    """The newest failed runs: (job, slot, finished_at, error)."""
    return list(
        conn.execute(
            select(job_runs.c.job, job_runs.c.slot, job_runs.c.finished_at, job_runs.c.error)
            .where(job_runs.c.status == "failed")
            .order_by(job_runs.c.started_at.desc())
            .limit(limit)
        )
    )


def last_success(conn: Connection, job: str) -> datetime | None:
    """When the newest successful run of ``job`` finished."""
    return conn.execute(
        select(func.max(job_runs.c.finished_at)).where(
            job_runs.c.job == job, job_runs.c.status == "ok"
        )
    ).scalar()


def outcome_counts(conn: Connection) -> list[tuple[str, str, int]]:
    """How many runs each (job, status) has on record."""
    rows = conn.execute(
        select(job_runs.c.job, job_runs.c.status, func.count()).group_by(
            job_runs.c.job, job_runs.c.status
        )
    )
    return [(job, status, count) for job, status, count in tuples(rows)]


def prune(conn: Connection, *, before: datetime) -> int:
    """Remove finished runs started before ``before``; running claims stay."""
    return conn.execute(
        delete(job_runs).where(job_runs.c.started_at < before, job_runs.c.status != "running")
    ).rowcount
