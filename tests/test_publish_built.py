"""End to end: feeds built from the store pass the publisher's lint, land on the host
in order, and the hubs they advertise hear about the live ones that changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from syndicate.feeds import build_feeds
from syndicate.publishing.publish import publish, push_order, scan
from syndicate.service.context import App
from tests.support.feeds import START, add_numbered_article


@pytest.fixture
def config_extra(httpserver: HTTPServer) -> str:
    return f"""
[[feeds]]
name = "all"
path = "all"
limit = 5
archive = true
archive_page_size = 4
hubs = ["{httpserver.url_for("/")}"]

[[hosts]]
name = "site"
type = "directory"
path = "public"
retries = 0
"""


def test_built_feeds_are_published_and_announced(app: App, httpserver: HTTPServer) -> None:
    topics: list[str] = []

    def hub(request: Request) -> Response:
        assert request.form["hub.mode"] == "publish"
        topics.append(request.form["hub.url"])
        return Response(status=204)

    httpserver.expect_request("/", method="POST").respond_with_handler(hub)
    for number in range(1, 10):
        add_numbered_article(app, number)
    build_feeds(app.engine, app.settings, clock=app.clock)

    [first] = publish(app.engine, app.settings, clock=app.clock)
    assert first.error is None and first.hub_errors == []
    orders = [push_order(path) for path in first.uploaded]
    assert orders == sorted(orders)  # archive pages, other files, then live feeds
    public = app.settings.base_dir / "public"
    for path in first.uploaded:
        assert (public / path).read_bytes() == (app.settings.feeds_dir / path).read_bytes()
    feeds_url = app.settings.site.public_feeds_url
    live = [feeds_url + f"all/{name}" for name in ("atom.xml", "feed.json", "rss.xml")]
    assert sorted(topics) == live

    # A new article: only what the builder rewrote goes out; the live feeds are announced.
    topics.clear()
    add_numbered_article(app, 10, published=START + timedelta(days=30))
    app.clock.advance(days=31)  # type: ignore[attr-defined]
    build = build_feeds(app.engine, app.settings, clock=app.clock)
    [second] = publish(app.engine, app.settings, clock=app.clock)
    assert set(second.uploaded) == set(build.written)
    assert second.skipped == len(scan(app.settings.feeds_dir)) - len(second.uploaded)
    assert sorted(topics) == live
