"""Helpers for the feed-source tests: a loopback HTTP server and the fixture feeds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from syndicate import articles
from syndicate.articles import Article
from syndicate.core.clock import FixedClock
from syndicate.core.config import load_settings
from syndicate.service.context import App
from tests.support import T0, write_config

FEEDS = Path(__file__).resolve().parent.parent / "feeds"
FEED_TYPES = {
    ".xml": "application/rss+xml; charset=UTF-8",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
}


class QuickHTTPServer(HTTPServer):
    """pytest-httpserver that stops at once: its loop looks for the stop every 10 ms,
    not every 0.5 s (werkzeug's default), which each test using ``server`` waited out."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.01)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    """pytest-httpserver on 127.0.0.1, an ephemeral port."""
    httpserver = QuickHTTPServer(host="127.0.0.1", port=0)
    httpserver.start()
    try:
        yield httpserver
    finally:
        httpserver.clear()
        if httpserver.is_running():
            httpserver.stop()


def fixture_text(server: HTTPServer, name: str) -> str:
    """A fixture feed or page with ``{base}`` pointing at ``server``."""
    return (FEEDS / name).read_text(encoding="utf-8").replace("{base}", server.url_for("/"))


def serve(server: HTTPServer, path: str, name: str, **headers: str) -> None:
    """Serve fixture ``name`` at ``path`` (any number of times)."""
    content_type = FEED_TYPES[Path(name).suffix]
    server.expect_request(path).respond_with_data(
        fixture_text(server, name), content_type=content_type, headers=headers
    )


def source_config(server: HTTPServer, name: str, path: str, **options: object) -> str:
    """A ``[[sources]]`` table for a feed at ``path`` on the loopback server."""
    lines = [
        "[[sources]]",
        f'name = "{name}"',
        f'url = "{server.url_for(path)}"',
        "allow_private = true",
        "host_delay = 0",
    ]
    for key, value in options.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def make_app(tmp_path: Path, store_url: str) -> Iterator[Callable[[str], App]]:
    """Build Apps on the test store from extra TOML (each closed at the end)."""
    made: list[App] = []

    def factory(extra: str) -> App:
        app = App(load_settings(write_config(tmp_path, store_url, extra)), clock=FixedClock(T0))
        made.append(app)
        return app

    yield factory
    for app in made:
        app.close()


def stored(app: App) -> dict[str, Article]:
    """Every stored article by title (bodies included)."""
    with app.engine.connect() as conn:
        return {a.title: a for a in articles.all_articles(conn)}
