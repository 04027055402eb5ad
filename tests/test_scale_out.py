"""Scale-out: four `syndicate worker` processes drain one PostgreSQL outbox into an
HTTP batch provider (Postmark's API on loopback); one is killed mid-run. Every row
ends sent once at our end, and what the provider saw twice carries one Message-ID."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from syndicate.core.config import load_settings
from syndicate.core.db import deliveries, open_store
from syndicate.service.context import App
from syndicate.service.status import collect
from tests.support import T0
from tests.support.deliveries import queued_edition
from tests.support.processes import SyndicateProcess
from tests.support.sinks import TOKEN, BatchSink, postmark_config

RECIPIENTS = 3000


def _states(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
            ).all()
        )


@pytest.mark.slow
def test_four_workers_one_killed_every_row_sent_once(
    tmp_path: Path, pg_url: str, httpserver: HTTPServer
) -> None:
    sink = BatchSink()
    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(sink)
    config = postmark_config(tmp_path, pg_url, httpserver, batch_size=50, lease_seconds=10)
    engine = open_store(load_settings(config).database_url)
    queued_edition(engine, RECIPIENTS, now=T0)

    env = {"POSTMARK_SERVER_TOKEN": TOKEN}
    pool = [SyndicateProcess(config, "worker", env=env) for _ in range(4)]
    try:
        deadline = time.monotonic() + 60
        while sink.calls < 8 and time.monotonic() < deadline:  # all sending
            time.sleep(0.05)
        assert sink.calls >= 8, "workers did not start sending"
        pool[0].proc.send_signal(signal.SIGKILL)
        pool[0].proc.wait(10)

        deadline = time.monotonic() + 120  # the killed worker's rows return after the lease
        while _states(engine).get("sent", 0) < RECIPIENTS and time.monotonic() < deadline:
            time.sleep(0.25)
        assert _states(engine) == {"sent": RECIPIENTS}
        with App(load_settings(config)) as app:
            listed = collect(app)["workers"]  # what `syndicate status` shows
        # The three that ran to the end; the killed one too once it had reported (a
        # worker killed before its first report has no row to show).
        assert len(listed) >= 3
        assert sum(w["sent"] for w in listed) >= RECIPIENTS - 50  # the killed one's last batch
        assert all(w["per_second"] > 0 for w in listed if w["sent"])
    finally:
        codes = [process.stop() for process in pool[1:]]
        pool[0].stop()
        engine.dispose()
    assert codes == [0, 0, 0]

    per_recipient = Counter(to for to, _ in sink.seen)
    assert len(per_recipient) == RECIPIENTS  # every reader reached
    ids_by_recipient: dict[str, set[str]] = {}
    for to, message_id in sink.seen:
        ids_by_recipient.setdefault(to, set()).add(message_id)
    assert all(len(ids) == 1 and next(iter(ids)) for ids in ids_by_recipient.values())
    duplicates = sum(count - 1 for count in per_recipient.values())
    assert duplicates <= 50  # at most the killed worker's one batch in flight
