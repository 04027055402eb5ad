"""How a feed source behaves as an HTTP client, and every fault: 304, 301/308, 410, 429 and
503 with Retry-After, gzip, oversize, HTML instead of a feed, broken XML, 500, timeouts and
addresses it may not reach. Always one clear line naming the URL, nothing half-written."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from syndicate.core.errors import SourceError
from syndicate.intake.sources import pull_source
from syndicate.intake.sources.fetch import (
    Client,
    HostPacer,
    Policy,
    address_allowed,
    parse_http_url,
    retry_after_seconds,
)
from syndicate.intake.sources.report import source_rows
from syndicate.service.context import App
from tests.support import T0
from tests.support.sources import fixture_text, serve, source_config, stored

MakeApp = Callable[[str], App]


def rows(app: App) -> dict[str, dict]:
    with app.engine.connect() as conn:
        return {r["name"]: r for r in source_rows(conn, app.settings, app.clock.now())}


def test_conditional_get_sends_the_validators_and_a_304_changes_nothing(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/ghost/rss/", "ghost.xml", ETag='"v1"', **{
        "Last-Modified": "Wed, 04 Mar 2026 10:00:00 GMT"})  # fmt: skip
    app = make_app(source_config(server, "ghost", "/ghost/rss/"))
    assert (
        pull_source(app.engine, app.settings, clock=app.clock, name="ghost").counts["imported"] == 2
    )
    server.clear()
    server.expect_request(
        "/ghost/rss/",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Wed, 04 Mar 2026 10:00:00 GMT"},
    ).respond_with_data("", status=304)
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert result.state == "unchanged" and result.entries == []
    assert len(server.log) == 1 and server.log[0][1].status_code == 304
    row = rows(app)["ghost"]
    assert row["state"] == "unchanged" and "304" in row["detail"]
    assert len(stored(app)) == 2


def test_gzip_responses_are_read(server: HTTPServer, make_app: MakeApp) -> None:
    body = gzip.compress(fixture_text(server, "ghost.xml").encode("utf-8"))
    server.expect_request(
        "/ghost/rss/", headers={"Accept-Encoding": "gzip, deflate"}
    ).respond_with_data(
        body, content_type="application/rss+xml", headers={"Content-Encoding": "gzip"}
    )
    app = make_app(source_config(server, "ghost", "/ghost/rss/"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert result.counts["imported"] == 2, result.detail


@pytest.mark.parametrize("status", [301, 308])
def test_a_permanent_redirect_updates_the_stored_url_and_is_reported(
    server: HTTPServer, make_app: MakeApp, status: int
) -> None:
    new_url = server.url_for("/new/rss/")
    server.expect_request("/old/rss/").respond_with_data(
        "", status=status, headers={"Location": "/new/rss/"}
    )
    serve(server, "/new/rss/", "ghost.xml")
    app = make_app(source_config(server, "ghost", "/old/rss/"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert result.moved_to == new_url
    assert f"moved permanently to {new_url}" in result.detail
    assert rows(app)["ghost"]["url"] == new_url
    server.clear()
    serve(server, "/new/rss/", "ghost.xml")
    again = pull_source(
        app.engine, app.settings, clock=app.clock, name="ghost"
    )  # straight to the new address
    assert [r.path for r, _ in server.log] == ["/new/rss/"]
    assert again.counts["unchanged"] == 2


def test_a_temporary_redirect_is_followed_but_not_remembered(
    server: HTTPServer, make_app: MakeApp
) -> None:
    server.expect_request("/rss/").respond_with_data("", status=302, headers={"Location": "/x/"})
    serve(server, "/x/", "ghost.xml")
    app = make_app(source_config(server, "ghost", "/rss/"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert result.moved_to is None and result.counts["imported"] == 2
    assert rows(app)["ghost"]["url"] == server.url_for("/rss/")


def test_410_gone_disables_the_source_with_a_clear_status(
    server: HTTPServer, make_app: MakeApp
) -> None:
    server.expect_request("/rss/").respond_with_data("gone", status=410)
    app = make_app(source_config(server, "blog", "/rss/"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="blog")
    assert result.state == "gone" and not result.ok
    assert result.detail == f"{server.url_for('/rss/')}: HTTP 410 GONE: the feed is gone"
    again = pull_source(app.engine, app.settings, clock=app.clock, name="blog")
    assert again.skipped and again.state == "gone" and "--force" in again.detail
    assert len(server.log) == 1  # not asked again
    row = rows(app)["blog"]
    assert row["state"] == "gone" and row["next_run"] is None


@pytest.mark.parametrize(
    ("status", "retry_after", "wait"),
    [(429, "120", 120), (503, "Mon, 02 Mar 2026 10:00:00 GMT", 3600)],
)
def test_429_and_503_honour_retry_after(
    server: HTTPServer, make_app: MakeApp, status: int, retry_after: str, wait: int
) -> None:
    server.expect_request("/rss/").respond_with_data(
        "slow down", status=status, headers={"Retry-After": retry_after}
    )
    app = make_app(source_config(server, "blog", "/rss/"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="blog")
    assert result.state == "deferred" and f"HTTP {status}" in result.detail
    assert rows(app)["blog"]["state"] == "deferred"
    app.clock.advance(seconds=wait - 1)  # type: ignore[attr-defined]
    waiting = pull_source(app.engine, app.settings, clock=app.clock, name="blog")
    assert waiting.skipped and "Retry-After" in waiting.detail
    assert len(server.log) == 1
    server.clear()
    serve(server, "/rss/", "ghost.xml")
    app.clock.advance(seconds=2)  # type: ignore[attr-defined]
    assert (
        pull_source(app.engine, app.settings, clock=app.clock, name="blog").counts["imported"] == 2
    )


def test_oversize_feed_is_refused_and_nothing_is_stored(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/ghost/rss/", "ghost.xml")
    app = make_app(source_config(server, "ghost", "/ghost/rss/", max_bytes=2048))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert result.state == "failed"
    assert result.detail.startswith(server.url_for("/ghost/rss/") + ": the response is")
    assert "over the limit of 2,048" in result.detail
    assert stored(app) == {}


def test_oversize_gzip_bomb_stops_at_the_limit(server: HTTPServer, make_app: MakeApp) -> None:
    bomb = gzip.compress(b"<rss>" + b" " * 5_000_000)
    server.expect_request("/rss/").respond_with_data(
        bomb, content_type="application/rss+xml", headers={"Content-Encoding": "gzip"}
    )
    app = make_app(source_config(server, "blog", "/rss/", max_bytes=100_000))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="blog")
    assert result.state == "failed" and "over the limit of 100,000" in result.detail


def test_html_page_instead_of_a_feed_names_the_url_and_the_advertised_feed(
    server: HTTPServer, make_app: MakeApp
) -> None:
    page = (
        '<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" '
        'href="/feed/"></head><body><p>Welcome</p></body></html>'
    )
    server.expect_request("/").respond_with_data(page, content_type="text/html")
    app = make_app(source_config(server, "blog", "/"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="blog")
    assert result.state == "failed"
    assert result.detail == (
        f"{server.url_for('/')}: this is an HTML page, not a feed; "
        f"it links to the feed {server.url_for('/feed/')}"
    )
    assert stored(app) == {}


def test_broken_xml_cut_in_half_stores_nothing_and_other_sources_carry_on(
    server: HTTPServer, make_app: MakeApp
) -> None:
    whole = fixture_text(server, "ghost.xml")
    server.expect_request("/broken/").respond_with_data(
        whole[: len(whole) // 2], content_type="application/rss+xml"
    )
    serve(server, "/medium/feed/@priya", "medium.xml")
    app = make_app(
        source_config(server, "broken", "/broken/")
        + source_config(server, "medium", "/medium/feed/@priya")
    )
    broken = pull_source(app.engine, app.settings, clock=app.clock, name="broken")
    assert broken.state == "failed"
    assert broken.detail.startswith(f"{server.url_for('/broken/')}: the feed is cut off")
    assert (
        pull_source(app.engine, app.settings, clock=app.clock, name="medium").counts["imported"]
        == 1
    )
    assert set(stored(app)) == {"What I learned running a night market"}


def test_xml_that_is_not_a_feed(server: HTTPServer, make_app: MakeApp) -> None:
    server.expect_request("/rss/").respond_with_data(
        "<?xml version='1.0'?><sitemap><url/></sitemap>", content_type="application/xml"
    )
    app = make_app(source_config(server, "blog", "/rss/"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="blog")
    assert result.state == "failed" and "not an RSS, Atom or JSON feed" in result.detail


def test_server_error_is_one_line_and_keeps_what_was_stored(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/ghost/rss/", "ghost.xml")
    app = make_app(source_config(server, "ghost", "/ghost/rss/"))
    pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    server.clear()
    server.expect_request("/ghost/rss/").respond_with_data("oops", status=500)
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert result.state == "failed"
    assert result.detail == f"{server.url_for('/ghost/rss/')}: HTTP 500 INTERNAL SERVER ERROR"
    assert len(stored(app)) == 2
    assert rows(app)["ghost"]["last_success"] == T0


def test_a_timeout_is_one_line(server: HTTPServer, make_app: MakeApp) -> None:
    release = threading.Event()

    def stall(_request: Request) -> Response:
        release.wait(5)
        return Response("late")

    server.expect_request("/slow/").respond_with_handler(stall)
    app = make_app(source_config(server, "slow", "/slow/", timeout=0.3))
    try:
        result = pull_source(app.engine, app.settings, clock=app.clock, name="slow")
    finally:
        release.set()
    assert result.state == "failed"
    assert result.detail == f"{server.url_for('/slow/')}: no answer within 0.3 s"


def test_private_addresses_need_allow_private(server: HTTPServer, make_app: MakeApp) -> None:
    serve(server, "/ghost/rss/", "ghost.xml")
    config = source_config(server, "ghost", "/ghost/rss/").replace(
        "allow_private = true", "allow_private = false"
    )
    app = make_app(config)
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert result.state == "failed"
    assert "127.0.0.1, a private or local address" in result.detail
    assert server.log == []  # refused before a byte was sent


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(
    server: HTTPServer,
) -> None:
    # "localhost" resolves to loopback: the check is on the resolved addresses, not the name
    client = Client(Policy(user_agent="t", allow_private=False))
    with pytest.raises(SourceError, match="private or local address"):
        client.get(f"http://localhost:{server.port}/rss/")
    assert server.log == []


def test_redirect_loops_end(server: HTTPServer) -> None:
    server.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/a"})
    client = Client(Policy(user_agent="t", allow_private=True))
    with pytest.raises(SourceError, match="more than 5 redirects"):
        client.get(server.url_for("/a"))


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fd00::1",
     "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1", "224.0.0.1"],
)  # fmt: skip
def test_private_and_special_addresses_are_not_allowed(address: str) -> None:
    assert not address_allowed(address)


def test_public_addresses_are_allowed() -> None:
    assert address_allowed("93.184.216.34") and address_allowed("2606:2800:220:1::1")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x.example/", "//x.example/", "x"])
def test_only_absolute_http_urls(url: str) -> None:
    with pytest.raises(SourceError, match="not an absolute http"):
        parse_http_url(url)


def test_retry_after_forms() -> None:
    assert retry_after_seconds("30", T0) == 30
    assert retry_after_seconds("Mon, 02 Mar 2026 09:01:00 GMT", T0) == 60
    assert retry_after_seconds("Mon, 02 Mar 2026 08:00:00 GMT", T0) == 0  # in the past
    assert retry_after_seconds("soon", T0) is None
    assert retry_after_seconds("99999999", T0) == timedelta(days=7).total_seconds()


def test_host_pacer_waits_between_requests_to_one_host_only() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pacer = HostPacer(2.0, sleep=sleep, monotonic=lambda: now[0])
    pacer.wait("https://a.example/1")
    pacer.wait("https://b.example/1")  # another host: no wait
    now[0] += 0.5
    pacer.wait("https://a.example/2")
    pacer.wait("https://A.example/3")
    assert waits == [1.5, 2.0]


def test_full_text_fetches_are_paced_per_host(server: HTTPServer, make_app: MakeApp) -> None:
    serve(server, "/gazette/feed/", "wordpress-summary.xml")
    serve(server, "/gazette/2026/03/02/bridge-repairs/", "page-bridge.html")
    serve(server, "/gazette/2026/02/27/choir-final/", "page-choir.html")
    app = make_app(
        source_config(server, "gazette", "/gazette/feed/").replace(
            "host_delay = 0", "host_delay = 30"
        )
    )
    waits: list[float] = []
    result = pull_source(
        app.engine, app.settings, clock=app.clock, name="gazette", sleep=waits.append
    )
    assert result.counts["pages"] == 2
    # feed, page, page on one host: two waits of (nearly) the whole delay
    assert len(waits) == 2 and all(25 < w <= 30 for w in waits)


def test_a_429_on_an_article_page_keeps_the_summary_and_leaves_the_host_alone(
    server: HTTPServer, make_app: MakeApp
) -> None:
    serve(server, "/gazette/feed/", "wordpress-summary.xml")
    server.expect_request("/gazette/2026/02/27/choir-final/").respond_with_data(
        "", status=429, headers={"Retry-After": "60"}
    )
    app = make_app(source_config(server, "gazette", "/gazette/feed/"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="gazette")
    assert result.state == "ok" and result.counts["imported"] == 2
    assert result.counts["pages"] == 1  # the second page was not asked for
    assert any("HTTP 429" in w for w in result.warnings)
    assert "regional round" in stored(app)["School choir heads to the national final"].content_text
    server.clear()
    serve(server, "/gazette/feed/", "wordpress-summary.xml")
    serve(server, "/gazette/2026/03/02/bridge-repairs/", "page-bridge.html")
    serve(server, "/gazette/2026/02/27/choir-final/", "page-choir.html")
    later = pull_source(
        app.engine, app.settings, clock=app.clock, name="gazette"
    )  # both pages are tried again
    assert later.counts["pages"] == 2 and later.counts["updated"] == 2


@pytest.fixture
def broken_entry_feed(server: HTTPServer) -> Iterator[str]:
    whole = fixture_text(server, "ghost.xml")
    # the second entry has a title of punctuation and no text at all: it fails, alone
    fog = whole.index("<![CDATA[Fog week]]>")
    head, tail = whole[:fog], whole[fog:].replace("<![CDATA[Fog week]]>", "<![CDATA[***]]>")
    for tag in ("description", "content:encoded"):
        start = tail.index(f"<{tag}>")
        tail = tail[:start] + tail[tail.index(f"</{tag}>") + len(f"</{tag}>") :]
    yield head + tail


def test_a_bad_entry_fails_alone(
    server: HTTPServer, make_app: MakeApp, broken_entry_feed: str
) -> None:
    server.expect_request("/rss/").respond_with_data(
        broken_entry_feed, content_type="application/rss+xml"
    )
    app = make_app(source_config(server, "ghost", "/rss/", full_text="never"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="ghost")
    assert result.counts["imported"] == 1 and result.counts["failed"] == 1
    failed = next(e for e in result.entries if e.status == "failed")
    assert failed.note.startswith(server.url_for("/rss/"))
    assert "no title" in failed.note or "no body text" in failed.note
    assert set(stored(app)) == {"The swifts are back"}


def test_a_feed_labelled_text_html_is_still_read(server: HTTPServer, make_app: MakeApp) -> None:
    feed = fixture_text(server, "hugo.xml").split("\n", 1)[1]  # no XML declaration either
    server.expect_request("/index.xml").respond_with_data(feed, content_type="text/html")
    app = make_app(source_config(server, "hugo", "/index.xml", full_text="never"))
    result = pull_source(app.engine, app.settings, clock=app.clock, name="hugo")
    assert result.counts["imported"] == 2, result.detail


def test_a_gone_source_comes_back_when_its_url_changes(
    server: HTTPServer, make_app: MakeApp
) -> None:
    server.expect_request("/old/").respond_with_data("", status=410)
    serve(server, "/new/", "ghost.xml")
    gone = make_app(source_config(server, "blog", "/old/"))
    assert pull_source(gone.engine, gone.settings, "blog", clock=gone.clock).state == "gone"
    moved = make_app(source_config(server, "blog", "/new/"))
    assert rows(moved)["blog"]["state"] == "new"
    result = pull_source(moved.engine, moved.settings, clock=moved.clock, name="blog")
    assert result.state == "ok" and result.counts["imported"] == 2


def test_force_pulls_a_gone_source(server: HTTPServer, make_app: MakeApp) -> None:
    server.expect_request("/rss/").respond_with_data("", status=410)
    app = make_app(source_config(server, "blog", "/rss/"))
    pull_source(app.engine, app.settings, clock=app.clock, name="blog")
    server.clear()
    serve(server, "/rss/", "ghost.xml")
    assert (
        pull_source(app.engine, app.settings, clock=app.clock, name="blog", force=True).counts[
            "imported"
        ]
        == 2
    )
    assert rows(app)["blog"]["state"] == "ok"
