"""WebSub pings against a real HTTP hub on loopback that records what it receives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from syndicate.publishing.publish import publish
from syndicate.publishing.websub import advertised, ping_hubs
from syndicate.service.context import App
from tests.support import free_port
from tests.support.hosts import FEEDS_URL, atom, jsonfeed, rss, write_feeds

LIVE = ["all/atom.xml", "all/feed.json", "all/rss.xml"]


@pytest.fixture
def config_extra() -> str:
    return """
[[hosts]]
name = "site"
type = "directory"
path = "public"
retries = 1
retry_delay = 0
"""


class Hub:
    """Records each ping and what the public folder held at that moment."""

    def __init__(
        self, public: Path, statuses: list[int] | None = None, mirror: Path | None = None
    ) -> None:
        self.public = public
        self.mirror = mirror
        self.statuses = statuses or []
        self.pings: list[dict[str, str]] = []
        self.live_at_ping: list[bytes | None] = []
        self.mirror_at_ping: list[bytes | None] = []
        self.content_types: list[str] = []

    def __call__(self, request: Request) -> Response:
        form = dict(request.form)
        self.pings.append(form)
        self.content_types.append(request.mimetype)
        topic = form.get("hub.url", "")
        for root, seen in ((self.public, self.live_at_ping), (self.mirror, self.mirror_at_ping)):
            path = root / topic.removeprefix(FEEDS_URL) if root else None
            seen.append(path.read_bytes() if path and path.is_file() else None)
        status = self.statuses.pop(0) if self.statuses else 204
        headers = {"Retry-After": "0"} if status in (429, 503) else {}
        return Response(status=status, headers=headers)

    def topics(self) -> list[str]:
        return sorted(ping["hub.url"].removeprefix(FEEDS_URL) for ping in self.pings)


def start_hub(httpserver: HTTPServer, app: App, statuses: list[int] | None = None) -> Hub:
    hub = Hub(app.settings.base_dir / "public", statuses)
    httpserver.expect_request("/hub", method="POST").respond_with_handler(hub)
    return hub


def test_hubs_hear_of_each_changed_live_feed_once_it_is_live(
    app: App, httpserver: HTTPServer
) -> None:
    hub = start_hub(httpserver, app)
    files = write_feeds(app.settings.feeds_dir, hub=httpserver.url_for("/hub"))

    [report] = publish(app.engine, app.settings, clock=app.clock)
    assert report.hubs_pinged == 3 and report.hub_errors == []
    assert hub.topics() == LIVE
    assert all(ping["hub.mode"] == "publish" for ping in hub.pings)
    assert set(hub.content_types) == {"application/x-www-form-urlencoded"}
    # Each ping came after its feed was in place at the public path, whole.
    for ping, seen in zip(hub.pings, hub.live_at_ping, strict=True):
        assert seen == files[ping["hub.url"].removeprefix(FEEDS_URL)]

    [again] = publish(app.engine, app.settings, clock=app.clock)
    assert again.hubs_pinged == 0 and len(hub.pings) == 3

    # Only the changed feed is announced; archive pages and other files never are.
    hub.pings.clear()
    changed = rss("all/rss.xml", "Second", httpserver.url_for("/hub"))
    (app.settings.feeds_dir / "all" / "rss.xml").write_bytes(changed)
    (app.settings.feeds_dir / "index.html").write_bytes(b"<!doctype html><title>v2</title>\n")
    [third] = publish(app.engine, app.settings, clock=app.clock)
    assert third.hubs_pinged == 1 and hub.topics() == ["all/rss.xml"]


class TestTwoHosts:
    @pytest.fixture
    def config_extra(self) -> str:
        return """
[[hosts]]
name = "site"
type = "directory"
path = "public"
retries = 0

[[hosts]]
name = "mirror"
type = "directory"
path = "mirror"
retries = 0
"""

    def test_each_changed_feed_is_pinged_once_after_every_host_has_it(
        self, app: App, httpserver: HTTPServer
    ) -> None:
        base = app.settings.base_dir
        hub = Hub(base / "public", mirror=base / "mirror")
        httpserver.expect_request("/hub", method="POST").respond_with_handler(hub)
        files = write_feeds(app.settings.feeds_dir, hub=httpserver.url_for("/hub"))

        site, mirror = publish(app.engine, app.settings, clock=app.clock)
        assert hub.topics() == LIVE  # once each, not once per host
        for ping, public, mirrored in zip(
            hub.pings, hub.live_at_ping, hub.mirror_at_ping, strict=True
        ):
            expected = files[ping["hub.url"].removeprefix(FEEDS_URL)]
            assert public == mirrored == expected  # both hosts had it when the hub heard
        # Each host's report counts the pings for the feeds it landed.
        assert site.hubs_pinged == mirror.hubs_pinged == 3


def test_a_busy_hub_is_retried(app: App, httpserver: HTTPServer) -> None:
    hub = start_hub(httpserver, app, statuses=[503, 204, 429])
    write_feeds(app.settings.feeds_dir, hub=httpserver.url_for("/hub"))
    [report] = publish(app.engine, app.settings, clock=app.clock)
    # atom.xml: 503 then accepted; feed.json: 429 then accepted; rss.xml: accepted.
    assert report.hubs_pinged == 3 and report.hub_errors == []
    assert hub.topics() == sorted(["all/atom.xml", *LIVE, "all/feed.json"])


def test_a_failing_hub_never_undoes_the_push(app: App, httpserver: HTTPServer) -> None:
    hub = start_hub(httpserver, app, statuses=[500] * 6)
    files = write_feeds(app.settings.feeds_dir, hub=httpserver.url_for("/hub"))
    [report] = publish(
        app.engine, app.settings, clock=app.clock
    )  # no exception: the feeds are live
    assert report.error is None and report.hubs_pinged == 0
    assert len(report.hub_errors) == 3 and all("HTTP 500" in e for e in report.hub_errors)
    assert len(hub.pings) == 6  # one retry each (retries = 1)
    public = app.settings.base_dir / "public"
    assert (public / "all" / "rss.xml").read_bytes() == files["all/rss.xml"]
    [again] = publish(app.engine, app.settings, clock=app.clock)
    assert again.uploaded == []  # the manifest kept what landed


def test_a_hub_refusing_the_request_is_not_retried(app: App, httpserver: HTTPServer) -> None:
    hub = start_hub(httpserver, app, statuses=[400, 400, 400])
    write_feeds(app.settings.feeds_dir, hub=httpserver.url_for("/hub"))
    [report] = publish(app.engine, app.settings, clock=app.clock)
    assert len(hub.pings) == 3
    assert all("HTTP 400" in error for error in report.hub_errors)


def test_an_unreachable_hub_is_reported(app: App) -> None:
    hub_url = f"http://127.0.0.1:{free_port()}/hub"
    write_feeds(app.settings.feeds_dir, hub=hub_url)
    [report] = publish(app.engine, app.settings, clock=app.clock)
    assert report.error is None and report.hubs_pinged == 0
    assert len(report.hub_errors) == 3
    assert all("cannot reach the hub" in error for error in report.hub_errors)


def test_retry_after_is_honoured_within_a_limit(httpserver: HTTPServer) -> None:
    answers = iter([(429, "7"), (503, "3600"), (204, None)])

    def handler(_request: Request) -> Response:
        status, retry_after = next(answers)
        return Response(status=status, headers={"Retry-After": retry_after} if retry_after else {})

    httpserver.expect_request("/hub", method="POST").respond_with_handler(handler)
    waits: list[float] = []
    [result] = ping_hubs(
        [(httpserver.url_for("/hub"), FEEDS_URL + "all/rss.xml")],
        retries=3,
        retry_delay=0.5,
        sleep=waits.append,
    )
    assert result.ok and result.attempts == 3
    assert waits == [7.0, 60.0]  # Retry-After, capped at a minute


def test_retry_after_as_an_http_date(httpserver: HTTPServer) -> None:
    """The hub's date form of Retry-After is read by the same parser as the mailers'."""
    far = format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
    past = "Sun, 06 Nov 1994 08:49:37 GMT"
    answers = iter([(503, far), (503, past), (503, "not a date"), (204, None)])

    def handler(_request: Request) -> Response:
        status, retry_after = next(answers)
        return Response(status=status, headers={"Retry-After": retry_after} if retry_after else {})

    httpserver.expect_request("/hub", method="POST").respond_with_handler(handler)
    waits: list[float] = []
    [result] = ping_hubs(
        [(httpserver.url_for("/hub"), FEEDS_URL + "all/rss.xml")],
        retries=3,
        retry_delay=0.5,
        sleep=waits.append,
    )
    assert result.ok and result.attempts == 4
    # A day away: capped at a minute; a past date or garbage: the usual backoff.
    assert waits == [60.0, 1.0, 2.0]


def test_advertised_self_and_hubs_in_each_format() -> None:
    hub = "https://hub.example.net/"
    assert advertised(rss("all/rss.xml", "T", hub), "all/rss.xml") == (
        FEEDS_URL + "all/rss.xml",
        [hub],
    )
    assert advertised(atom("all/atom.xml", "T", hub), "all/atom.xml") == (
        FEEDS_URL + "all/atom.xml",
        [hub],
    )
    assert advertised(jsonfeed("all/feed.json", "T", hub), "all/feed.json") == (
        FEEDS_URL + "all/feed.json",
        [hub],
    )
    assert advertised(rss("all/rss.xml", "T"), "all/rss.xml")[1] == []
    assert advertised(b"<rss><channel>", "all/rss.xml") == (None, [])
    assert advertised(b"{not json", "all/feed.json") == (None, [])
