"""Outbox scale: enqueueing, several workers, and memory of a large send.

    .venv/bin/python benchmarks/bench_outbox.py [--enqueue 100000] [--send 20000]

Every figure is measured beside its reference in the same run:

  enqueue       outbox.enqueue of one edition for N subscribers (SQLite, and PostgreSQL
                when SYNDICATE_TEST_DATABASE_URL is set) vs one bare INSERT ... SELECT of
                the same rows. Goal: <= 2x.
  workers       HTTP batch delivery end to end (claim, personalise, send, record): 4
                `syndicate worker` processes vs 1 draining the same edition on PostgreSQL
                into a loopback Postmark-shaped batch endpoint that answers each call
                after 20-50 ms (as a real provider), shipped delivery settings
                (batch_size 100) with no rate limit; median of --runs rounds, 1 and 4
                alternating. Goal: >= 3.5x.
  memory        peak RSS of `syndicate deliver --once` for 10x the recipients vs 1x
                (SQLite, batch endpoint). Goal: within 10%.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from measure import Row, at_least, at_most, print_rows
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from syndicate.core.db import deliveries, editions, open_store, subscribers, subscriptions
from syndicate.core.db import workers as workers_table
from syndicate.delivery.outbox import enqueue

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
ROWS: list[Row] = []

EDITION_HTML = (
    "<html><body><p>Hello @@name@@</p><p>This week's news.</p>"
    '<a href="@@unsubscribe_url@@">Unsubscribe</a> <a href="@@preferences_url@@">Prefs</a>'
    "</body></html>"
)


def populate(engine: Engine, count: int) -> int:
    """``count`` active subscribers of 'weekly' and one composed edition; its id."""
    with engine.begin() as conn:
        for start in range(0, count, 10_000):
            rows = [
                {
                    "email": f"reader{i}@example.com",
                    "email_key": f"reader{i}@example.com",
                    "name": f"Reader {i}",
                    "status": "active",
                    "soft_bounces": 0,
                    "created_at": NOW,
                }
                for i in range(start, min(count, start + 10_000))
            ]
            conn.execute(insert(subscribers), rows)
        conn.execute(
            insert(subscriptions).from_select(
                ["subscriber_id", "digest", "created_at"],
                select(subscribers.c.id, text("'weekly'"), text(":now")).params(now=NOW),
            ),
            {"now": NOW},
        )
        return conn.execute(
            insert(editions)
            .values(
                digest="weekly",
                period="2026-03-02T06:00:00Z",
                period_start=NOW,
                period_end=NOW,
                status="composed",
                subject="Bench weekly",
                html=EDITION_HTML,
                text="Hello @@name@@\nUnsubscribe: @@unsubscribe_url@@\n",
                article_count=1,
                more_count=0,
                html_bytes=len(EDITION_HTML),
                created_at=NOW,
            )
            .returning(editions.c.id)
        ).scalar_one()


def bare_insert_select(engine: Engine, edition_id: int) -> float:
    """The reference: one INSERT ... SELECT of the same columns, nothing else."""
    concat = "'<e' || s.id || '@news.example.org>'"
    sql = text(
        "INSERT INTO deliveries (edition_id, subscriber_id, email, name, status, attempts,"
        " uncertain_attempts, not_before, message_id, created_at)"
        f" SELECT :edition, s.id, s.email, s.name, 'queued', 0, 0, :now, {concat}, :now"
        " FROM subscribers s JOIN subscriptions u ON u.subscriber_id = s.id"
        " WHERE u.digest = 'weekly' AND s.status = 'active'"
    )
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sql, {"edition": edition_id, "now": NOW})
    return time.perf_counter() - started


def bench_enqueue(label: str, url: str, count: int) -> None:
    engine = open_store(url)
    try:
        edition = populate(engine, count)
        reference = bare_insert_select(engine, edition)
        with engine.begin() as conn:
            conn.execute(deliveries.delete())
        started = time.perf_counter()
        with engine.begin() as conn:
            added = enqueue(
                conn, edition_id=edition, digest="weekly", now=NOW, domain="news.example.org"
            )
        measured = time.perf_counter() - started
        assert added == count, (added, count)
        ROWS.append(
            at_most(
                f"enqueue {count:,} deliveries ({label})",
                measured,
                reference,
                2,
                measured=f"outbox.enqueue: wall {measured:.2f} s (one run)",
                reference=f"one bare INSERT ... SELECT of the same rows: wall {reference:.2f} s",
                reason=f"{measured / reference:.2f}x",
            )
        )
    finally:
        engine.dispose()


class Sink(BaseHTTPRequestHandler):
    """Postmark's /email/batch on loopback: accepts everything, counts recipients."""

    received = 0
    lock = threading.Lock()

    latency = random.Random(19)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with Sink.lock:
            delay = Sink.latency.uniform(0.020, 0.050)
        time.sleep(delay)  # a provider's round trip and processing
        messages = json.loads(body)
        with Sink.lock:
            Sink.received += len(messages)
        answer = json.dumps([{"ErrorCode": 0, "Message": "OK", "MessageID": "x"} for _ in messages])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args: object) -> None:
        pass


def syndicate(config: Path, *args: str) -> list[str]:
    """The command line of one ``syndicate`` process on ``config``, quiet."""
    return [
        sys.executable,
        "-m",
        "syndicate",
        "--config",
        str(config),
        "--log-level",
        "error",
        *args,
    ]


def write_config(directory: Path, db_url: str, sink_url: str) -> Path:
    config = directory / "config.toml"
    config.write_text(
        f"""
[site]
title = "Bench News"
url = "https://news.example.org/"

[database]
url = "{db_url}"

[mail]
provider = "postmark"
from = "Bench News <news@news.example.org>"
rate_per_second = 1000000
burst = 1000000

[mail.postmark]
base_url = "{sink_url}"

[schedule]
deliver_every_seconds = 1
""",
        encoding="utf-8",
    )
    return config


def fresh_pg_database(admin_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def drain_with_workers(config: Path, url: str, count: int, workers: int) -> tuple[float, float]:
    """(wall seconds of the drain, CPU seconds of the worker processes, start-up included)"""
    cpu0 = _children_cpu()
    engine = open_store(url)
    with engine.begin() as conn:
        conn.execute(deliveries.delete())
        conn.execute(subscriptions.delete())
        conn.execute(editions.delete())
        conn.execute(subscribers.delete())
    edition = populate(engine, count)
    env = {**os.environ, "POSTMARK_SERVER_TOKEN": "bench"}
    with engine.begin() as conn:
        conn.execute(workers_table.delete())
    procs = [
        subprocess.Popen(syndicate(config, "worker"), env=env, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        deadline = time.monotonic() + 120  # time the drain, not the interpreters starting
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                ready = conn.execute(select(func.count()).select_from(workers_table)).scalar_one()
            if ready >= workers:
                break
            time.sleep(0.1)
        started = time.perf_counter()
        with engine.begin() as conn:
            enqueue(conn, edition_id=edition, digest="weekly", now=datetime.now(UTC), domain="x")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                sent = conn.execute(
                    select(func.count())
                    .select_from(deliveries)
                    .where(deliveries.c.status == "sent")
                ).scalar_one()
            if sent >= count:
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
        engine.dispose()
    return wall, _children_cpu() - cpu0


def bench_workers(base: Path, admin_url: str, count: int, sink_url: str, runs: int) -> None:
    url = fresh_pg_database(admin_url)
    config = write_config(base, url, sink_url)
    walls: dict[int, list[float]] = {1: [], 4: []}
    cpus: dict[int, list[float]] = {1: [], 4: []}
    for number in range(runs):
        for workers in (1, 4) if number % 2 == 0 else (4, 1):
            wall, cpu = drain_with_workers(config, url, count, workers)
            walls[workers].append(wall)
            cpus[workers].append(cpu)
    one, four = statistics.median(walls[1]), statistics.median(walls[4])

    def said(values: list[float]) -> str:
        rates = [count / v for v in values]
        return f"{count / statistics.median(values):,.0f}/s ({min(rates):,.0f}-{max(rates):,.0f})"

    ROWS.append(
        at_least(
            f"HTTP batch delivery, {count:,} recipients, 4 workers on PostgreSQL",
            one,
            four,
            3.5,
            measured=f"4 workers: {said(walls[4])}, wall {four:.1f} s; median of {runs}",
            reference=f"1 worker, same provider (20-50 ms per call): {said(walls[1])}, "
            f"wall {one:.1f} s",
            reason=f"{one / four:.2f}x on {os.cpu_count()} cores at load average "
            f"{os.getloadavg()[0]:.1f}: of one worker's {one:.1f} s, about "
            f"{-(-count // 100) * 0.035:.1f} s is the provider's latency "
            f"({-(-count // 100)} calls); the worker used {statistics.median(cpus[1]):.1f} "
            "CPU s (start-up included) and PostgreSQL the rest, and four workers share "
            "the same two cores",
        )
    )


def peak_rss_of_send(base: Path, count: int, sink_url: str) -> int:
    directory = base / f"mem{count}"
    directory.mkdir()
    url = f"sqlite:///{directory / 'store.db'}"
    config = write_config(directory, url, sink_url)
    engine = open_store(url)
    edition = populate(engine, count)
    with engine.begin() as conn:
        enqueue(conn, edition_id=edition, digest="weekly", now=NOW, domain="x")
    engine.dispose()
    env = {**os.environ, "POSTMARK_SERVER_TOKEN": "bench"}
    proc = subprocess.Popen(
        syndicate(config, "deliver", "--once"),
        env=env,
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, f"deliver exited {proc.returncode}"
    return usage.ru_maxrss  # KiB on Linux


def bench_memory(base: Path, count: int, sink_url: str) -> None:
    small = peak_rss_of_send(base, count // 10, sink_url)
    large = peak_rss_of_send(base, count, sink_url)
    ROWS.append(
        at_most(
            f"peak memory of a {count:,}-recipient send",
            large,
            small,
            1.1,
            measured=f"`syndicate deliver --once`, peak RSS {large / 1024:.0f} MiB (one run)",
            reference=f"a {count // 10:,}-recipient send: {small / 1024:.0f} MiB",
            reason=f"{large / small:.2f}x",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enqueue", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=20_000)
    parser.add_argument("--memory", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    admin_url = os.environ.get("SYNDICATE_TEST_DATABASE_URL")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sink_url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        bench_enqueue("SQLite", f"sqlite:///{base / 'enqueue.db'}", args.enqueue)
        if admin_url:
            bench_enqueue("PostgreSQL", fresh_pg_database(admin_url), args.enqueue)
            bench_workers(base, admin_url, args.send, sink_url, args.runs)
        else:
            ROWS.append(
                Row("PostgreSQL rows", "", "", None, "", None, "set SYNDICATE_TEST_DATABASE_URL")
            )
        bench_memory(base, args.memory, sink_url)
    server.shutdown()
    print_rows(ROWS)


if __name__ == "__main__":
    main()
