"""Fixtures: a store on SQLite and, when configured, PostgreSQL; settings; an App."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.core.clock import FixedClock
from syndicate.core.config import Settings, load_settings
from syndicate.service.context import App
from tests.support import REQUIRE_ALL, T0, require, write_config
from tests.support.stores import StoreTemplates, postgres_database

# Server fixtures shared by many modules, found by name (test modules hold tests only).
pytest_plugins = ("tests.support.hosts", "tests.support.sources")

PG_URL = os.environ.get("SYNDICATE_TEST_DATABASE_URL")


def _backends() -> list[str]:
    return ["sqlite", "postgres"] if (PG_URL or REQUIRE_ALL) else ["sqlite"]


@pytest.fixture(scope="session")
def store_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreTemplates]:
    """The session's migrated stores (see tests/support/stores.py), made on first use."""
    templates = StoreTemplates(tmp_path_factory.mktemp("store-template"), PG_URL)
    try:
        yield templates
    finally:
        templates.close()


@pytest.fixture(params=_backends())
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, store_templates: StoreTemplates
) -> Iterator[str]:
    """A fresh database URL for this test alone: one SQLite file, or one PostgreSQL
    database. It holds the migrated schema and no rows, copied from the session's
    template; under ``@pytest.mark.empty_store`` it is empty, not even migrated."""
    empty = request.node.get_closest_marker("empty_store") is not None
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        yield f"sqlite:///{path}" if empty else store_templates.sqlite_copy(path)
        return
    require(PG_URL is not None, "PostgreSQL (SYNDICATE_TEST_DATABASE_URL)")
    if empty:
        yield from postgres_database(PG_URL)  # type: ignore[arg-type]
    else:
        yield from store_templates.postgres_copy()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (for tests that only make sense there)."""
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
