"""The drain loop end to end (Maildir, a scripted mailer), the CLI, rate limit, breaker."""

from __future__ import annotations

import json
import mailbox
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from syndicate.cli import main
from syndicate.core.clock import FixedClock
from syndicate.core.config import Settings
from syndicate.core.db import deliveries, subscribers, workers
from syndicate.core.tokens import signer_for
from syndicate.delivery.drain import drain
from syndicate.delivery.mailers.base import OutgoingMessage, SendResult
from syndicate.delivery.mailers.limits import CircuitBreaker, RateLimiter
from syndicate.delivery.outbox import status
from syndicate.service.context import App
from tests.support.deliveries import queued_edition


class ScriptedMailer:
    """Answers from a script (one outcome per message, then 'sent'); records what it got."""

    name = "scripted"

    def __init__(self, script: list[str], max_batch: int = 10) -> None:
        self.script = list(script)
        self.max_batch = max_batch
        self.calls: list[list[OutgoingMessage]] = []

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        self.calls.append(list(batch))
        out = []
        for _ in batch:
            outcome = self.script.pop(0) if self.script else "sent"
            error = None if outcome == "sent" else f"{outcome} trouble"
            out.append(SendResult(outcome, error=error))  # type: ignore[arg-type]
        return out

    def close(self) -> None:
        pass


def with_mailer(app: App, mailer: ScriptedMailer) -> App:
    app.mailer = lambda: mailer  # type: ignore[method-assign]
    return app


def test_drain_to_maildir_sends_each_row_once(app: App, clock: FixedClock) -> None:
    edition = queued_edition(app.engine, 30, now=clock.now())
    done: list[int] = []
    report = drain(
        app.engine,
        app.settings,
        clock=app.clock,
        mailer=app.mailer,
        once=True,
        progress=done.append,
    )
    assert report.sent == 30 and report.failed == 0 and sum(done) == 30
    box = mailbox.Maildir(app.settings.resolve("outbox"), create=False)
    messages = list(box)
    assert len(messages) == 30
    first = next(m for m in messages if m["To"] == "Reader 3 <reader3@example.com>")
    assert first["Message-ID"].startswith(f"<e{edition}.s")
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    signer = signer_for(app.settings, app.engine)
    token = first["List-Unsubscribe"].split("/unsubscribe/")[1].split(">")[0]
    with app.engine.connect() as conn:
        sid = conn.execute(
            select(subscribers.c.id).where(subscribers.c.email == "reader3@example.com")
        ).scalar_one()
    assert signer.check(token, "unsubscribe", now=clock.now()).subject == str(sid)
    text = first.get_payload()[0].get_payload(decode=True).decode()
    assert text.startswith("Hello Reader 3,")
    # Nothing left: a second drain sends nothing and the Maildir is unchanged.
    assert drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 0
    assert len(list(box)) == 30
    with app.engine.connect() as conn:
        assert status(conn)[0].counts["sent"] == 30
        # a finished one-off drain leaves no row in the workers table
        assert conn.execute(select(workers.c.id)).first() is None


def test_subscriber_leaving_after_queueing_gets_nothing(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 3, now=clock.now())
    with app.engine.begin() as conn:
        conn.execute(
            update(subscribers)
            .where(subscribers.c.email == "reader1@example.com")
            .values(status="unsubscribed")
        )
    mailer = ScriptedMailer([])
    report = drain(
        app.engine, app.settings, clock=app.clock, mailer=with_mailer(app, mailer).mailer, once=True
    )
    assert report.sent == 2 and report.suppressed == 1
    sent_to = {m.recipient.email for call in mailer.calls for m in call}
    assert sent_to == {"reader0@example.com", "reader2@example.com"}


def test_outcomes_are_recorded_and_retried_later(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 4, now=clock.now())
    mailer = ScriptedMailer(["sent", "temporary", "permanent", "uncertain"], max_batch=4)
    report = drain(
        app.engine, app.settings, clock=app.clock, mailer=with_mailer(app, mailer).mailer, once=True
    )
    assert (report.sent, report.deferred, report.failed, report.uncertain) == (1, 2, 1, 1)
    first_ids = {m.recipient.email: m.message_id for m in mailer.calls[0]}
    clock.advance(seconds=app.settings.delivery.backoff_max_seconds + 1)
    report = drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    assert report.sent == 2
    # The retried rows went out under the same Message-IDs as the first time; the
    # uncertain one alone (a second timeout risks one message, not a batch).
    retried = {m.recipient.email: m.message_id for call in mailer.calls[1:] for m in call}
    assert retried == {k: first_ids[k] for k in retried} and len(retried) == 2
    assert [[m.recipient.email for m in call] for call in mailer.calls[1:]] == [
        ["reader3@example.com"],
        ["reader1@example.com"],
    ]
    with app.engine.connect() as conn:
        rows = {r.email: r for r in conn.execute(select(deliveries))}
    assert rows["reader2@example.com"].status == "failed"
    assert rows["reader2@example.com"].last_error == "permanent trouble"
    assert rows["reader3@example.com"].uncertain_attempts == 1
    assert rows["reader3@example.com"].status == "sent"


class FailingMailer(ScriptedMailer):
    """Raises after the request may have gone out (a bug, a lost response)."""

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        self.calls.append(list(batch))
        raise RuntimeError("response lost")


def test_a_mailer_exception_is_uncertain_not_temporary(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 3, now=clock.now())
    report = drain(
        app.engine,
        app.settings,
        clock=app.clock,
        mailer=with_mailer(app, FailingMailer([], max_batch=3)).mailer,
        once=True,
    )
    assert (report.sent, report.deferred, report.uncertain) == (0, 3, 3)
    with app.engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.uncertain_attempts, deliveries.c.last_error))
        assert {tuple(r) for r in rows} == {(1, "RuntimeError: response lost")}


def test_breaker_pauses_a_failing_provider(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 50, now=clock.now())
    threshold = app.settings.delivery.breaker_failures
    mailer = ScriptedMailer(["temporary"] * 1000, max_batch=1)
    report = drain(
        app.engine, app.settings, clock=app.clock, mailer=with_mailer(app, mailer).mailer, once=True
    )
    assert report.paused
    assert len(mailer.calls) == threshold  # stopped calling after N failures in a row
    with app.engine.connect() as conn:
        counts = status(conn)[0].counts
    assert counts["deferred"] == threshold
    assert counts["queued"] == 50 - threshold and counts["sending"] == 0  # rest given back


def test_stop_event_ends_a_continuous_drain(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 2, now=clock.now())
    stop = threading.Event()
    done: list[int] = []

    def progress(count: int) -> None:
        done.append(count)
        if sum(done) >= 2:
            stop.set()

    mailer = ScriptedMailer([])
    thread = threading.Thread(
        target=drain,
        args=(app.engine, app.settings),
        kwargs={
            "clock": app.clock,
            "mailer": with_mailer(app, mailer).mailer,
            "once": False,
            "stop": stop,
            "progress": progress,
        },
    )
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive() and sum(done) == 2


@pytest.fixture
def config_extra() -> str:
    return "[mail.smtp]\nhost = '127.0.0.1'\n"


def test_cli_deliver_list_and_retry(app: App, clock: FixedClock, config_file: Path) -> None:
    queued_edition(app.engine, 3, now=clock.now())
    with app.engine.begin() as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.email == "reader0@example.com")
            .values(status="failed", last_error="550 no such user")
        )
    runner = CliRunner()
    base = ["--config", str(config_file)]
    result = runner.invoke(main, [*base, "deliver", "--once", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sent"] == 2
    result = runner.invoke(main, [*base, "outbox", "list", "--status", "failed", "--json"])
    (row,) = json.loads(result.stdout)
    assert row["email"] == "reader0@example.com" and row["last_error"] == "550 no such user"
    result = runner.invoke(main, [*base, "outbox", "retry"])
    assert result.exit_code == 1 and "--failed" in result.output
    result = runner.invoke(main, [*base, "outbox", "retry", "--failed", "--edition", "999"])
    assert result.exit_code == 0 and "re-queued 0" in result.output
    result = runner.invoke(main, [*base, "outbox", "retry", "--failed"])
    assert result.exit_code == 0 and "re-queued 1" in result.output
    result = runner.invoke(main, [*base, "deliver", "--once"])
    assert result.exit_code == 0 and "sent 1," in result.output
    result = runner.invoke(main, [*base, "outbox", "list"])
    assert result.exit_code == 0 and result.output.count("sent") == 3


def test_rate_limiter_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(10, 5, monotonic=lambda: now[0])
    assert limiter.reserve(5) == 0  # the burst
    assert limiter.reserve(1) == pytest.approx(0.1)
    now[0] += 1.0  # 10 tokens' worth of time, capped at the burst
    assert limiter.reserve(4) == 0
    assert limiter.reserve(1) == 0
    assert limiter.reserve(1) == pytest.approx(0.1)


def test_circuit_breaker_opens_and_half_opens() -> None:
    now = [0.0]
    breaker = CircuitBreaker(3, 60, monotonic=lambda: now[0])
    bad, good = [SendResult("temporary")], [SendResult("sent")]
    for _ in range(2):
        breaker.record(bad)
    assert breaker.remaining() == 0
    breaker.record(bad)
    assert breaker.remaining() == 60
    now[0] += 60
    assert breaker.remaining() == 0  # one try allowed
    breaker.record(bad)
    assert breaker.remaining() == 60  # failed again: closed for another pause
    now[0] += 60
    breaker.record(good)
    assert breaker.remaining() == 0 and breaker.failures == 0


def test_concurrent_workers_send_each_row_once(app: App, clock: FixedClock) -> None:
    queued_edition(app.engine, 120, now=clock.now())
    mail = app.settings.mail.model_copy(update={"concurrency": 4, "rate_per_second": 1e6})
    delivery = app.settings.delivery.model_copy(update={"batch_size": 10})
    settings = app.settings.model_copy(update={"mail": mail, "delivery": delivery})
    threaded = App(settings, clock=clock, _engine=app.engine)
    report = drain(
        threaded.engine,
        threaded.settings,
        clock=threaded.clock,
        mailer=threaded.mailer,
        once=True,
        worker_id="w",
    )
    assert report.sent == 120
    box = mailbox.Maildir(settings.resolve("outbox"), create=False)
    recipients = [m["To"] for m in box]
    assert len(recipients) == 120 == len(set(recipients))
    with app.engine.connect() as conn:
        ids = set(conn.execute(select(workers.c.id)).scalars())
        claimed_by = set(conn.execute(select(deliveries.c.claimed_by)).scalars())
    assert ids == set()  # finished one-off drains leave no worker rows
    assert claimed_by <= {f"w/{i}" for i in range(4)}  # four workers, each with its own id


def test_threads_sharing_the_rate_claim_what_their_share_sends_within_the_lease(
    app: App, clock: FixedClock
) -> None:
    queued_edition(app.engine, 30, now=clock.now())
    # 0.4/s over half a 100 s lease is 20 messages; two threads share the rate: 10 each.
    mail = app.settings.mail.model_copy(
        update={"concurrency": 2, "rate_per_second": 0.4, "burst": 50}
    )
    delivery = app.settings.delivery.model_copy(update={"batch_size": 100, "lease_seconds": 100})
    settings = app.settings.model_copy(update={"mail": mail, "delivery": delivery})
    mailer = ScriptedMailer([], max_batch=100)
    threaded = with_mailer(App(settings, clock=clock, _engine=app.engine), mailer)
    report = drain(
        threaded.engine,
        threaded.settings,
        clock=threaded.clock,
        mailer=threaded.mailer,
        once=True,
        worker_id="w",
    )
    assert report.sent == 30
    assert max(len(call) for call in mailer.calls) == 10


def test_a_long_drain_keeps_only_the_last_few_editions_prepared(
    app: App, clock: FixedClock
) -> None:
    from syndicate.delivery.drain import PREPARED_EDITIONS, _Drainer
    from tests.support.deliveries import add_edition

    ids = [
        add_edition(app.engine, now=clock.now(), period=f"2026-03-{day:02d}T06:00Z")
        for day in range(1, PREPARED_EDITIONS + 3)
    ]
    drainer = _Drainer(
        app.engine,
        app.settings,
        clock=app.clock,
        mailer=app.mailer,
        once=True,
        stop=threading.Event(),
        progress=None,
        limiter=RateLimiter(10, 10),
        breaker=CircuitBreaker(3, 60),
    )
    for edition_id in ids:
        assert drainer.edition(edition_id).content.edition_id == edition_id
    assert list(drainer.prepared) == [(i, None) for i in ids[-PREPARED_EDITIONS:]]
    recent = drainer.edition(ids[-1])
    assert drainer.edition(ids[-1]) is recent  # still prepared once, not per call


def test_build_mailer_picks_the_provider_and_needs_its_secret(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate.core.errors import ConfigError
    from syndicate.delivery.mailers import build_mailer
    from syndicate.delivery.mailers.maildir import MaildirMailer
    from syndicate.delivery.mailers.postmark import PostmarkMailer
    from syndicate.delivery.mailers.smtp import SmtpMailer

    assert isinstance(build_mailer(settings), MaildirMailer)

    def using(provider: str, **smtp: object) -> Settings:
        mail = settings.mail.model_copy(
            update={"provider": provider, "smtp": settings.mail.smtp.model_copy(update=smtp)}
        )
        return settings.model_copy(update={"mail": mail})

    assert isinstance(build_mailer(using("smtp")), SmtpMailer)
    monkeypatch.delenv("POSTMARK_SERVER_TOKEN", raising=False)
    with pytest.raises(ConfigError) as caught:
        build_mailer(using("postmark"))
    assert caught.value.message == (
        "mail.postmark.server_token_env: environment variable POSTMARK_SERVER_TOKEN is not set"
    )
    monkeypatch.setenv("POSTMARK_SERVER_TOKEN", "t")
    assert isinstance(build_mailer(using("postmark")), PostmarkMailer)
    monkeypatch.delenv("SMTP_PW", raising=False)
    with pytest.raises(ConfigError):
        build_mailer(using("smtp", username="news", password_env="SMTP_PW"))


def test_a_maildir_that_cannot_be_created_is_a_config_error(tmp_path: Path) -> None:
    from syndicate.core.errors import ConfigError
    from syndicate.delivery.mailers.maildir import MaildirMailer

    blocker = tmp_path / "taken"
    blocker.write_text("a file where the Maildir should go")
    with pytest.raises(ConfigError) as caught:
        MaildirMailer(blocker / "outbox")
    assert "mail.maildir" in str(caught.value) and str(blocker / "outbox") in str(caught.value)
