"""Console login attempts, counted in the store: the limits hold across a restart and
across every process serving the console (two `syndicate serve` behind one proxy, a
restart after each failed guess). Keys are HMACs of the address and account, so the
table holds no address; rows older than the window are deleted as attempts come in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from syndicate.core.db import login_attempts

WINDOW = timedelta(minutes=15)
PER_ADDRESS = 30  # attempts from one client address, whichever accounts
PER_ACCOUNT = 10  # attempts at one account from one client address


def key(secret: bytes, *parts: str) -> str:
    """What the table stores for ``parts`` (an address; an account and an address)."""
    return hmac.new(secret, "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def allow(conn: Connection, limits: Sequence[tuple[str, int]], now: datetime) -> bool:
    """Count one attempt against each (key, limit) still under its limit; True when
    every one was. A key over its limit is not counted again, so waiting out the
    window always ends the block. Call inside a transaction."""
    conn.execute(delete(login_attempts).where(login_attempts.c.at <= now - WINDOW))
    allowed = True
    for name, limit in limits:
        seen = conn.execute(
            select(func.count()).where(
                login_attempts.c.key == name, login_attempts.c.at > now - WINDOW
            )
        ).scalar_one()
        if seen >= limit:
            allowed = False
            continue
        conn.execute(insert(login_attempts).values(key=name, at=now))
    return allowed
