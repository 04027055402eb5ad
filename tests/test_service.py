"""``syndicate run`` as a real process: signals, config reload, one leader per database."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from syndicate.core.config import load_settings
from syndicate.core.db import deliveries, open_store
from tests.support import T0, write_config
from tests.support.deliveries import queued_edition
from tests.support.processes import SyndicateProcess
from tests.support.sinks import TOKEN, BatchSink, postmark_config

SERVICE = """
[[feeds]]
name = "all"
path = "all"

[schedule]
leader_lease_seconds = 5
deliver_every_seconds = 1
"""


@pytest.fixture
def service_config(tmp_path: Path, store_url: str) -> Path:
    return write_config(tmp_path, store_url, SERVICE)


def test_sigterm_stops_the_service_cleanly(service_config: Path) -> None:
    service = SyndicateProcess(service_config, "run")
    try:
        service.wait_for("became the scheduler leader")
        service.wait_for(r"web app on http://127\.0\.0\.1:\d+/")
    finally:
        code = service.stop()
    assert code == 0
    assert any("stopped" in line for line in service.lines)
    assert not any("Traceback" in line for line in service.lines), "\n".join(service.lines)


def test_sighup_reloads_a_good_config_and_keeps_the_old_one_on_a_bad_one(
    service_config: Path,
) -> None:
    good = service_config.read_text(encoding="utf-8")
    service = SyndicateProcess(service_config, "run")
    try:
        service.wait_for("became the scheduler leader")
        service_config.write_text(good.replace('name = "all"', 'nmae = "all"'), encoding="utf-8")
        mark = len(service.lines)
        service.signal(signal.SIGHUP)
        line = service.wait_for("config not reloaded", start=mark)
        assert "feeds[0].nmae: unknown key" in line
        assert service.proc.poll() is None  # still running on the old config

        service_config.write_text(good.replace("*/15 * * * *", "*/5 * * * *"), encoding="utf-8")
        mark = len(service.lines)
        service.signal(signal.SIGHUP)
        service.wait_for("config reloaded from", start=mark)
    finally:
        assert service.stop() == 0


def test_a_second_service_stands_by_and_takes_over_when_the_leader_dies(
    tmp_path: Path, pg_url: str
) -> None:
    config = write_config(tmp_path, pg_url, SERVICE)
    first = SyndicateProcess(config, "run")
    second = None
    try:
        first.wait_for("became the scheduler leader")
        second = SyndicateProcess(config, "run")
        second.wait_for(r"web app on http://")
        with pytest.raises(AssertionError):
            second.wait_for("became the scheduler leader", timeout=4)
        first.kill()  # SIGKILL: no goodbye, the lock must free itself
        second.wait_for("became the scheduler leader", timeout=20)
    finally:
        first.stop()
        if second is not None:
            assert second.stop() == 0


def test_sigterm_during_a_batch_loses_nothing_and_exits_zero(
    tmp_path: Path, store_url: str, httpserver: HTTPServer
) -> None:
    sink = BatchSink(delay=0.3)  # each provider call takes a while: the signal lands mid-batch
    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(sink)
    config = postmark_config(tmp_path, store_url, httpserver, batch_size=20, lease_seconds=600)
    engine = open_store(load_settings(config).database_url)
    try:
        queued_edition(engine, 200, now=T0)
        env = {"POSTMARK_SERVER_TOKEN": TOKEN}
        worker = SyndicateProcess(config, "worker", env=env)
        deadline = time.monotonic() + 60
        while not (sink.calls >= 1 and sink.in_flight) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sink.in_flight, "the signal must land while a batch is at the provider"
        assert worker.stop(timeout=40) == 0
        with engine.connect() as conn:
            states = dict(
                conn.execute(
                    select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
                ).all()
            )
        assert "sending" not in states  # finished or released: nothing waits for a lease
        assert states.get("sent", 0) == len(sink.seen) and states.get("sent", 0) >= 20
        # The rest goes out on the next start, once each.
        again = SyndicateProcess(config, "deliver", "--once", env=env)
        assert again.proc.wait(120) == 0
        with engine.connect() as conn:
            assert (
                conn.execute(
                    select(func.count())
                    .select_from(deliveries)
                    .where(deliveries.c.status != "sent")
                ).scalar_one()
                == 0
            )
        assert len(sink.seen) == 200 == len({to for to, _ in sink.seen})
    finally:
        engine.dispose()
