"""Fault suite: SIGKILL at random points of every job that writes, plus provider faults.

A real `syndicate run --once` (feed build, publish to a directory host, digest
compose and queue, one drain) and a real `syndicate deliver --once` are killed with
SIGKILL at random moments, again and again, while a Postmark-speaking loopback
server (pytest-httpserver, threaded) answers some calls with 503, some with 500,
and accepts some batches but answers only after the client's timeout. A new article
arrives before each run, so every run has files to write and push. Then the faults
stop, one clean run finishes the work, and the suite prints what a reader would
count: lost (a subscriber who never got the edition), duplicated by us (a second
copy the provider accepted), left behind (temp files on the host or in the feeds
folder, rows not sent, claims still running). All must be zero.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from syndicate.core.db import deliveries, editions, job_runs, open_store
from syndicate.core.fileio import is_temp_name
from syndicate.core.schedules import latest_fire_time
from syndicate.publishing.publish import scan
from tests.support import REPO, write_config
from tests.support.deliveries import add_subscribers
from tests.support.digests import add_dated_article

TOKEN = "pm-fault-token"
SUBSCRIBERS = 2000
DIGEST_KILLS = 3
DELIVER_KILLS = 8
FEED_KILLS = 3
RUN_KILLS = 3
SEED = int(os.environ.get("SYNDICATE_FAULT_SEED", "1405"))


class FaultyPostmark:
    """Postmark's batch and search endpoints, with faults on cue from a seeded RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lock = threading.Lock()
        self.faults = True
        self.accepted: list[tuple[str, dict[str, str]]] = []  # (recipient, Metadata)
        self.injected: Counter[str] = Counter()
        self.calls = 0

    def batch(self, request: Request) -> Response:
        if request.headers.get("X-Postmark-Server-Token") != TOKEN:
            return Response('{"ErrorCode": 10}', status=401)
        messages = json.loads(request.get_data())
        with self.lock:
            roll = self.rng.random() if self.faults else 1.0
            self.calls += 1
        if roll < 0.1:
            self.injected["503 busy"] += 1
            return Response('{"ErrorCode": 0, "Message": "busy"}', status=503)
        if roll < 0.2:
            self.injected["500 (not accepted)"] += 1
            return Response('{"ErrorCode": 0, "Message": "oops"}', status=500)
        answer = []
        with self.lock:
            for n, message in enumerate(messages):
                to = parseaddr(message["To"])[1]
                self.accepted.append((to, message["Metadata"]))
                answer.append({"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{n}"})
        if roll < 0.3:
            self.injected["accepted, answered after the timeout"] += 1
            time.sleep(1.0)
        return Response(json.dumps(answer), mimetype="application/json")

    def search(self, request: Request) -> Response:
        recipient = request.args["recipient"]
        with self.lock:
            found = [
                {"MessageID": f"pm-{n}", "Metadata": metadata}
                for n, (to, metadata) in enumerate(self.accepted)
                if to == recipient
            ]
        return Response(json.dumps({"TotalCount": len(found), "Messages": found}))


def _config(tmp_path: Path, server: HTTPServer) -> Path:
    extra = f"""
[[feeds]]
name = "all"
path = "all"

[[hosts]]
name = "site"
type = "directory"
path = "{tmp_path / "public"}"
retries = 0

[[digests]]
name = "daily"
title = "Daily"
feed = "all"
schedule = "0 0 * * *"
timezone = "UTC"
lookback = "3d"

[delivery]
batch_size = 50
lease_seconds = 10
max_attempts = 100
backoff_base_seconds = 0.2
backoff_max_seconds = 1.0
breaker_failures = 1000
breaker_pause_seconds = 0.1

[schedule]
job_lease_seconds = 2
"""
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", extra)
    text = config.read_text().replace('provider = "maildir"', 'provider = "postmark"')
    text = text.replace(
        'maildir = "outbox"',
        'maildir = "outbox"\nrate_per_second = 100000\nburst = 100000\n\n'
        f'[mail.postmark]\nbase_url = "{server.url_for("/").rstrip("/")}"\ntimeout = 0.4',
    )
    config.write_text(text)
    return config


def _kill_at_random(
    command: list[str],
    env: dict[str, str],
    rng: random.Random,
    *,
    ready: Callable[[], bool] | None = None,
) -> None:
    """Start ``command`` and SIGKILL it at a random moment: after a random delay, or
    (with ``ready``) a random moment after it started the work of interest."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        if ready is not None:
            deadline = time.monotonic() + 20
            while not ready() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            process.wait(rng.uniform(0.0, 1.5))
        else:
            process.wait(rng.uniform(0.8, 5.0))
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(10)


def _left_behind_files(*roots: Path) -> list[str]:
    return [
        str(path)
        for root in roots
        if root.exists()
        for path in root.rglob("*")
        if path.is_file() and is_temp_name(path.name)
    ]


@pytest.mark.slow
def test_sigkill_and_provider_faults_lose_nothing_duplicate_nothing_leave_nothing(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    fake = FaultyPostmark(random.Random(SEED + 1))
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request("/email/batch", method="POST").respond_with_handler(fake.batch)
    server.expect_request("/messages/outbound", method="GET").respond_with_handler(fake.search)
    server.start()
    engine = None
    try:
        config = _config(tmp_path, server)
        engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
        store = SimpleNamespace(engine=engine)
        slot = latest_fire_time("0 0 * * *", ZoneInfo("UTC"), datetime.now(UTC))
        assert slot is not None
        add_subscribers(engine, SUBSCRIBERS, now=slot, digest="daily")
        for n in range(40):
            add_dated_article(store, f"Before the slot {n}", slot - timedelta(hours=1, minutes=n))  # type: ignore[arg-type]
        base = [sys.executable, "-m", "syndicate", "--config", str(config), "--log-level", "error"]
        env = {**os.environ, "PYTHONPATH": str(REPO), "POSTMARK_SERVER_TOKEN": TOKEN}
        started = time.monotonic()

        for _ in range(DIGEST_KILLS):  # compose and queue
            _kill_at_random([*base, "digest", "send", "daily"], env, rng)
        subprocess.run([*base, "digest", "send", "daily"], env=env, check=True)
        for _ in range(DELIVER_KILLS):  # deliver, under one worker id, with provider faults
            calls = fake.calls
            _kill_at_random(
                [*base, "deliver", "--once", "--worker-id", "faulty"],
                env,
                rng,
                ready=lambda calls=calls: fake.calls > calls,  # type: ignore[misc]
            )
        for n in range(FEED_KILLS):  # build, then publish to the directory host
            add_dated_article(store, f"Arriving {n}", datetime.now(UTC) - timedelta(minutes=1))  # type: ignore[arg-type]
            _kill_at_random([*base, "feeds", "build"], env, rng)
            _kill_at_random([*base, "feeds", "publish"], env, rng)
        for n in range(RUN_KILLS):  # every job of the service in one process, with claims
            add_dated_article(store, f"Later {n}", datetime.now(UTC) - timedelta(minutes=1))  # type: ignore[arg-type]
            _kill_at_random([*base, "run", "--once"], env, rng)

        # The faults stop; leases of the killed processes run out; one clean pass.
        fake.faults = False
        time.sleep(10.5)  # delivery.lease_seconds of a killed `run --once`'s worker
        clean = subprocess.run([*base, "run", "--once"], env=env, capture_output=True, text=True)
        assert "Traceback" not in clean.stderr, clean.stderr
        for _ in range(5):
            with engine.connect() as conn:
                waiting = conn.execute(
                    select(func.count())
                    .select_from(deliveries)
                    .where(deliveries.c.status != "sent")
                ).scalar_one()
            if not waiting:
                break
            time.sleep(1.1)  # the longest backoff
            subprocess.run([*base, "deliver", "--once"], env=env, capture_output=True, check=False)
        elapsed = time.monotonic() - started

        with engine.connect() as conn:
            edition_count = conn.execute(
                select(func.count()).select_from(editions).where(editions.c.digest == "daily")
            ).scalar_one()
            states = dict(
                conn.execute(
                    select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
                ).all()
            )
            queued_for = conn.execute(
                select(func.count(deliveries.c.subscriber_id.distinct()))
            ).scalar_one()
            running = conn.execute(
                select(func.count()).select_from(job_runs).where(job_runs.c.status == "running")
            ).scalar_one()
        copies = Counter(to for to, _ in fake.accepted)
        everyone = {f"reader{i}@example.com" for i in range(SUBSCRIBERS)}
        lost = len(everyone - set(copies))
        duplicated = sum(count - 1 for count in copies.values())
        temp_files = _left_behind_files(tmp_path / "public", tmp_path / "feeds")
        unsent = sum(count for state, count in states.items() if state != "sent")
        feeds = scan(tmp_path / "feeds")
        published = scan(tmp_path / "public")
        mismatched = sorted(set(feeds) ^ set(published)) + [
            path for path in feeds if path in published and feeds[path] != published[path]
        ]
        print(
            f"\nfault suite (seed {SEED}, {elapsed:.0f}s): SIGKILL of `digest send` x{DIGEST_KILLS}, "
            f"`deliver --once` x{DELIVER_KILLS}, `feeds build` and `feeds publish` x{FEED_KILLS}, "
            f"`run --once` x{RUN_KILLS}; {fake.calls} provider calls, faults: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(fake.injected.items()))
            + f"\n  lost: {lost}  duplicated by us: {duplicated}  left behind: "
            f"{len(temp_files)} temp file(s), {unsent} unsent row(s), {running} running claim(s)"
            f"\n  editions: {edition_count}, rows: {sum(states.values())} for {queued_for} "
            f"subscribers; host files differing from the build: {len(mismatched)}"
        )
        assert edition_count == 1
        assert sum(states.values()) == queued_for == SUBSCRIBERS
        assert (lost, duplicated, unsent, running) == (0, 0, 0, 0)
        assert temp_files == []
        assert mismatched == []
    finally:
        if engine is not None:
            engine.dispose()
        server.clear()
        if server.is_running():
            server.stop()
