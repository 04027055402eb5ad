"""The store: migrations match the table definitions; times are UTC and aware."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, insert, inspect, select
from sqlalchemy.exc import StatementError

from syndicate.core.db import job_runs, metadata, open_store, upgrade
from tests.support import head_revision


@pytest.mark.empty_store  # the migrations run here, not on the session's template
def test_migrations_create_exactly_the_declared_schema(store_url: str) -> None:
    assert _tables(store_url) == set()  # nothing but the migrations below made the schema
    engine = open_store(store_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            indexes = {i["name"] for i in inspect(conn).get_indexes("subscribers")}
            if conn.dialect.name == "sqlite":  # SQLAlchemy does not reflect them there
                indexes |= set(
                    conn.exec_driver_sql(
                        "SELECT name FROM sqlite_master WHERE type = 'index'"
                        " AND tbl_name = 'subscribers'"
                    ).scalars()
                )
            triggers = set(
                conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                    if conn.dialect.name == "sqlite"
                    else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                ).scalars()
            )
        # The counts the console reads are kept by these (a table rebuild drops them).
        assert triggers >= {
            f"{table}_count_{event}"
            for table in ("deliveries", "subscribers")
            for event in ("insert", "update", "delete")
        } | {"subscribers_reach"}
        # Expression indexes (lower(...) for prefix search) cannot be compared by their
        # text (PostgreSQL reflects lower((email_key)::text)): check them by name.
        assert [d for d in diff if not _expression_index(d)] == []
        assert {"ix_subscribers_email_prefix", "ix_subscribers_name_prefix"} <= indexes
        assert upgrade(engine) == head_revision()  # running it again is harmless
    finally:
        engine.dispose()


def test_a_tests_store_is_migrated_to_head_and_holds_no_rows(store_url: str) -> None:
    """What the store_url fixture copies from the session's template (conftest.py)."""
    engine = create_engine(store_url)  # not open_store: that would migrate it
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
            rows = {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in metadata.sorted_tables
            }
        assert set(rows) <= _tables(store_url) and set(rows.values()) == {0}
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _expression_index(change: object) -> bool:
    if not (isinstance(change, tuple) and change[0] in ("add_index", "remove_index")):
        return False
    return change[1].name in ("ix_subscribers_email_prefix", "ix_subscribers_name_prefix")


def test_times_come_back_aware_utc(store_url: str) -> None:
    engine = open_store(store_url)
    kyiv_noon = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(job_runs).values(job="j", slot="s", status="ok", started_at=kyiv_noon)
            )
            stored = conn.execute(select(job_runs.c.started_at)).scalar_one()
        assert stored == kyiv_noon
        assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
        assert stored.hour == 9
    finally:
        engine.dispose()


def test_naive_times_are_refused(store_url: str) -> None:
    engine = open_store(store_url)
    try:
        with pytest.raises(StatementError, match="naive datetime"), engine.begin() as conn:
            conn.execute(
                insert(job_runs).values(
                    job="j", slot="s", status="ok", started_at=datetime(2026, 1, 1)
                )
            )
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
