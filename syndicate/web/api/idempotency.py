"""``Idempotency-Key`` on POST: the first request's response is stored and replayed.

The key is claimed (a row with no response yet) in its own transaction before the
work starts, so two concurrent requests with one key cannot both do the work: the
second gets 409 and retries. When the work is done its response (any status below
500) is stored; a 5xx or an exception releases the key so the retry runs again. A
claim whose process died is taken over after ``STALE``. The same key with another
body is a client bug: 422, never a second record.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Response
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine, Row

from syndicate.core.db import dialect_insert, idempotency_keys, transaction
from syndicate.web.api.problems import Problem

HEADER = "Idempotency-Key"
STALE = timedelta(minutes=5)
KEEP = timedelta(days=1)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def request_hash(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode("utf-8", "replace"), query, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def valid_key(raw: str) -> str:
    if not _KEY.fullmatch(raw):
        raise Problem(
            400,
            f"header {HEADER}: 1-255 printable ASCII characters",
            kind="invalid-header",
            errors=[{"header": HEADER, "detail": "1-255 printable ASCII characters"}],
        )
    return raw


def _claim(
    conn: Connection, token_id: int, key: str, hashed: str, now: datetime
) -> Row[Any] | None:
    """None when claimed now; else the stored row (finished or in progress)."""
    claimed = conn.execute(
        dialect_insert(conn)(idempotency_keys)
        .values(token_id=token_id, key=key, request_hash=hashed, created_at=now)
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.key)
    ).first()
    if claimed is not None:
        return None
    row = conn.execute(
        select(idempotency_keys).where(
            idempotency_keys.c.token_id == token_id, idempotency_keys.c.key == key
        )
    ).one()
    if row.request_hash == hashed and row.status is None and now - row.created_at >= STALE:
        conn.execute(  # its process died mid-request: this retry takes the claim over
            update(idempotency_keys)
            .where(idempotency_keys.c.token_id == token_id, idempotency_keys.c.key == key)
            .values(created_at=now)
        )
        return None
    return row


def run(
    engine: Engine,
    token_id: int,
    key: str,
    hashed: str,
    now: datetime,
    work: Callable[[], Response],
) -> Response:
    """The stored answer for (token, key), or ``work()``'s answer, stored."""
    with transaction(engine) as conn:
        conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < now - KEEP))
        stored = _claim(conn, token_id, key, hashed, now)
    if stored is not None:
        if stored.request_hash != hashed:
            raise Problem(
                422,
                f"this {HEADER} was used with a different request",
                kind="idempotency-key-reused",
                errors=[{"header": HEADER, "detail": "already used with another body"}],
            )
        if stored.status is None:
            raise Problem(
                409,
                f"a request with this {HEADER} is still being processed",
                kind="idempotency-key-in-progress",
                headers={"Retry-After": "1"},
            )
        replay = Response(stored.response, status=stored.status, mimetype=_mimetype(stored))
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    where = (idempotency_keys.c.token_id == token_id) & (idempotency_keys.c.key == key)
    try:
        response = work()
    except BaseException:
        with transaction(engine) as conn:
            conn.execute(delete(idempotency_keys).where(where))
        raise
    with transaction(engine) as conn:
        if response.status_code >= 500:
            conn.execute(delete(idempotency_keys).where(where))
        else:
            conn.execute(
                update(idempotency_keys)
                .where(where)
                .values(status=response.status_code, response=response.get_data(as_text=True))
            )
    return response


def _mimetype(row: object) -> str:
    status = getattr(row, "status", 200) or 200
    return "application/json" if status < 400 else "application/problem+json"
