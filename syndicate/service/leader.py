"""One scheduler per database: the leader lock.

PostgreSQL: a session advisory lock held on a dedicated connection; when the leader
dies its connection closes and the lock frees at once. SQLite: a lease row renewed
by a heartbeat; a standby takes over once the lease has expired.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Engine, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from syndicate.core.clock import Clock
from syndicate.core.db import is_sqlite, leases

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
ADVISORY_KEY = 0x5359_4E44  # "SYND"


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeaderLock(Protocol):
    holder: str

    def try_acquire(self) -> bool:
        """Become (or stay) the leader if nobody else is; True while we lead."""
        ...

    def release(self) -> None: ...


class LeaseLock:
    """A lease row: whoever holds an unexpired lease leads; renewing extends it."""

    def __init__(self, engine: Engine, clock: Clock, lease_seconds: int, holder: str) -> None:
        self.engine = engine
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)
        self.holder = holder

    def try_acquire(self) -> bool:
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                row = conn.execute(
                    select(leases.c.holder, leases.c.expires_at).where(leases.c.name == LOCK_NAME)
                ).first()
                if row is None:
                    conn.execute(
                        leases.insert().values(
                            name=LOCK_NAME, holder=self.holder, expires_at=now + self.lease
                        )
                    )
                    return True
                if row.holder != self.holder and row.expires_at > now:
                    return False
                conn.execute(
                    update(leases)
                    .where(leases.c.name == LOCK_NAME)
                    .values(holder=self.holder, expires_at=now + self.lease)
                )
                return True
        except (IntegrityError, OperationalError) as exc:
            log.warning("leader lease not renewed: %s", exc.__class__.__name__)
            return False

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                leases.delete().where(leases.c.name == LOCK_NAME, leases.c.holder == self.holder)
            )


class AdvisoryLock:
    """A PostgreSQL session advisory lock on a connection kept for that purpose."""

    def __init__(self, engine: Engine, holder: str) -> None:
        self.engine = engine
        self.holder = holder
        self._conn: Connection | None = None
        self._held = False

    def try_acquire(self) -> bool:
        try:
            if self._conn is None:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if self._held:
                self._conn.execute(text("SELECT 1"))  # the lock lives as long as this session
                return True
            self._held = bool(
                self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
                ).scalar()
            )
            return self._held
        except OperationalError as exc:
            log.warning("lost the leader connection: %s", exc.__class__.__name__)
            self._drop()
            return False

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except OperationalError:
                pass
        self._conn = None
        self._held = False

    def release(self) -> None:
        if self._conn is not None and self._held:
            with contextlib.suppress(OperationalError):
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._held = False


def leader_lock(engine: Engine, clock: Clock, lease_seconds: int) -> LeaderLock:
    holder = holder_id()
    if is_sqlite(engine):
        return LeaseLock(engine, clock, lease_seconds, holder)
    return AdvisoryLock(engine, holder)
