"""Serving feeds/: content types, strong ETags, 304s, gzip, WebSub Link headers, containment.

Checked against a real waitress server on loopback, the way feed readers poll.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from flask import Flask
from waitress.server import create_server

from syndicate.service.context import App
from syndicate.web import create_app
from tests.support import T0

FEEDS = """
[[feeds]]
name = "all"
path = "all/"  # a trailing slash: the Link headers come from the feed, not this string
hubs = ["https://hub.example.org/", "https://hub2.example.org/"]
archive = true
"""

ATOM = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
    + (b"<entry><title>An entry</title></entry>" * 40)
    + b"</feed>\n"
)


RSS = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
    b'<atom:link rel="self" href="https://news.example.org/feeds/all/rss.xml"/>'
    b'<atom:link rel="hub" href="https://hub.example.org/"/>'
    b'<atom:link rel="hub" href="https://hub2.example.org/"/>'
    + (b"<item><title>An item</title></item>" * 40)
    + b"</channel></rss>\n"
)


@pytest.fixture
def config_extra() -> str:
    return FEEDS


@pytest.fixture
def feeds(app: App) -> Path:
    root = app.settings.feeds_dir
    for rel, data in {
        "all/atom.xml": ATOM,
        "all/rss.xml": RSS,
        "all/feed.json": b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
        "all/archive/1/atom.xml": ATOM,
        "index.html": b"<!DOCTYPE html><title>feeds</title>" + b"<p>x</p>" * 50,
        "feeds.opml": b"<opml/>",
        "all/.atom.xml.123.tmp": b"half a file",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (T0.timestamp(), T0.timestamp()))
    (root.parent / "secret.txt").write_text("not for the web")
    return root


@contextmanager
def running(wsgi_app: Flask) -> Iterator[str]:
    """Serve a WSGI app with waitress on an ephemeral loopback port; yields its base URL.

    The loop runs in short steps so the server is closed from its own thread.
    """
    server = create_server(wsgi_app, host="127.0.0.1", port=0, threads=2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        server.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=10)


@pytest.fixture
def server(app: App, feeds: Path) -> Iterator[str]:
    with running(create_app(app)) as url:
        yield url


def get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/feeds/all/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/feeds/all/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feeds/all/feed.json", "application/feed+json; charset=utf-8"),
        ("/feeds/", "text/html; charset=utf-8"),
        ("/feeds/feeds.opml", "text/x-opml; charset=utf-8"),
    ],
)
def test_content_types(server: str, path: str, content_type: str) -> None:
    response = get(server + path)
    assert response.status_code == 200 and response.headers["Content-Type"] == content_type


def test_strong_etag_last_modified_and_304(server: str) -> None:
    url = server + "/feeds/all/atom.xml"
    first = get(url, **{"Accept-Encoding": "identity"})
    etag = first.headers["ETag"]
    assert etag == '"' + hashlib.sha256(ATOM).hexdigest() + '"'
    assert first.headers["Last-Modified"] == "Mon, 02 Mar 2026 09:00:00 GMT"
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert first.content == ATOM

    again = get(url, **{"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert again.headers["Vary"] == "Accept-Encoding"

    since = get(url, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    older = get(url, **{"If-Modified-Since": "Sun, 01 Mar 2026 09:00:00 GMT"})
    assert older.status_code == 200
    future = get(url, **{"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
    assert future.status_code == 200  # a date in the future is not trusted
    # If-None-Match wins: a stale tag means 200 even when the date would say 304.
    stale = get(
        url, **{"If-None-Match": '"0000"', "If-Modified-Since": "Tue, 03 Mar 2026 0:0:0 GMT"}
    )
    assert stale.status_code == 200


def test_gzip_with_vary_and_its_own_etag(server: str) -> None:
    url = server + "/feeds/all/atom.xml"
    raw = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=10, stream=True)
    body = raw.raw.read(decode_content=False)
    assert raw.headers["Content-Encoding"] == "gzip" and raw.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == ATOM and len(body) < len(ATOM)
    assert raw.headers["ETag"].endswith('-gzip"')
    again = get(url, **{"Accept-Encoding": "gzip", "If-None-Match": raw.headers["ETag"]})
    assert again.status_code == 304
    refused = get(url, **{"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers and refused.content == ATOM


def test_websub_link_headers(server: str) -> None:
    live = get(server + "/feeds/all/rss.xml").headers["Link"]
    assert '<https://hub.example.org/>; rel="hub"' in live
    assert '<https://hub2.example.org/>; rel="hub"' in live
    assert '<https://news.example.org/feeds/all/rss.xml>; rel="self"' in live
    archived = get(server + "/feeds/all/archive/1/atom.xml")
    assert 'rel="hub"' not in archived.headers["Link"]
    assert archived.headers["Link"] == (
        '<https://news.example.org/feeds/all/archive/1/atom.xml>; rel="self"'
    )
    assert archived.headers["Cache-Control"] == "public, max-age=86400"
    assert "Link" not in get(server + "/feeds/").headers
    assert "Link" not in get(server + "/feeds/feeds.opml").headers


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/../secret.txt",
        "/feeds/%2e%2e/secret.txt",
        "/feeds/all/%2e%2e/%2e%2e/secret.txt",
        "/feeds/all/.atom.xml.123.tmp",
        "/feeds/all",
        "/feeds/nope.xml",
        "/feeds/all/atom.xml%00",
    ],
)
def test_only_files_inside_the_feeds_folder(server: str, path: str) -> None:
    response = requests.get(server + path, timeout=10, allow_redirects=False)
    assert response.status_code in (301, 308, 404)
    assert b"not for the web" not in response.content and b"half a file" not in response.content


def test_head_and_changed_file_gets_a_new_etag(app: App, server: str, feeds: Path) -> None:
    url = server + "/feeds/all/feed.json"
    before = requests.head(url, timeout=10)
    assert before.status_code == 200 and before.content == b""
    (feeds / "all" / "feed.json").write_bytes(b'{"version": "changed", "items": [1]}')
    after = get(url, **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
