"""Kill a delivery worker with SIGKILL at random moments; nothing is lost, little is doubled.

A `syndicate deliver` subprocess drains an edition of a few thousand recipients to a
real SMTP server (aiosmtpd, in this process) and is killed again and again, then
restarted each time under the same worker id. At the end every recipient was
accepted, every recipient seen twice got the same Message-ID both times, and there
is at most one duplicate per kill (the one message in flight).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from syndicate.core.config import load_settings
from syndicate.core.db import deliveries, open_store
from tests.support import REPO, T0, free_port, write_config
from tests.support.deliveries import SmtpSink, queued_edition

RECIPIENTS = 4000
MAX_KILLS = 25
TIME_BUDGET = 40.0  # seconds of killing before the last, uninterrupted run
MESSAGE_ID = re.compile(rb"^Message-ID: (.+?)\r?$", re.MULTILINE)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path, store_url: str) -> None:
    handler = SmtpSink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        extra = (
            f"[mail.smtp]\nhost = '127.0.0.1'\nport = {port}\nsecurity = 'none'\n"
            "[delivery]\nbatch_size = 50\nlease_seconds = 10\n"
        )
        config = write_config(tmp_path, store_url, extra)
        text = config.read_text().replace('provider = "maildir"', 'provider = "smtp"')
        text = text.replace(
            'maildir = "outbox"', 'maildir = "outbox"\nrate_per_second = 1000000\nburst = 100000'
        )
        config.write_text(text)
        settings = load_settings(config)
        engine = open_store(settings.database_url)
        queued_edition(engine, RECIPIENTS, now=T0)

        command = [
            sys.executable,
            "-m",
            "syndicate",
            "--config",
            str(config),
            "--log-level",
            "error",
            "deliver",
            "--once",
            "--worker-id",
            "crash-test",
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        rng = random.Random(7)
        kills = 0
        started = time.monotonic()
        while kills < MAX_KILLS and time.monotonic() - started < TIME_BUDGET:
            worker = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            # Kill while it sends: wait for its first message (bounded), then a moment more.
            already = len(handler.messages)
            deadline = time.monotonic() + 30
            while (
                len(handler.messages) == already
                and worker.poll() is None
                and time.monotonic() < deadline
            ):
                time.sleep(0.01)
            try:
                worker.wait(timeout=rng.uniform(0.0, 0.25))
            except subprocess.TimeoutExpired:
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                kills += 1
                continue
            assert worker.returncode == 0, worker.stderr.read().decode() if worker.stderr else ""
            break  # it finished on its own before being killed
        before_final = len(handler.messages)
        final = subprocess.run(command, env=env, capture_output=True, timeout=120)
        assert final.returncode == 0, final.stderr.decode()
    finally:
        controller.stop()

    seen: dict[str, list[bytes]] = defaultdict(list)
    for rcpt, raw in handler.messages:
        match = MESSAGE_ID.search(raw)
        assert match, "a message without Message-ID"
        seen[rcpt].append(match[1])
    expected = {f"reader{i}@example.com" for i in range(RECIPIENTS)}
    assert set(seen) == expected, f"missing: {sorted(expected - set(seen))[:5]}"
    duplicates = sum(len(ids) - 1 for ids in seen.values())
    for rcpt, ids in seen.items():
        assert len(set(ids)) == 1, f"{rcpt} got different Message-IDs: {ids}"
    assert kills >= 3, "the worker was not killed often enough to test anything"
    assert duplicates <= kills, f"{duplicates} duplicates for {kills} kills"
    with engine.connect() as conn:
        states = dict(
            conn.execute(
                select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
            ).all()
        )
    engine.dispose()
    assert states == {"sent": RECIPIENTS}
    print(f"\n{kills} kills, {duplicates} duplicates, {before_final} before the last run")
