"""Fixtures: a store on SQLite and, when configured, PostgreSQL; settings; an App."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from syndicate.core.clock import FixedClock
from syndicate.core.config import Settings, load_settings
from syndicate.service.context import App
from tests.support import REQUIRE_ALL, T0, require, write_config

PG_URL = os.environ.get("SYNDICATE_TEST_DATABASE_URL")


def _backends() -> list[str]:
    return ["sqlite", "postgres"] if (PG_URL or REQUIRE_ALL) else ["sqlite"]


@pytest.fixture(params=_backends())
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: one SQLite file, or one PostgreSQL database per test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    require(PG_URL is not None, "PostgreSQL (SYNDICATE_TEST_DATABASE_URL)")
    yield from postgres_database(PG_URL)  # type: ignore[arg-type]


def postgres_database(admin_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)
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


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (for tests that only make sense there)."""
    require(PG_URL is not None, "PostgreSQL (SYNDICATE_TEST_DATABASE_URL)")
    yield from postgres_database(PG_URL)  # type: ignore[arg-type]


@pytest.fixture
def config_extra() -> str:
    """Override in a test module to add TOML to the base config."""
    return ""


@pytest.fixture
def config_file(tmp_path: Path, store_url: str, config_extra: str) -> Path:
    return write_config(tmp_path, store_url, config_extra)


@pytest.fixture
def settings(config_file: Path) -> Settings:
    return load_settings(config_file)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def app(settings: Settings, clock: FixedClock) -> Iterator[App]:
    application = App(settings, clock=clock)
    try:
        yield application
    finally:
        application.close()


CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out from this sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    require(CHROMIUM.exists(), "Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
