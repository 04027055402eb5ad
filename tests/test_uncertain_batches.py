"""A batch the provider accepted but answered after our timeout is not sent twice.

Loopback fakes of the provider APIs (pytest-httpserver) accept the first batch and
answer only after the client's configured ``timeout``. Mailgun and Postmark are then
asked (events API, outbound message search) before anything is resent: no
duplicate. SendGrid has no such lookup: each uncertain row is resent alone under its
Message-ID, so the bound is one extra copy per uncertain row and a second timeout
can only touch one message.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from email.utils import parseaddr

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from syndicate.core.clock import FixedClock
from syndicate.core.config import MailgunSettings, PostmarkSettings, SendgridSettings
from syndicate.delivery.drain import drain
from syndicate.service.context import App
from tests.support.deliveries import queued_edition

KEY = "key-123"
RECIPIENTS = 20
TIMEOUT = 0.3  # the client's configured timeout (seconds)
SLOW = 1.0  # how long the provider takes over the first batch


class Provider:
    """What a fake provider accepted: (recipient, Message-ID, delivery id) per message."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[tuple[str, str, str]] = []
        self.posts: list[int] = []  # messages per POST
        self.lookups = 0
        self.slow_calls = 1  # the first N POSTs answer after the client gave up
        self.idle = threading.Event()  # no slow answer pending (the fake serves one at a time)
        self.idle.set()

    def take(self, messages: list[tuple[str, str, str]]) -> None:
        with self.lock:
            self.accepted += messages
            self.posts.append(len(messages))
            slow = self.slow_calls > 0
            self.slow_calls -= 1
        if slow:
            self.idle.clear()
            time.sleep(SLOW)  # accepted, but the answer comes too late
            self.idle.set()

    def copies(self) -> Counter[str]:
        return Counter(to for to, _, _ in self.accepted)

    def message_ids(self, to: str) -> set[str]:
        return {mid for rcpt, mid, _ in self.accepted if rcpt == to}


def _app(app: App, clock: FixedClock, **mail: object) -> App:
    settings = app.settings.model_copy(update={"mail": app.settings.mail.model_copy(update=mail)})
    return App(settings, clock=clock, _engine=app.engine)


def _twice(api: App, app: App, clock: FixedClock, fake: Provider) -> None:
    """Drain (the batch times out), wait out the backoff, drain again."""
    queued_edition(app.engine, RECIPIENTS, now=clock.now())
    first = drain(api.engine, api.settings, clock=api.clock, mailer=api.mailer, once=True)
    assert first.uncertain == RECIPIENTS and first.sent == 0
    clock.advance(seconds=app.settings.delivery.backoff_max_seconds + 1)
    assert fake.idle.wait(10)  # the provider finished the late answer (real backoff: minutes)
    second = drain(api.engine, api.settings, clock=api.clock, mailer=api.mailer, once=True)
    assert second.sent == RECIPIENTS


def test_mailgun_timed_out_batch_is_reconciled_not_resent(
    app: App, clock: FixedClock, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", KEY)
    fake = Provider()

    def send(request: Request) -> Response:
        variables = json.loads(request.form["recipient-variables"])
        taken = []
        for to in request.form.getlist("to"):
            email = parseaddr(to)[1]
            v = variables[email]
            taken.append((email, v["message_id"], v["delivery_id"]))
        fake.take(taken)
        return Response(json.dumps({"id": "<batch@mg.example.org>", "message": "Queued."}))

    def events(request: Request) -> Response:
        assert request.args["event"] == "accepted"
        fake.lookups += 1
        items = [
            {
                "event": "accepted",
                "recipient": to,
                "message": {"headers": {"message-id": mid.strip("<>")}},
                "user-variables": {"delivery_id": did},
            }
            for to, mid, did in fake.accepted
            if to == request.args["recipient"]
        ]
        return Response(json.dumps({"items": items, "paging": {}}))

    httpserver.expect_request("/v3/mg.example.org/messages", method="POST").respond_with_handler(
        send
    )
    httpserver.expect_request("/v3/mg.example.org/events", method="GET").respond_with_handler(
        events
    )
    api = _app(
        app,
        clock,
        provider="mailgun",
        mailgun=MailgunSettings(
            domain="mg.example.org", base_url=httpserver.url_for("/"), timeout=TIMEOUT
        ),
    )
    _twice(api, app, clock, fake)
    assert fake.copies() == Counter({f"reader{i}@example.com": 1 for i in range(RECIPIENTS)})
    assert fake.posts == [RECIPIENTS]  # nothing was resent
    assert fake.lookups == RECIPIENTS
    print(f"\nmailgun: {len(fake.accepted) - RECIPIENTS} duplicate(s) after a timed-out batch")


def test_postmark_timed_out_batch_is_reconciled_not_resent(
    app: App, clock: FixedClock, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTMARK_SERVER_TOKEN", KEY)
    fake = Provider()
    metadata: dict[str, list[dict[str, str]]] = {}

    def send(request: Request) -> Response:
        taken, answer = [], []
        for i, message in enumerate(json.loads(request.get_data())):
            headers = {h["Name"]: h["Value"] for h in message["Headers"]}
            email = parseaddr(message["To"])[1]
            taken.append((email, headers["Message-ID"], message["Metadata"]["delivery_id"]))
            metadata.setdefault(email, []).append(message["Metadata"])
            answer.append({"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{i}"})
        fake.take(taken)
        return Response(json.dumps(answer), mimetype="application/json")

    def search(request: Request) -> Response:
        assert request.headers["X-Postmark-Server-Token"] == KEY
        assert int(request.args["count"]) <= 500 and request.args["offset"] == "0"
        fake.lookups += 1
        found = [
            {"MessageID": f"pm-{n}", "Recipients": [request.args["recipient"]], "Metadata": m}
            for n, m in enumerate(metadata.get(request.args["recipient"], []))
        ]
        return Response(json.dumps({"TotalCount": len(found), "Messages": found}))

    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(send)
    httpserver.expect_request("/messages/outbound", method="GET").respond_with_handler(search)
    api = _app(
        app,
        clock,
        provider="postmark",
        postmark=PostmarkSettings(base_url=httpserver.url_for("/").rstrip("/"), timeout=TIMEOUT),
    )
    _twice(api, app, clock, fake)
    assert fake.copies() == Counter({f"reader{i}@example.com": 1 for i in range(RECIPIENTS)})
    assert fake.posts == [RECIPIENTS]
    assert fake.lookups == RECIPIENTS
    print(f"\npostmark: {len(fake.accepted) - RECIPIENTS} duplicate(s) after a timed-out batch")


def test_sendgrid_resends_uncertain_rows_one_by_one_under_the_same_message_id(
    app: App, clock: FixedClock, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    fake = Provider()

    def send(request: Request) -> Response:
        payload = json.loads(request.get_data())
        fake.take(
            [
                (p["to"][0]["email"], p["headers"]["Message-ID"], p["custom_args"]["delivery_id"])
                for p in payload["personalizations"]
            ]
        )
        return Response("", status=202, headers={"X-Message-Id": "sg-1"})

    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_handler(send)
    api = _app(
        app,
        clock,
        provider="sendgrid",
        sendgrid=SendgridSettings(base_url=httpserver.url_for("/").rstrip("/"), timeout=TIMEOUT),
    )
    _twice(api, app, clock, fake)
    copies = fake.copies()
    assert set(copies) == {f"reader{i}@example.com" for i in range(RECIPIENTS)}
    assert max(copies.values()) <= 2  # the documented bound: one extra per uncertain row
    assert fake.posts == [RECIPIENTS] + [1] * RECIPIENTS  # resent one by one
    assert all(len(fake.message_ids(to)) == 1 for to in copies)  # under the same Message-ID
    print(f"\nsendgrid: {len(fake.accepted) - RECIPIENTS} duplicate(s), same Message-ID each")
