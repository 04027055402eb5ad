"""Server-side console sessions: a random cookie value, of which only the SHA-256 is stored.

A session ends after ``idle`` without a request or ``absolute`` after login, whichever
comes first; logging in always mints a new id (no fixation), and changing a password
ends every session of that operator. Each session has its own CSRF token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from syndicate.core.db import operator_sessions, operators
from syndicate.web.console.operators import Operator, _operator

# seen_at is refreshed at most this often: a page view need not always write.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Session:
    id_hash: str
    operator: Operator
    csrf: str
    created_at: datetime


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create(conn: Connection, operator_id: int, now: datetime) -> str:
    """A new session; returns the cookie value (never stored)."""
    value = secrets.token_urlsafe(32)
    conn.execute(
        insert(operator_sessions).values(
            id_hash=_hash(value),
            operator_id=operator_id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            seen_at=now,
        )
    )
    return value


def load(
    conn: Connection, value: str, *, now: datetime, idle: timedelta, absolute: timedelta
) -> Session | None:
    """The live session the cookie names; an expired one is deleted and None returned."""
    if not value or len(value) > 200:
        return None
    id_hash = _hash(value)
    row = conn.execute(
        select(operator_sessions, operators)
        .join(operators, operators.c.id == operator_sessions.c.operator_id)
        .where(operator_sessions.c.id_hash == id_hash)
    ).first()
    if row is None:
        return None
    m = row._mapping
    seen, created = m[operator_sessions.c.seen_at], m[operator_sessions.c.created_at]
    if now - seen >= idle or now - created >= absolute or now < created:
        conn.execute(delete(operator_sessions).where(operator_sessions.c.id_hash == id_hash))
        return None
    if now - seen >= TOUCH_EVERY:
        conn.execute(
            update(operator_sessions)
            .where(operator_sessions.c.id_hash == id_hash)
            .values(seen_at=now)
        )
    return Session(
        id_hash=id_hash,
        operator=_operator(row),
        csrf=m[operator_sessions.c.csrf],
        created_at=created,
    )


def destroy(conn: Connection, value: str) -> None:
    conn.execute(delete(operator_sessions).where(operator_sessions.c.id_hash == _hash(value)))


def purge(conn: Connection, *, now: datetime, idle: timedelta, absolute: timedelta) -> int:
    """Delete every expired session (done at each login; keeps the table small)."""
    result = conn.execute(
        delete(operator_sessions).where(
            or_(
                operator_sessions.c.seen_at <= now - idle,
                operator_sessions.c.created_at <= now - absolute,
            )
        )
    )
    return result.rowcount or 0


def csrf_matches(session: Session, given: str | None) -> bool:
    """The form's token against the session's, as bytes in constant time."""
    return bool(given) and secrets.compare_digest(
        session.csrf.encode(), (given or "").encode("utf-8", "replace")
    )
