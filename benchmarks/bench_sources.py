"""Feed source benchmark: pulling a 1,000-entry feed (a plain script, not a test).

    .venv/bin/python benchmarks/bench_sources.py [--entries N]

Measures, in one run, against a feed served on 127.0.0.1 (no full-text fetches):
- feedparser alone parsing the same bytes (the reference),
- the first pull: fetch, parse, sanitise and store every entry (one transaction each),
- a second pull of the same bytes (the server ignores the validators): every entry is
  recognised by its hash and nothing is written,
- a third pull answered 304 (conditional GET).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syndicate.core.clock import FixedClock
from syndicate.core.config import load_settings
from syndicate.intake.sources import pull_source
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


def timed(work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1000)
    args = parser.parse_args()
    body = make_feed(args.entries)
    honour_etag = [False]
    server = serve(body, honour_etag)
    url = f"http://127.0.0.1:{server.server_address[1]}/feed/"
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.toml"
        config.write_text(CONFIG.format(db=Path(folder) / "bench.db", url=url), encoding="utf-8")
        app = App(load_settings(config), clock=FixedClock(datetime(2026, 6, 1, tzinfo=UTC)))
        app.engine  # noqa: B018 - migrate outside the timings
        reference, parsed = timed(lambda: feedparser.parse(io.BytesIO(body)))
        first, result_first = timed(
            lambda: pull_source(app.engine, app.settings, "bench", clock=app.clock)
        )
        second, result_second = timed(
            lambda: pull_source(app.engine, app.settings, "bench", clock=app.clock)
        )
        honour_etag[0] = True
        third, result_third = timed(
            lambda: pull_source(app.engine, app.settings, "bench", clock=app.clock)
        )
        app.close()
    server.shutdown()
    assert len(parsed.entries) == args.entries
    assert result_first.counts["imported"] == args.entries, result_first.detail
    assert result_second.counts["unchanged"] == args.entries, result_second.detail
    assert result_third.state == "unchanged", result_third.detail
    print(f"{args.entries} entries, {len(body):,} bytes of RSS")
    print(f"{'case':<44}{'seconds':>9}{'entries/s':>11}")
    rows = [
        ("feedparser alone (same bytes)", reference),
        ("first pull (fetch, parse, sanitise, store)", first),
        ("second pull, nothing changed (200)", second),
        ("third pull, 304 Not Modified", third),
    ]
    for label, seconds in rows:
        print(f"{label:<44}{seconds:>9.3f}{args.entries / seconds:>11,.0f}")
    print(f"first pull / feedparser alone: {first / reference:.2f}x")
    print(f"unchanged pull / feedparser alone: {second / reference:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
