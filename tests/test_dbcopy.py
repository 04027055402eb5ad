"""Moving a store from SQLite to PostgreSQL keeps every row and the id sequences."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from syndicate.core.db import job_runs, make_engine, open_store, subscribers
from syndicate.core.dbcopy import copy_store
from syndicate.core.errors import StoreError
from syndicate.readers.subscribers import counts_by_status


def test_copy_sqlite_to_postgres(tmp_path, pg_url: str) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 3, 2, tzinfo=UTC)
    source = open_store(f"sqlite:///{tmp_path / 'old.db'}")
    with source.begin() as conn:
        for i in range(3):
            conn.execute(
                insert(subscribers).values(
                    email=f"r{i}@Example.org",
                    email_key=f"r{i}@example.org",
                    name="",
                    status="active",
                    soft_bounces=0,
                    created_at=now,
                )
            )
        conn.execute(insert(job_runs).values(job="feeds", slot="s", status="ok", started_at=now))
    target = make_engine(pg_url)
    try:
        copied = copy_store(source, target)
        assert copied["subscribers"] == 3 and copied["job_runs"] == 1
        with target.begin() as conn:
            assert conn.execute(select(func.count()).select_from(subscribers)).scalar_one() == 3
            # The trigger-kept counts are the target's own count, not the source's added.
            assert {k: v for k, v in counts_by_status(conn).items() if v} == {"active": 3}
            # the sequence continues after the copied ids: no primary-key clash
            conn.execute(
                insert(subscribers).values(
                    email="new@example.org",
                    email_key="new@example.org",
                    name="",
                    status="active",
                    soft_bounces=0,
                    created_at=now,
                )
            )
            assert conn.execute(select(func.max(subscribers.c.id))).scalar_one() == 4
        with pytest.raises(StoreError, match="not empty"):
            copy_store(source, target)
    finally:
        source.dispose()
        target.dispose()
