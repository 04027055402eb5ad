"""A mail server or provider refusing an address while we send is a bounce.

The SMTP tests run a real aiosmtpd server answering on cue; the Postmark and Mailgun
tests a pytest-httpserver speaking their APIs. A hard refusal suppresses the
subscriber exactly as a webhook hard bounce does (status and reason history), a soft
one counts toward ``web.soft_bounce_limit``, and system or policy refusals
(greylisting, 4.4.x, 5.7.x) never count against the reader.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update
from werkzeug import Request, Response

from syndicate.core.clock import FixedClock
from syndicate.core.config import MailgunSettings, PostmarkSettings
from syndicate.core.db import deliveries
from syndicate.core.db import subscribers as subscriber_rows
from syndicate.delivery.drain import drain
from syndicate.delivery.mailers.bounces import smtp_bounce
from syndicate.readers import subscribers
from syndicate.service.context import App
from tests.support.deliveries import SmtpSink, add_edition, add_subscribers
from tests.test_mailer_http import KEY, Fake, error, mailgun_check, postmark_check
from tests.test_mailer_smtp import plain, start


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        (550, "5.1.1 <x@example.com>: user unknown", "hard"),
        (553, "5.1.3 bad address syntax", "hard"),
        (550, "5.1.10 null MX", "hard"),
        (550, "5.2.1 mailbox disabled", "hard"),
        (552, "5.2.2 mailbox full", "soft"),
        (452, "4.2.2 over quota", "soft"),
        (450, "4.1.1 try later", "soft"),
        (550, "5.7.1 rejected by policy", None),  # the message or the sender, not the reader
        (451, "4.7.1 greylisted, try again", None),
        (451, "4.4.1 no answer from host", None),
        (554, "5.3.4 message too big", None),
        (550, "No such user here", "hard"),  # no enhanced code: the basic reply code
        (552, "Requested mail action aborted: exceeded storage", "soft"),
        (554, "Transaction failed", None),
        (421, "4.3.2 shutting down", None),
    ],
)
def test_smtp_replies_are_classified_by_their_status_codes(
    code: int, text: str, expected: str | None
) -> None:
    assert smtp_bounce(code, text) == expected


def _smtp_app(app: App, clock: FixedClock, port: int) -> App:
    mail = app.settings.mail.model_copy(update={"provider": "smtp", "smtp": plain(port)})
    return App(app.settings.model_copy(update={"mail": mail}), clock=clock, _engine=app.engine)


def _edition(app: App, clock: FixedClock, period: str) -> None:
    from syndicate.delivery.outbox import enqueue

    edition_id = add_edition(app.engine, now=clock.now(), period=period)
    with app.engine.begin() as conn:
        enqueue(conn, edition_id=edition_id, digest="weekly", now=clock.now(), domain="n.org")


def _subscriber(app: App, email: str) -> subscribers.Subscriber:
    with app.engine.connect() as conn:
        found = subscribers.find(conn, email)
    assert found is not None
    return found


def test_smtp_hard_refusal_suppresses_like_a_webhook_and_soft_ones_count(
    app: App, clock: FixedClock
) -> None:
    handler = SmtpSink()
    handler.cues.update(
        {
            "reader1@example.com": "550 5.1.1 <reader1@example.com>: user unknown",
            "reader2@example.com": "data:552 5.2.2 mailbox full",
            "reader3@example.com": "451 4.7.1 greylisted",
            "reader4@example.com": "550 5.7.1 message refused by policy",
        }
    )
    controller, port = start(handler)
    try:
        smtp_app = _smtp_app(app, clock, port)
        add_subscribers(app.engine, 5, now=clock.now())
        limit = app.settings.web.soft_bounce_limit
        for week in range(limit):
            _edition(app, clock, f"2026-03-{2 + 7 * week:02d}T06:00Z")
            drain(
                smtp_app.engine,
                smtp_app.settings,
                clock=smtp_app.clock,
                mailer=smtp_app.mailer,
                once=True,
            )
            clock.advance(days=7)
            with app.engine.begin() as conn:  # retry the deferred rows now
                conn.execute(
                    update(deliveries)
                    .where(deliveries.c.status == "deferred")
                    .values(not_before=clock.now() - timedelta(seconds=1))
                )
    finally:
        controller.stop()
    hard = _subscriber(app, "reader1@example.com")
    assert hard.status == "bounced"
    assert "550 5.1.1" in (hard.status_reason or "")
    full = _subscriber(app, "reader2@example.com")
    assert full.status == "bounced" and f"{limit} soft bounces" in (full.status_reason or "")
    assert _subscriber(app, "reader3@example.com").status == "active"  # greylisting
    assert _subscriber(app, "reader4@example.com").status == "active"  # policy
    assert _subscriber(app, "reader0@example.com").status == "active"
    # The bounced address got exactly one attempt: later editions do not queue it.
    with app.engine.connect() as conn:
        states = list(
            conn.execute(
                select(deliveries.c.status)
                .where(deliveries.c.email == "reader1@example.com")
                .order_by(deliveries.c.id)
            ).scalars()
        )
    assert states == ["failed"]
    assert [rcpt for rcpt, _ in handler.messages].count("reader1@example.com") == 0


def _api_app(app: App, clock: FixedClock, **mail: object) -> App:
    settings = app.settings.model_copy(update={"mail": app.settings.mail.model_copy(update=mail)})
    return App(settings, clock=clock, _engine=app.engine)


def test_postmark_inactive_recipient_suppresses_the_subscriber(
    app: App, clock: FixedClock, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTMARK_SERVER_TOKEN", KEY)
    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(
        Fake(postmark_check)  # answers ErrorCode 406 "inactive" for r3@example.com
    )
    api = _api_app(
        app,
        clock,
        provider="postmark",
        postmark=PostmarkSettings(base_url=httpserver.url_for("/").rstrip("/")),
    )
    with app.engine.begin() as conn:
        for i in range(5):
            subscribers.add(
                conn, f"r{i}@example.com", name=f"R {i}", digests=["weekly"], now=clock.now()
            )
    _edition(app, clock, "2026-03-02T06:00Z")
    report = drain(api.engine, api.settings, clock=api.clock, mailer=api.mailer, once=True)
    assert (report.sent, report.failed) == (4, 1)
    inactive = _subscriber(app, "r3@example.com")
    assert inactive.status == "bounced" and "Postmark 406" in (inactive.status_reason or "")
    assert _subscriber(app, "r2@example.com").status == "active"


def test_mailgun_invalid_address_alone_suppresses_only_that_subscriber(
    app: App, clock: FixedClock, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", KEY)

    def check(request: Request) -> Response:
        # Mailgun refuses the whole call while it holds an address it deems invalid.
        if any("reader2@example.com" in to for to in request.form.getlist("to")):
            return error(400, "to parameter is not a valid address. please check documentation")
        return mailgun_check(request)

    httpserver.expect_request("/v3/mg.example.org/messages", method="POST").respond_with_handler(
        Fake(check)
    )
    api = _api_app(
        app,
        clock,
        provider="mailgun",
        mailgun=MailgunSettings(domain="mg.example.org", base_url=httpserver.url_for("/")),
    )
    add_subscribers(app.engine, 4, now=clock.now())
    _edition(app, clock, "2026-03-02T06:00Z")
    report = drain(api.engine, api.settings, clock=api.clock, mailer=api.mailer, once=True)
    assert (report.sent, report.failed) == (3, 1)
    with app.engine.connect() as conn:
        statuses = dict(
            conn.execute(select(subscriber_rows.c.email, subscriber_rows.c.status)).all()
        )
    assert statuses == {
        "reader0@example.com": "active",
        "reader1@example.com": "active",
        "reader2@example.com": "bounced",
        "reader3@example.com": "active",
    }


def test_a_refusal_that_is_not_about_the_address_suppresses_nobody(
    app: App, clock: FixedClock, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", KEY)
    fake = Fake(mailgun_check)
    fake.cues.append((400, {}, '{"message": "message too large"}'))
    httpserver.expect_request("/v3/mg.example.org/messages", method="POST").respond_with_handler(
        fake
    )
    api = _api_app(
        app,
        clock,
        provider="mailgun",
        mailgun=MailgunSettings(domain="mg.example.org", base_url=httpserver.url_for("/")),
    )
    add_subscribers(app.engine, 1, now=clock.now())
    _edition(app, clock, "2026-03-02T06:00Z")
    assert (
        drain(api.engine, api.settings, clock=api.clock, mailer=api.mailer, once=True).failed == 1
    )
    assert _subscriber(app, "reader0@example.com").status == "active"
