"""Outbound webhooks against a real receiver on loopback (pytest-httpserver) that
verifies every request with the standardwebhooks package: signatures, a stable
webhook-id across retries and crashes, backoff, give-up and replay, no redirects,
no private addresses unless allowed, and events written with their change or not at all."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import standardwebhooks.webhooks
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from standardwebhooks import Webhook
from werkzeug import Request, Response

from syndicate.cli import main
from syndicate.core.clock import FixedClock
from syndicate.core.db import events, transaction, webhook_deliveries
from syndicate.delivery.hooks import drain, queue, send
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from tests.support.console import DIGESTS

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = datetime.now(UTC).replace(microsecond=0)  # receivers check the timestamp is recent


class Receiver:
    """Answers each request with the next status (then 204), keeping what it verified."""

    def __init__(self, server: HTTPServer, path: str = "/hook") -> None:
        self.statuses: list[int] = []
        self.received: list[dict] = []
        self.url = server.url_for(path)
        server.expect_request(path, method="POST").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        payload = Webhook(SECRET).verify(request.get_data(), dict(request.headers))
        self.received.append({"id": request.headers["webhook-id"], "payload": payload})
        status = self.statuses.pop(0) if self.statuses else 204
        return Response("", status=status)

    @property
    def types(self) -> list[str]:
        return [r["payload"]["type"] for r in self.received]


@pytest.fixture
def receiver(httpserver: HTTPServer) -> Receiver:
    return Receiver(httpserver)


@pytest.fixture
def config_extra(receiver: Receiver) -> str:
    return (
        DIGESTS
        + f"""
[[webhooks]]
url = "{receiver.url}"
events = ["subscriber.created", "subscriber.confirmed", "subscriber.unsubscribed",
          "subscriber.bounced"]
secret_env = "HOOK_SECRET"
allow_private = true
"""
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch, clock: FixedClock) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)

    class ReceiverTime(datetime):
        """The receiver's clock agrees with ours (the tests move ours a day ahead)."""

        @classmethod
        def now(cls, tz=None):
            return clock.now().astimezone(tz)

    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", ReceiverTime)


def _sign_up(app: App, email: str = "reader@example.org") -> int:
    with transaction(app.engine) as conn:
        subscriber, _ = subs.request(conn, email, name="Ann", digests=[], now=app.clock.now())
    with transaction(app.engine) as conn:
        subs.confirm(conn, subscriber.id, app.clock.now())
    return subscriber.id


def _cli(app: App, *args: str):
    return CliRunner().invoke(main, ["--config", app.settings.config_file, *args])


def test_events_arrive_signed_and_verifiable(app: App, receiver: Receiver) -> None:
    sid = _sign_up(app)
    counts = drain.drain_once(app)
    assert counts["delivered"] == 2
    assert receiver.types == ["subscriber.created", "subscriber.confirmed"]
    confirmed = receiver.received[1]["payload"]
    assert confirmed["data"]["subscriber"]["id"] == sid
    assert confirmed["data"]["subscriber"]["status"] == "active"
    with app.engine.connect() as conn:
        ids = conn.execute(select(events.c.webhook_id).order_by(events.c.id)).scalars().all()
    assert [r["id"] for r in receiver.received] == ids
    assert drain.drain_once(app)["delivered"] == 0  # nothing twice


def test_a_forged_or_altered_request_fails_verification(app: App, receiver: Receiver) -> None:
    """The receiver's check is real: the same library refuses a body we did not sign."""
    _sign_up(app)
    with transaction(app.engine) as conn:
        queue.fan_out(conn, app.settings.webhooks, NOW)
        [item, *_] = queue.claim(conn, [receiver.url], NOW)
    body = send.body_of(item.payload)
    headers = send.headers(Webhook(SECRET), item.webhook_id, NOW, body)
    Webhook(SECRET).verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(SECRET).verify(body.replace(b"Ann", b"Eve"), headers)


def test_failures_back_off_and_retry_with_the_same_webhook_id(
    app: App, receiver: Receiver, clock: FixedClock
) -> None:
    receiver.statuses = [500, 429]
    with transaction(app.engine) as conn:
        subs.add(conn, "b@example.org", digests=[], now=NOW)  # created + confirmed
    first = drain.drain_once(app)
    assert first["pending"] == 2 and first["delivered"] == 0
    assert drain.drain_once(app)["delivered"] == 0  # not before its time
    clock.advance(seconds=queue.SCHEDULE[0])
    assert drain.drain_once(app)["delivered"] == 2
    ids = [r["id"] for r in receiver.received]
    assert ids[0] == ids[2] and ids[1] == ids[3] and ids[0] != ids[1]
    log = json.loads(_cli(app, "webhooks", "log", "--json").output)
    assert len(log) == 4
    assert sorted(a["status_code"] for a in log) == [204, 204, 429, 500]
    assert {a["delivery_status"] for a in log} == {"delivered"}


def test_a_sender_killed_mid_post_is_resumed_with_the_same_id(
    app: App, receiver: Receiver, clock: FixedClock
) -> None:
    """kill -9 after the receiver got the post but before it was recorded: the lease
    runs out, the row is posted again, and the receiver sees one webhook-id twice."""
    _sign_up(app)
    with transaction(app.engine) as conn:
        queue.fan_out(conn, app.settings.webhooks, NOW)
        claimed = queue.claim(conn, [receiver.url], NOW)
    hook = app.settings.webhooks[0]
    for item in claimed:  # the dying sender's posts
        body = send.body_of(item.payload)
        with send.client_for(hook, "test") as client:
            send.post(
                client,
                item.url,
                body,
                send.headers(Webhook(SECRET), item.webhook_id, NOW, body),
                NOW,
            )
    assert drain.drain_once(app)["delivered"] == 0  # still leased
    clock.advance(seconds=queue.LEASE.total_seconds() + 1)
    assert drain.drain_once(app)["delivered"] == 2
    ids = [r["id"] for r in receiver.received]
    assert ids == [claimed[0].webhook_id, claimed[1].webhook_id] * 2
    with app.engine.connect() as conn:
        states = conn.execute(select(webhook_deliveries.c.status)).scalars().all()
    assert states == ["delivered", "delivered"]


def test_a_receiver_failing_for_a_day_is_disabled_and_its_backlog_replayed(
    app: App, receiver: Receiver, clock: FixedClock
) -> None:
    receiver.statuses = [503] * queue.MAX_ATTEMPTS
    with transaction(app.engine) as conn:
        subs.add_inactive(conn, "c@example.org", status="pending", digests=[], now=NOW, reason="x")
    for wait in (0, *queue.SCHEDULE):
        clock.advance(seconds=wait)
        drain.drain_once(app)
    assert len(receiver.received) == queue.MAX_ATTEMPTS
    assert 20 * 3600 < (clock.now() - NOW).total_seconds() < 28 * 3600  # about a day
    status = json.loads(_cli(app, "webhooks", "status", "--json").output)
    assert status[0]["state"] == "disabled" and "after 11 attempts" in status[0]["reason"]
    assert status[0]["deliveries"] == {"failed": 1}
    _sign_up(app, "d@example.org")  # while disabled: held, not posted
    assert drain.drain_once(app)["delivered"] == 0
    with app.engine.connect() as conn:
        held = conn.execute(
            select(func.count()).where(webhook_deliveries.c.status == "held")
        ).scalar_one()
    assert held == 2 and len(receiver.received) == queue.MAX_ATTEMPTS
    replayed = _cli(app, "webhooks", "replay", receiver.url)
    assert replayed.exit_code == 0 and "3 event(s) queued again" in replayed.output
    assert drain.drain_once(app)["delivered"] == 3
    assert receiver.types[-3:] == ["subscriber.created"] * 2 + ["subscriber.confirmed"]


def test_no_redirect_is_followed(app: App, httpserver: HTTPServer, receiver: Receiver) -> None:
    elsewhere: list[str] = []
    httpserver.clear()
    httpserver.expect_request("/hook").respond_with_response(
        Response("", status=307, headers={"Location": httpserver.url_for("/other")})
    )
    httpserver.expect_request("/other").respond_with_handler(
        lambda r: elsewhere.append(r.path) or Response("", status=204)
    )
    _sign_up(app)
    counts = drain.drain_once(app)
    assert counts["pending"] == 2 and not elsewhere
    log = json.loads(_cli(app, "webhooks", "log", "--json").output)
    assert {a["error"] for a in log} == {"HTTP 307"}


def test_a_private_address_is_refused_unless_allowed(app: App, receiver: Receiver) -> None:
    hook = app.settings.webhooks[0].model_copy(update={"allow_private": False})
    with send.client_for(hook, "test") as client:
        answer = send.post(client, receiver.url, b"{}", {}, NOW)
    assert answer.status_code is None and "refused" in answer.error
    assert receiver.received == []


def test_an_event_exists_only_if_its_change_was_committed(app: App) -> None:
    with pytest.raises(RuntimeError), transaction(app.engine) as conn:
        subs.add(conn, "e@example.org", digests=[], now=NOW)
        raise RuntimeError("crash before commit")
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0
        assert subs.find(conn, "e@example.org") is None


def test_erasing_a_person_removes_their_address_from_events_not_yet_posted(app: App) -> None:
    """An erased reader's address must not reach a receiver later (a retry, a replay)."""
    with transaction(app.engine) as conn:
        subs.add(conn, "gone@example.org", name="Gone", digests=[], now=NOW)
        subs.add(conn, "kept@example.org", digests=[], now=NOW)
    with transaction(app.engine) as conn:
        assert subs.erase(conn, "gone@example.org")
    with app.engine.connect() as conn:
        posted = json.dumps([row for row in conn.execute(select(events.c.payload)).scalars()])
    assert "gone@example.org" not in posted and "Gone" not in posted
    assert "kept@example.org" in posted and '"erased": true' in posted


def test_erasure_finds_the_persons_events_among_ids_of_any_size(app: App) -> None:
    """Ids are 64-bit: an event about id 3,000,000,000 is neither in the way of an
    erasure nor touched by it."""
    from syndicate.core import events as stored_events

    big = {"id": 3_000_000_000, "email": "big@example.org", "name": "Big"}
    with transaction(app.engine) as conn:
        stored_events.record(conn, "subscriber.created", {"subscriber": big}, NOW)
        subs.add(conn, "gone@example.org", digests=[], now=NOW)
    with transaction(app.engine) as conn:
        assert subs.erase(conn, "gone@example.org")
    with app.engine.connect() as conn:
        posted = json.dumps([row for row in conn.execute(select(events.c.payload)).scalars()])
    assert "gone@example.org" not in posted and "big@example.org" in posted


def test_unwanted_event_types_are_not_posted(app: App, receiver: Receiver) -> None:
    with transaction(app.engine) as conn:
        subs.add(conn, "f@example.org", digests=[], now=NOW)
        subs.suppress(conn, "f@example.org", "complained", "spam report", NOW)
    drain.drain_once(app)
    assert "subscriber.complained" not in receiver.types  # not in this receiver's events
    assert receiver.types == ["subscriber.created", "subscriber.confirmed"]


def test_edition_composed_and_sent_once_when_every_row_finished(
    app: App, receiver: Receiver, clock: FixedClock
) -> None:
    from syndicate.delivery.drain import drain as mail_drain
    from syndicate.digest import latest_slot
    from syndicate.intake.importers.pipeline import import_paths
    from syndicate.service.jobs import send_digest
    from tests.support import EXAMPLES

    assert not import_paths(app.engine, app.settings, clock=app.clock, paths=[EXAMPLES]).failed
    with transaction(app.engine) as conn:
        subs.add(conn, "g@example.org", digests=["weekly"], now=NOW)
        subs.add(conn, "h@example.org", digests=["weekly"], now=NOW)
    settings = app.settings.digest("weekly")
    send_digest(
        app, "weekly", slot=latest_slot(settings, app.settings.digest_timezone(settings), NOW)
    )
    with app.engine.connect() as conn:
        kinds = conn.execute(select(events.c.type).order_by(events.c.id)).scalars().all()
    assert kinds[-1] == "edition.composed"
    mail_drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    mail_drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    with app.engine.connect() as conn:
        sent = conn.execute(select(events.c.payload).where(events.c.type == "edition.sent")).all()
    assert len(sent) == 1
    assert sent[0].payload["data"]["edition"]["deliveries"] == {"sent": 2}


@pytest.mark.parametrize("ending", ["unsubscribed", "cancelled"])
def test_edition_sent_also_when_its_last_rows_end_unsent(
    app: App, receiver: Receiver, clock: FixedClock, ending: str
) -> None:
    """An edition whose last queued rows are suppressed at claim time (the reader left)
    or cancelled by an operator is finished too: edition.sent once, with the counts."""
    from syndicate.delivery.drain import drain as mail_drain
    from syndicate.delivery.outbox import move_unsent
    from syndicate.digest import latest_slot
    from syndicate.intake.importers.pipeline import import_paths
    from syndicate.service.jobs import send_digest
    from tests.support import EXAMPLES

    assert not import_paths(app.engine, app.settings, clock=app.clock, paths=[EXAMPLES]).failed
    with transaction(app.engine) as conn:
        reader, _ = subs.add(conn, "g@example.org", digests=["weekly"], now=NOW)
    settings = app.settings.digest("weekly")
    run = send_digest(
        app, "weekly", slot=latest_slot(settings, app.settings.digest_timezone(settings), NOW)
    )
    with transaction(app.engine) as conn:
        if ending == "unsubscribed":
            subs.unsubscribe(conn, reader.id, NOW)
        else:
            move_unsent(
                conn, run.edition_id, sources=("queued",), target="cancelled", now=clock.now()
            )
    mail_drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    mail_drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)
    with app.engine.connect() as conn:
        sent = conn.execute(select(events.c.payload).where(events.c.type == "edition.sent")).all()
    assert len(sent) == 1
    state = "suppressed" if ending == "unsubscribed" else "cancelled"
    assert sent[0].payload["data"]["edition"]["deliveries"] == {state: 1}


def test_housekeeping_prunes_finished_events_and_keeps_a_held_backlog(
    app: App, receiver: Receiver, clock: FixedClock
) -> None:
    from syndicate.service.jobs import housekeeping

    _sign_up(app)
    drain.drain_once(app)  # both delivered
    with transaction(app.engine) as conn:
        subs.add(conn, "late@example.org", digests=[], now=clock.now())
        queue.fan_out(conn, app.settings.webhooks, clock.now())
        queue.disable(conn, receiver.url, clock.now(), "test")
    clock.advance(days=app.settings.schedule.keep_history_days + 1)
    assert housekeeping(app)["outbound_events_pruned"] == 2
    with app.engine.connect() as conn:
        left = conn.execute(select(events.c.type).order_by(events.c.id)).scalars().all()
    assert left == ["subscriber.created", "subscriber.confirmed"]  # the held backlog


def test_check_reports_a_missing_or_unusable_signing_secret(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate.service.checks import run_checks

    def webhook_check():
        [found] = [c for c in run_checks(settings, source="config.toml") if c.name == "webhook 1"]
        return found

    assert webhook_check().status == "ok"
    monkeypatch.setenv("HOOK_SECRET", "not base64 !")
    assert webhook_check().problems == [
        "webhooks[0].secret_env: HOOK_SECRET is not a Standard Webhooks secret"
    ]
    monkeypatch.delenv("HOOK_SECRET")
    assert "HOOK_SECRET is not set" in webhook_check().problems[0]


def test_kill_9_of_the_sender_mid_post_loses_nothing_and_keeps_the_id(
    app: App, httpserver: HTTPServer, receiver: Receiver, clock: FixedClock
) -> None:
    """A real ``syndicate webhooks deliver`` is killed -9 while the receiver holds its
    first post; after the lease, a new sender delivers every event, the interrupted
    one again under the same webhook-id."""
    import threading

    from tests.support.processes import SyndicateProcess

    clock.advance(
        seconds=max(0, (datetime.now(UTC) - clock.now()).total_seconds())
    )  # as the sender's
    arrived, release = threading.Event(), threading.Event()
    httpserver.clear()

    def slow(request: Request) -> Response:
        answer = receiver.handle(request)
        if len(receiver.received) == 1:
            arrived.set()
            release.wait(30)
        return answer

    httpserver.expect_request("/hook", method="POST").respond_with_handler(slow)
    _sign_up(app)
    sender = SyndicateProcess(
        Path(app.settings.config_file), "webhooks", "deliver", env={"HOOK_SECRET": SECRET}
    )
    try:
        assert arrived.wait(60), "\n".join(sender.lines)
        sender.kill()
    finally:
        release.set()
        if sender.proc.poll() is None:
            sender.kill()
    with app.engine.connect() as conn:
        states = conn.execute(select(webhook_deliveries.c.status)).scalars().all()
    assert "delivered" not in states  # the first post was never recorded
    clock.advance(seconds=queue.LEASE.total_seconds() + 60)
    assert drain.drain_once(app)["delivered"] == 2
    with app.engine.connect() as conn:
        ids = conn.execute(select(events.c.webhook_id).order_by(events.c.id)).scalars().all()
        states = conn.execute(select(webhook_deliveries.c.status)).scalars().all()
    got = [r["id"] for r in receiver.received]
    assert got[0] == ids[0] and set(got) == set(ids) and got.count(ids[0]) == 2
    assert states == ["delivered", "delivered"]
