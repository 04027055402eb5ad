"""The ``workers`` table: one row per running delivery worker, kept fresh by a heartbeat.

``status`` lists them; housekeeping prunes the rows of workers that died without
retiring. Every statement on the table is here.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, delete, insert, select, update
from sqlalchemy.engine import Connection

from syndicate.core.clock import Clock
from syndicate.core.db import transaction, workers


def heartbeat(engine: Engine, clock: Clock, worker_id: str, *, sent: int = 0) -> None:
    """Keep this worker's row in ``workers`` fresh; ``sent`` adds to its total."""
    now = clock.now()
    with transaction(engine) as conn:
        changed = conn.execute(
            update(workers)
            .where(workers.c.id == worker_id)
            .values(heartbeat_at=now, sent=workers.c.sent + sent)
        ).rowcount
        if not changed:
            conn.execute(
                insert(workers).values(
                    id=worker_id,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    role="delivery",
                    started_at=now,
                    heartbeat_at=now,
                    sent=sent,
                )
            )


def retire(engine: Engine, worker_id: str) -> None:
    """Remove this worker's row: ``status`` lists running workers, not finished drains
    (their counts are in the job history)."""
    with transaction(engine) as conn:
        conn.execute(delete(workers).where(workers.c.id == worker_id))


def listing(conn: Connection) -> Sequence[Row[Any]]:
    """Every worker row, the most recently heard from first."""
    return conn.execute(select(workers).order_by(workers.c.heartbeat_at.desc())).all()


def prune(conn: Connection, *, before: datetime) -> int:
    """Remove the rows of workers silent since ``before`` (they died without retiring)."""
    return conn.execute(delete(workers).where(workers.c.heartbeat_at < before)).rowcount
