"""Ids are never reused: a link signed for an erased subscriber's id must not act on
the next person to subscribe (SQLite would otherwise hand out max(id) + 1 again)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import func, insert, select

from syndicate.core.db import (
    alembic_config,
    make_engine,
    subscribers,
    subscriptions,
    transaction,
    upgrade,
)
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from tests.support import T0


def test_the_newest_subscriber_erased_leaves_their_id_unused(app: App) -> None:
    with transaction(app.engine) as conn:
        subs.add(conn, "first@example.org", digests=[], now=T0)
        erased = subs.add(conn, "second@example.org", digests=[], now=T0)
    with transaction(app.engine) as conn:
        subs.erase(conn, "second@example.org")
    with transaction(app.engine) as conn:
        newcomer = subs.add(conn, "third@example.org", digests=[], now=T0)
    assert newcomer[0].id > erased[0].id


def test_the_sqlite_rebuild_keeps_every_child_row(tmp_path: Path) -> None:
    """The migration rebuilds the tables with foreign keys off: nothing cascades away."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
    with transaction(engine) as conn:  # raw SQL: the tables as they were at 0005
        for n in range(1, 4):
            conn.exec_driver_sql(
                "INSERT INTO subscribers (id, email, email_key, name, status, soft_bounces,"
                " created_at, status_changed_at) VALUES (?, ?, ?, '', 'active', 0, ?, ?)",
                (n, f"r{n}@example.org", f"r{n}@example.org", T0.isoformat(), T0.isoformat()),
            )
            conn.exec_driver_sql(
                "INSERT INTO subscriptions (subscriber_id, digest, created_at) VALUES (?, ?, ?)",
                (n, "weekly", T0.isoformat()),
            )
    upgrade(engine)
    with transaction(engine) as conn:
        assert conn.execute(select(func.count()).select_from(subscriptions)).scalar_one() == 3
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        ddl = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name IN ('subscribers', 'deliveries')"
        ).scalars()
        assert all("AUTOINCREMENT" in sql for sql in ddl)
        conn.execute(subscribers.delete().where(subscribers.c.id == 3))
        new_id = conn.execute(
            insert(subscribers)
            .values(
                email="n@example.org", email_key="n@example.org", name="", status="active",
                soft_bounces=0, created_at=T0, status_changed_at=T0,
            )
            .returning(subscribers.c.id)
        ).scalar_one()  # fmt: skip
    assert new_id == 4
