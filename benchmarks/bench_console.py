"""The console's pages on a large store: 100,000 subscribers, 1,000,000 delivery rows.

    .venv/bin/python benchmarks/bench_console.py [--subscribers 100000] [--editions 10]
        [--database-url postgresql+psycopg://USER:PASSWORD@HOST/EMPTY_DATABASE]

Each page is requested twice over, logged in as a viewer: through the Flask app in
process (test client: the app's own time) and over HTTP on loopback from the server
``syndicate run`` uses (``web.server.serve_app``, waitress; a kept-alive connection:
what an operator's browser waits for). Rounds interleave every page and /healthz, so
a busy moment of the machine hits them alike; each page's median is compared with the
same transport's /healthz median from the same rounds.
Goals (issue 21): each dashboard and list page within 10x /healthz and under 150 ms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update

from syndicate.core.clock import FixedClock
from syndicate.core.config import load_settings
from syndicate.core.db import editions, subscribers, transaction
from syndicate.readers import growth
from syndicate.service.context import App
from syndicate.service.jobs import housekeeping
from syndicate.web import create_app
from syndicate.web.console import operators as ops
from syndicate.web.console import sessions
from syndicate.web.server import serve_app

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
# A digest as big as real ones (tens of kilobytes): a page that loads it for a list shows.
EDITION_HTML = "<html><body>" + "<p>A paragraph of this week's news.</p>" * 1_500 + "</body></html>"
STATUSES = ("active",) * 14 + ("pending", "unsubscribed", "bounced", "complained")
CONFIG = """
[site]
title = "Bench News"
url = "https://news.example.org/"
[database]
url = "{db}"
[mail]
provider = "maildir"
from = "Bench <news@news.example.org>"
[[digests]]
name = "weekly"
title = "Bench weekly"
schedule = "0 8 * * MON"
"""


def populate(app: App, count: int, edition_count: int) -> None:
    """Subscribers joined over a year in every state; weekly editions to all of them."""
    with transaction(app.engine) as conn:
        for start in range(0, count, 20_000):
            rows = []
            for i in range(start, min(count, start + 20_000)):
                created = NOW - timedelta(minutes=(count - i) * 525_600 // count)
                status = STATUSES[i % len(STATUSES)]
                rows.append(
                    {
                        "email": f"reader{i}@example.com",
                        "email_key": f"reader{i}@example.com",
                        "name": f"Reader {i}",
                        # Those who leave do so after the editions reached them (below).
                        "status": "pending" if status == "pending" else "active",
                        "soft_bounces": 0,
                        "created_at": created,
                        "confirmed_at": None if status == "pending" else created,
                        "status_changed_at": created,
                    }
                )
            conn.execute(insert(subscribers), rows)
        conn.execute(
            text(
                "INSERT INTO subscriptions (subscriber_id, digest, created_at)"
                " SELECT id, 'weekly', created_at FROM subscribers"
            )
        )
        for n in range(edition_count):
            when = NOW - timedelta(weeks=edition_count - 1 - n)
            edition_id: int = conn.execute(
                insert(editions)
                .values(
                    digest="weekly",
                    period=when.isoformat(),
                    period_start=when,
                    period_end=when,
                    status="composed",
                    subject=f"Bench weekly {n}",
                    html=EDITION_HTML,
                    text=EDITION_HTML[:20_000],
                    article_count=1,
                    more_count=0,
                    html_bytes=len(EDITION_HTML),
                    created_at=when,
                )
                .returning(editions.c.id)
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO deliveries (edition_id, subscriber_id, email, name, status,"
                    " attempts, uncertain_attempts, not_before, message_id, created_at, sent_at)"
                    " SELECT :e, id, email, name,"
                    " CASE WHEN id % 50 = 0 THEN 'failed' ELSE 'sent' END, 1, 0, :t,"
                    " '<e' || :e || '.' || id || '@x>', :t, :t FROM subscribers"
                ),
                {"e": edition_id, "t": when.replace(tzinfo=None)},
            )
        # Readers leave up to 90 days after joining, after the editions that reached
        # them, each change one UPDATE as the store's reach trigger sees it in real use.
        people = conn.execute(
            select(subscribers.c.id, subscribers.c.created_at).order_by(subscribers.c.id)
        ).all()
        changes = [
            {
                "sid": person.id,
                "state": STATUSES[i % len(STATUSES)],
                "at": min(person.created_at + timedelta(days=i % 90), NOW),
            }
            for i, person in enumerate(people)
            if STATUSES[i % len(STATUSES)] not in ("active", "pending")
        ]
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == bindparam("sid"))
            .values(status=bindparam("state"), status_changed_at=bindparam("at")),
            changes,
        )


HOST = "news.example.org"
COOKIE = "__Host-syndicate-admin"


class InProcess:
    name = "in-process"

    def __init__(self, flask: Any, cookie: str) -> None:
        self.client = flask.test_client()
        self.client.set_cookie(COOKIE, cookie, domain=HOST)

    def get(self, path: str) -> int:
        return int(self.client.get(path, base_url=f"https://{HOST}").status_code)


class OverHttp:
    """One kept-alive connection to the served app, as a browser holds one."""

    name = "HTTP"

    def __init__(self, port: int, cookie: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Host": HOST, "Cookie": f"{COOKIE}={cookie}"}

    def get(self, path: str) -> int:
        self.connection.request("GET", path, headers=self.headers)
        answer = self.connection.getresponse()
        answer.read()
        return answer.status


def timed_call(function: Any, *args: Any) -> float:
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def timed(client: InProcess | OverHttp, path: str) -> float:
    started = time.perf_counter()
    status = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert status == 200, (client.name, path, status)
    return elapsed


def measure(clients: list[InProcess | OverHttp], middle: int, runs: int) -> None:
    pages = [
        ("/healthz (reference)", "/healthz"),
        ("dashboard", "/admin/"),
        ("subscribers, first page", "/admin/subscribers"),
        ("subscribers, a later page", f"/admin/subscribers?after={middle}"),
        ("subscribers, search", "/admin/subscribers?q=reader4242"),
        ("subscribers, bounced", "/admin/subscribers?status=bounced"),
        ("one subscriber", f"/admin/subscribers/{middle}"),
        ("editions", "/admin/editions"),
        ("articles", "/admin/articles"),
        ("feeds", "/admin/feeds"),
        ("jobs", "/admin/jobs"),
        ("audit log", "/admin/audit"),
    ]
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(2):  # warm up caches and connections
        for client in clients:
            for _, path in pages:
                timed(client, path)
    for _ in range(runs):  # interleaved: each round times every page on each transport
        for _, path in pages:
            for client in clients:
                times.setdefault((client.name, path), []).append(timed(client, path))
    median = {key: statistics.median(values) for key, values in times.items()}
    names = [client.name for client in clients]
    header = "".join(f"{name + ' ms':>14}{'x healthz':>10}" for name in names)
    print(f"{'page (median of ' + str(runs) + ')':28}{header}  goal (<= 10x and < 150 ms)")
    missed = []
    for label, path in pages:
        cells, verdicts = "", []
        for name in names:
            ms, ratio = median[(name, path)], median[(name, path)] / median[(name, "/healthz")]
            cells += f"{ms:14.1f}{ratio:10.1f}"
            if path != "/healthz":
                met = ratio <= 10 and ms < 150
                verdicts.append(f"{name} {'met' if met else 'MISSED'}")
                if not met:
                    missed.append(f"{label} ({name})")
        print(f"{label:28}{cells}  {', '.join(verdicts)}")
    print("MISSED: " + "; ".join(missed) if missed else "every goal met")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--editions", type=int, default=10)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database instead of a new SQLite file"
    )
    args = parser.parse_args()
    os.environ.setdefault("SYNDICATE_SECRET", "b" * 32)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(CONFIG.format(db=args.database_url or f"sqlite:///{tmp}/store.db"))
        with App(load_settings(config), clock=FixedClock(NOW)) as app:
            started = time.perf_counter()
            populate(app, args.subscribers, args.editions)
            with app.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
                rows: int = conn.execute(text("SELECT count(*) FROM deliveries")).scalar_one()
                middle: int = conn.execute(
                    select(subscribers.c.id).where(subscribers.c.email == "reader5000@example.com")
                ).scalar_one()
            print(f"{args.subscribers:,} subscribers, {rows:,} delivery rows "
                  f"(built in {time.perf_counter() - started:.0f} s)")  # fmt: skip
            # The dashboard's past days come from what housekeeping keeps each night;
            # first the cost of working all 30 out (a view before housekeeping ran).
            with app.engine.connect() as conn:
                worked_out = [timed_call(growth.subscribers_over_time, conn, NOW) for _ in range(7)]
            print(f"the 30 days' subscriber counts worked out from the rows: "
                  f"{statistics.median(worked_out):.1f} ms (median of 7); then housekeeping "
                  f"keeps {housekeeping(app)['subscriber_days_kept']} days")  # fmt: skip
            with transaction(app.engine) as conn:
                viewer, _ = ops.add(conn, "v@example.org", role="viewer", now=NOW,
                                    password="bench password 123")  # fmt: skip
                cookie = sessions.create(conn, viewer.id, NOW)
            served = serve_app(app, "127.0.0.1", 0)
            threading.Thread(target=served.run, daemon=True).start()
            try:
                measure(
                    [InProcess(create_app(app), cookie), OverHttp(served.effective_port, cookie)],
                    middle,
                    args.runs,
                )
            finally:
                served.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
