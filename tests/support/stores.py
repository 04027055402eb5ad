"""Each test's store, copied from one migrated once per session.

Most tests begin with a new store, and migrating one (every revision from 0001 on,
through Alembic) took longer than many of those tests themselves, on PostgreSQL as on
SQLite. So a session migrates one template store per backend, the first time a test
asks for one, through ``open_store``: the code the App itself runs on first use, so a
migration added later is in the template with nothing to change here. Each test then
gets a copy of it: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL. The App still runs its upgrade on the copy (at head it changes nothing).

A test about the migrations themselves asks for a store no migration has touched with
``@pytest.mark.empty_store``.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from syndicate.core.db import open_store


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def postgres_database(admin_url: str, *, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (a copy of ``template`` if given), dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    source = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{source}'))
        try:
            yield database_url(admin_url, name)
        finally:
            _drop_database(admin, name)
    finally:
        admin.dispose()


def _drop_database(admin: Engine, name: str) -> None:
    """Drop a test database; a background worker still attached is waited out briefly."""
    for attempt in range(10):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == 9:
                raise
            time.sleep(0.2)


class StoreTemplates:
    """The session's migrated stores, made on first use and copied for each test."""

    def __init__(self, folder: Path, postgres_admin_url: str | None) -> None:
        self._folder = folder
        self._admin_url = postgres_admin_url
        self._sqlite: Path | None = None
        self._postgres: str | None = None

    def sqlite_copy(self, path: Path) -> str:
        """A copy of the migrated SQLite store at ``path``; returns its URL."""
        if self._sqlite is None:
            self._sqlite = self._migrate_sqlite(self._folder / "template.db")
        shutil.copyfile(self._sqlite, path)
        return f"sqlite:///{path}"

    def postgres_copy(self) -> Iterator[str]:
        """A new database copied from the migrated one, dropped afterwards."""
        assert self._admin_url is not None
        if self._postgres is None:
            self._postgres = self._migrate_postgres(self._admin_url)
        yield from postgres_database(self._admin_url, template=self._postgres)

    def close(self) -> None:
        if self._postgres is not None and self._admin_url is not None:
            admin = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
            try:
                _drop_database(admin, self._postgres)
            finally:
                admin.dispose()
            self._postgres = None

    @staticmethod
    def _migrate_sqlite(path: Path) -> Path:
        try:
            _migrate(f"sqlite:///{path}")
        except BaseException:
            for made in path.parent.glob(f"{path.name}*"):
                made.unlink()  # the next test tries again from nothing
            raise
        # The last connection closed folds the WAL into the file and removes it: the
        # file alone is the whole store. Were the WAL left, a copy would miss its pages.
        leftovers = [p.name for p in path.parent.glob(f"{path.name}-*")]
        assert not leftovers, f"the template store left {leftovers} beside it"
        return path

    @staticmethod
    def _migrate_postgres(admin_url: str) -> str:
        name = f"t_template_{uuid.uuid4().hex[:12]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                # PostgreSQL copies a database only while nobody is connected to it: the
                # engine that migrated it is disposed (its connections closed) first.
                _migrate(database_url(admin_url, name))
            except BaseException:
                _drop_database(admin, name)
                raise
        finally:
            admin.dispose()
        return name


def _migrate(url: str) -> None:
    engine = open_store(url)
    engine.dispose()
