"""Feed source benchmark: pulling a 1,000-entry feed (a plain script, not a test).

    .venv/bin/python benchmarks/bench_sources.py [--entries N]

Measures, interleaved with feedparser alone parsing the same bytes (the reference),
against a feed served on 127.0.0.1 (no full-text fetches):
- the first pull into an empty store: fetch, parse, sanitise and store every entry,
- a pull of the same bytes answered 200 (the server ignores the validators): every
  entry is recognised by its hash and nothing is written,
- a pull answered 304 (conditional GET).
The goals are ours (issue #19 names none for sources): a first pull within 3x the
parse, an unchanged one within 1.2x, a 304 nearly free.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.measure import at_most, interleaved, print_rows
from syndicate.core.clock import FixedClock
from syndicate.core.config import load_settings
from syndicate.intake.sources import pull_source
from syndicate.intake.sources.pull import PullResult
from syndicate.service.context import App

CONFIG = """
[site]
title = "Bench News"
url = "https://news.example.org/"

[database]
url = "sqlite:///{db}"

[mail]
from = "Bench <bench@news.example.org>"

[[sources]]
name = "bench"
url = "{url}"
allow_private = true
full_text = "never"
max_bytes = 100000000
"""

START = datetime(2026, 1, 1, tzinfo=UTC)
BODY = (
    "<h2>Section {n}</h2><p>Lorem ipsum dolor sit amet, <a href='/link/{n}'>consectetur</a> "
    "adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. "
    "<img src='/img/{n}.jpg' alt='picture'> “Quotes” — dashes, ünïcödé.</p>"
) * 6


def make_feed(entries: int) -> bytes:
    items = []
    for n in range(entries):
        when = format_datetime(START + timedelta(hours=n), usegmt=True)
        items.append(
            f"<item><title>Entry number {n}</title>"
            f"<link>https://blog.example.org/{n}/</link>"
            f'<guid isPermaLink="false">https://blog.example.org/?p={n}</guid>'
            f"<pubDate>{when}</pubDate><category>cat{n % 7}</category>"
            f"<dc:creator>Author {n % 5}</dc:creator>"
            f"<description>Summary of entry {n}</description>"
            f"<content:encoded><![CDATA[{BODY.format(n=n)}]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Bench</title>'
        "<link>https://blog.example.org/</link>" + "".join(reversed(items)) + "</channel></rss>"
    ).encode("utf-8")


def serve(body: bytes, honour_etag: list[bool]) -> ThreadingHTTPServer:
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if honour_etag[0] and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Store:
    """A fresh store for each first pull; one kept full for the unchanged pulls."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder, self.url, self.count = folder, url, 0
        self.app = self.fresh()

    def fresh(self) -> App:
        self.count += 1
        place = self.folder / str(self.count)
        place.mkdir()
        config = place / "config.toml"
        config.write_text(CONFIG.format(db=place / "bench.db", url=self.url), encoding="utf-8")
        app = App(load_settings(config), clock=FixedClock(datetime(2026, 6, 1, tzinfo=UTC)))
        app.engine  # noqa: B018 - migrate outside the timings
        return app

    def pull(self, app: App) -> PullResult:
        return pull_source(app.engine, app.settings, "bench", clock=app.clock)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    body = make_feed(args.entries)
    honour_etag = [False]
    server = serve(body, honour_etag)
    url = f"http://127.0.0.1:{server.server_address[1]}/feed/"
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder), url)
        full = store.fresh()
        assert store.pull(full).counts["imported"] == args.entries
        first_app: list[App] = []

        def before(name: str) -> None:
            if name == "first":
                first_app[:] = [store.fresh()]

        def first() -> None:
            result = store.pull(first_app[0])
            assert result.counts["imported"] == args.entries, result.detail

        def unchanged() -> None:
            result = store.pull(full)
            assert result.counts["unchanged"] == args.entries, result.detail

        def parse_alone() -> None:
            assert len(feedparser.parse(io.BytesIO(body)).entries) == args.entries

        runs = interleaved(
            {"feedparser": parse_alone, "first": first, "unchanged": unchanged},
            args.runs,
            before=before,
        )
        honour_etag[0] = True
        store.pull(full)  # learns the validators
        not_modified = interleaved({"304": lambda: store.pull(full)}, args.runs)["304"]
    server.shutdown()
    reference = runs["feedparser"]
    described = f"feedparser alone, same bytes: {reference.describe()}"
    print(f"{args.entries} entries, {len(body):,} bytes of RSS, served on loopback")
    rows = [
        at_most(
            f"first pull of {args.entries:,} entries (fetch, parse, sanitise, store)",
            runs["first"].cpu_median,
            reference.cpu_median,
            3.0,
            measured=runs["first"].describe(),
            reference=described,
            reason="sanitising and storing cost more than twice the parse",
        ),
        at_most(
            "second pull, same bytes answered 200 (nothing to store)",
            runs["unchanged"].cpu_median,
            reference.cpu_median,
            1.2,
            measured=runs["unchanged"].describe(),
            reference=described,
            reason="the unchanged pull costs more than the parse plus hashing",
        ),
        at_most(
            "third pull, answered 304 Not Modified",
            not_modified.cpu_median,
            reference.cpu_median,
            0.05,
            measured=not_modified.describe(),
            reference=described,
            reason="a 304 should cost one request",
        ),
    ]
    print_rows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
