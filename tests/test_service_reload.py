"""SIGHUP on a real ``syndicate run``: the delivery drain restarts with the new settings.

Before the fix the drain kept the settings it started with, so a changed
``mail.rate_per_second`` (or concurrency, or lease) never took effect until a restart.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select

from syndicate.core.config import load_settings
from syndicate.core.db import deliveries, open_store
from tests.support import T0, free_port, write_config
from tests.support.deliveries import SmtpSink, queued_edition
from tests.support.processes import SyndicateProcess

MESSAGES = 13
NEW_RATE = 4  # messages per second after the reload, burst 1


class TimedSink(SmtpSink):
    """The SMTP sink, noting when each message was accepted (a monotonic clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted_at: list[float] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        with self.changed:
            self.accepted_at.append(time.monotonic())
            self.changed.notify_all()
        return reply

    def wait_for(self, count: int, timeout: float) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.accepted_at) >= count, timeout), (
                f"only {len(self.accepted_at)} of {count} messages arrived"
            )


def write(
    tmp_path: Path, store_url: str, port: int, *, rate: int, burst: int, concurrency: int
) -> Path:
    """config.toml: SMTP to the sink with the given [mail] limits; the lease grows with
    the concurrency, so a reload of each setting shows in the drain's log line."""
    extra = (
        '[[feeds]]\nname = "all"\npath = "all"\n\n'
        "[schedule]\nleader_lease_seconds = 5\ndeliver_every_seconds = 1\n\n"
        f"[mail.smtp]\nhost = '127.0.0.1'\nport = {port}\nsecurity = 'none'\n\n"
        f"[delivery]\nlease_seconds = {30 * concurrency}\n"
    )
    limits = f"rate_per_second = {rate}\nburst = {burst}\nconcurrency = {concurrency}\n"
    config = write_config(tmp_path, store_url, extra)
    text = config.read_text(encoding="utf-8").replace('provider = "maildir"', 'provider = "smtp"')
    config.write_text(text.replace('maildir = "outbox"\n', 'maildir = "outbox"\n' + limits))
    return config


def sent_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(deliveries).where(deliveries.c.status == "sent")
        ).scalar_one()


def test_sighup_puts_a_new_delivery_rate_in_force(tmp_path: Path, store_url: str) -> None:
    sink = TimedSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    config = write(tmp_path, store_url, port, rate=1000, burst=1000, concurrency=1)
    engine = open_store(load_settings(config).database_url)
    service = SyndicateProcess(config, "run")
    try:
        service.wait_for(r"delivery: smtp at 1000\.0/s \(burst 1000\), concurrency 1")
        write(tmp_path, store_url, port, rate=NEW_RATE, burst=1, concurrency=2)
        mark = len(service.lines)
        service.signal(signal.SIGHUP)
        service.wait_for("config reloaded from", start=mark)
        # The old drain ends and a new one starts with the new settings.
        service.wait_for(
            rf"delivery: smtp at {NEW_RATE}\.0/s \(burst 1\), concurrency 2, .* lease 60s",
            start=mark,
        )

        queued_edition(engine, MESSAGES, now=T0)
        sink.wait_for(MESSAGES, timeout=60)
        deadline = time.monotonic() + 30  # the last acceptance is recorded just after
        while (sent := sent_count(engine)) < MESSAGES and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sent == MESSAGES == len({to for to, _ in sink.messages})
        # At 4/s with a burst of 1, 13 messages take at least 3 s from first to last;
        # the old rate (1000/s, burst 1000) would let them all go at once. Half the
        # bound leaves room for the first message's own delay on a busy machine.
        times = sorted(sink.accepted_at)
        assert times[-1] - times[0] >= (MESSAGES - 1) / NEW_RATE / 2
    finally:
        code = service.stop()
        controller.stop()
        engine.dispose()
    assert code == 0
    assert not any("Traceback" in line for line in service.lines), "\n".join(service.lines)
