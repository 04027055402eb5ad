"""Mailgun, SendGrid and Postmark against local HTTP servers speaking their APIs.

Each fake checks authentication, payload shape and batch limits the way the provider
does, and answers 200/400/401/429/500/503 on cue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from syndicate.core.clock import FixedClock
from syndicate.core.config import MailgunSettings, PostmarkSettings, SendgridSettings, Settings
from syndicate.core.db import deliveries
from syndicate.core.httpdates import parse_retry_after
from syndicate.delivery.drain import drain
from syndicate.delivery.mailers.base import OutgoingMessage
from syndicate.delivery.mailers.mailgun import MailgunMailer
from syndicate.delivery.mailers.postmark import PostmarkMailer
from syndicate.delivery.mailers.sendgrid import SendgridMailer, tag
from syndicate.service.context import App
from tests.support.deliveries import outgoing_messages, queued_edition

KEY = "key-123"


def outgoing(settings: Settings, count: int, *, bad: int | None = None) -> list[OutgoingMessage]:
    recipients = [
        ("not-an-address" if i == bad else f"r{i}@example.com", f"R & {i}") for i in range(count)
    ]
    return outgoing_messages(settings, recipients, reply_to="desk@news.example.org", first_id=0)


class Fake:
    """A provider endpoint: ``cues`` are (status, headers, body) answered first, in order."""

    def __init__(self, check: Callable[[Request], Response]) -> None:
        self.check = check
        self.cues: list[tuple[int, dict[str, str], str]] = []
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        request.get_data()  # keep the body readable after the handler returns
        self.requests.append(request)
        if self.cues:
            status, headers, body = self.cues.pop(0)
            return Response(body, status=status, headers=headers)
        return self.check(request)


def error(status: int, message: str) -> Response:
    return Response(json.dumps({"message": message}), status=status, mimetype="application/json")


# -- Mailgun ---------------------------------------------------------------------------------


def mailgun_check(request: Request) -> Response:
    auth = request.authorization
    if auth is None or (auth.username, auth.password) != ("api", KEY):
        return Response("Forbidden", status=401)
    to = request.form.getlist("to")
    if len(to) > 1000:
        return error(400, "Too many recipients")
    variables = json.loads(request.form["recipient-variables"])
    if any("@" not in t for t in to):
        return error(400, "to parameter is not a valid address. please check documentation")
    assert set(variables) == {t.split("<")[-1].rstrip(">") for t in to}
    return Response(json.dumps({"id": "<batch-1@mg.example.org>", "message": "Queued."}))


@pytest.fixture
def mailgun(httpserver: HTTPServer) -> Fake:
    fake = Fake(mailgun_check)
    httpserver.expect_request("/v3/mg.example.org/messages", method="POST").respond_with_handler(
        fake
    )
    return fake


def mailgun_mailer(httpserver: HTTPServer, key: str = KEY) -> MailgunMailer:
    return MailgunMailer(
        MailgunSettings(domain="mg.example.org", base_url=httpserver.url_for("/")), api_key=key
    )


def test_mailgun_batch_with_recipient_variables(
    settings: Settings, httpserver: HTTPServer, mailgun: Fake
) -> None:
    batch = outgoing(settings, 3)
    results = mailgun_mailer(httpserver).send_batch(batch)
    assert [r.outcome for r in results] == ["sent"] * 3
    assert results[0].provider_id == "<batch-1@mg.example.org>"
    (request,) = mailgun.requests
    form = request.form
    assert form.getlist("to") == [
        "R & 0 <r0@example.com>",
        "R & 1 <r1@example.com>",
        "R & 2 <r2@example.com>",
    ]
    variables = json.loads(form["recipient-variables"])
    assert variables["r1@example.com"]["unsubscribe_url"] == batch[1].recipient.unsubscribe_url
    assert variables["r1@example.com"]["name_html"] == "R &amp; 1"
    assert 'href="%recipient.unsubscribe_url_html%"' in form["html"]
    assert "Hello %recipient.name%," in form["text"]
    assert form["h:List-Unsubscribe"] == "<%recipient.unsubscribe_url%>"  # https only
    assert form["h:List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert form["h:Reply-To"] == "desk@news.example.org"
    assert form["h:Message-Id"] == "%recipient.message_id%"
    assert variables["r2@example.com"]["message_id"] == batch[2].recipient.message_id


def test_mailgun_regions() -> None:
    us = MailgunMailer(MailgunSettings(domain="d.org"), api_key="k")
    eu = MailgunMailer(MailgunSettings(domain="d.org", region="eu"), api_key="k")
    assert us.client.base_url == "https://api.mailgun.net"
    assert eu.client.base_url == "https://api.eu.mailgun.net"


def test_mailgun_one_bad_address_fails_alone(
    settings: Settings, httpserver: HTTPServer, mailgun: Fake
) -> None:
    results = mailgun_mailer(httpserver).send_batch(outgoing(settings, 8, bad=5))
    assert [r.outcome for r in results] == ["sent"] * 5 + ["permanent"] + ["sent"] * 2
    assert "not a valid address" in (results[5].error or "")
    assert len(mailgun.requests) <= 8


def test_mailgun_wrong_key_waits_for_the_operator(
    settings: Settings, httpserver: HTTPServer, mailgun: Fake
) -> None:
    results = mailgun_mailer(httpserver, key="wrong").send_batch(outgoing(settings, 4))
    assert {r.outcome for r in results} == {"temporary"}
    assert results[0].error == "authentication refused: HTTP 401: Forbidden"
    assert len(mailgun.requests) == 1


@pytest.mark.parametrize(
    ("status", "headers", "outcome", "wait"),
    [
        (429, {"Retry-After": "120"}, "temporary", 120.0),
        (503, {}, "temporary", None),
        (500, {}, "uncertain", None),
        (502, {}, "uncertain", None),
    ],
)
def test_mailgun_answers_on_cue(
    settings: Settings,
    httpserver: HTTPServer,
    mailgun: Fake,
    status: int,
    headers: dict[str, str],
    outcome: str,
    wait: float | None,
) -> None:
    mailgun.cues.append((status, headers, "busy"))
    results = mailgun_mailer(httpserver).send_batch(outgoing(settings, 2))
    assert [r.outcome for r in results] == [outcome] * 2
    assert results[0].retry_after == wait
    assert results[0].error == f"HTTP {status}: busy"


# -- SendGrid --------------------------------------------------------------------------------


def sendgrid_check(request: Request) -> Response:
    if request.headers.get("Authorization") != f"Bearer {KEY}":
        return Response(json.dumps({"errors": [{"message": "authorization required"}]}), 401)
    data = request.get_json()
    personalizations = data["personalizations"]
    if len(personalizations) > 1000:
        return Response(json.dumps({"errors": [{"message": "too many personalizations"}]}), 400)
    for item in personalizations:
        assert len(item["to"]) == 1
        assert set(item["substitutions"]) >= {tag("unsubscribe_url"), tag("name_html")}
    assert {c["type"] for c in data["content"]} == {"text/plain", "text/html"}
    return Response("", status=202, headers={"X-Message-Id": "sg-abc"})


@pytest.fixture
def sendgrid(httpserver: HTTPServer) -> Fake:
    fake = Fake(sendgrid_check)
    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_handler(fake)
    return fake


def sendgrid_mailer(httpserver: HTTPServer) -> SendgridMailer:
    return SendgridMailer(
        SendgridSettings(base_url=httpserver.url_for("/").rstrip("/")), api_key=KEY
    )


def test_sendgrid_personalizations(
    settings: Settings, httpserver: HTTPServer, sendgrid: Fake
) -> None:
    batch = outgoing(settings, 1001)
    mailer = sendgrid_mailer(httpserver)
    results = mailer.send_batch(batch[:1000]) + mailer.send_batch(batch[1000:])
    assert all(r.outcome == "sent" and r.provider_id == "sg-abc" for r in results)
    first = sendgrid.requests[0].get_json()
    assert len(first["personalizations"]) == 1000 and mailer.max_batch == 1000
    item = first["personalizations"][2]
    assert item["to"] == [{"email": "r2@example.com", "name": "R & 2"}]
    assert item["substitutions"][tag("name_html")] == "R &amp; 2"
    assert item["headers"]["List-Unsubscribe"].startswith(f"<{batch[2].recipient.unsubscribe_url}>")
    assert first["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert item["headers"]["Message-ID"] == batch[2].recipient.message_id
    html = next(c["value"] for c in first["content"] if c["type"] == "text/html")
    assert f'href="{tag("unsubscribe_url_html")}"' in html
    assert first["from"] == {"email": "news@news.example.org", "name": "Test News"}


def test_sendgrid_rate_limit_reset(
    settings: Settings, httpserver: HTTPServer, sendgrid: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import syndicate.delivery.mailers.http as http

    monkeypatch.setattr(http.time, "time", lambda: 1_800_000_000.0)  # a fixed clock
    sendgrid.cues.append((429, {"X-RateLimit-Reset": "1800000090"}, '{"errors":[]}'))
    result = sendgrid_mailer(httpserver).send_batch(outgoing(settings, 1))[0]
    assert result.outcome == "temporary"
    assert result.retry_after == 90


def test_sendgrid_bad_request_reports_the_providers_words(
    settings: Settings, httpserver: HTTPServer, sendgrid: Fake
) -> None:
    body = json.dumps({"errors": [{"message": "The from address does not match a sender"}]})
    sendgrid.cues.append((400, {"Content-Type": "application/json"}, body))
    result = sendgrid_mailer(httpserver).send_batch(outgoing(settings, 1))[0]
    assert result.outcome == "permanent"
    assert "does not match a sender" in (result.error or "")


# -- Postmark --------------------------------------------------------------------------------


def postmark_check(request: Request) -> Response:
    if request.headers.get("X-Postmark-Server-Token") != KEY:
        body = {"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied"}
        return Response(json.dumps(body), status=401)
    messages = json.loads(request.get_data())
    if len(messages) > 500:
        return Response(json.dumps({"ErrorCode": 300, "Message": "too many messages"}), 422)
    answer = []
    for i, message in enumerate(messages):
        assert message["MessageStream"] == "broadcast"
        if message["To"].endswith("<r3@example.com>"):
            answer.append(
                {
                    "ErrorCode": 406,
                    "Message": "You tried to send to recipient(s) that have "
                    "been marked as inactive.",
                    "To": message["To"],
                }
            )
        else:
            answer.append({"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{i}"})
    return Response(json.dumps(answer), mimetype="application/json")


@pytest.fixture
def postmark(httpserver: HTTPServer) -> Fake:
    fake = Fake(postmark_check)
    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(fake)
    return fake


def postmark_mailer(httpserver: HTTPServer) -> PostmarkMailer:
    return PostmarkMailer(PostmarkSettings(base_url=httpserver.url_for("/").rstrip("/")), token=KEY)


def test_postmark_reads_each_messages_error_code(
    settings: Settings, httpserver: HTTPServer, postmark: Fake
) -> None:
    batch = outgoing(settings, 5)
    results = postmark_mailer(httpserver).send_batch(batch)
    assert [r.outcome for r in results] == ["sent", "sent", "sent", "permanent", "sent"]
    assert results[3].error and results[3].error.startswith("Postmark 406: ")
    assert results[4].provider_id == "pm-4"
    (request,) = postmark.requests
    message = json.loads(request.get_data())[1]
    assert message["HtmlBody"] == batch[1].edition.html_for(batch[1].recipient)
    assert "R &amp; 1" in message["HtmlBody"]
    headers = {h["Name"]: h["Value"] for h in message["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Message-ID"] == batch[1].recipient.message_id
    assert message["ReplyTo"] == "desk@news.example.org"


def test_postmark_splits_at_500(settings: Settings, httpserver: HTTPServer, postmark: Fake) -> None:
    results = postmark_mailer(httpserver).send_batch(outgoing(settings, 501))
    assert len(results) == 501 and sum(r.outcome == "sent" for r in results) == 500
    assert [len(json.loads(r.get_data())) for r in postmark.requests] == [500, 1]


def test_postmark_unreadable_200_is_uncertain(
    settings: Settings, httpserver: HTTPServer, postmark: Fake
) -> None:
    postmark.cues.append((200, {}, "<html>proxy</html>"))
    results = postmark_mailer(httpserver).send_batch(outgoing(settings, 2))
    assert [r.outcome for r in results] == ["uncertain", "uncertain"]


# -- shared rules ----------------------------------------------------------------------------


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now.timestamp()) == 30
    later = format_datetime(now + timedelta(minutes=2), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == 120
    assert parse_retry_after("soon", now=now.timestamp()) is None
    # "-0000" (no zone given) is still UTC: HTTP dates always are.
    assert parse_retry_after("Mon, 02 Mar 2026 09:01:00 -0000", now=now.timestamp()) == 60
    assert parse_retry_after(None) is None


def test_connection_refused_is_temporary(settings: Settings) -> None:
    from tests.support import free_port

    mailer = PostmarkMailer(PostmarkSettings(base_url=f"http://127.0.0.1:{free_port()}"), token=KEY)
    results = mailer.send_batch(outgoing(settings, 2))
    assert [r.outcome for r in results] == ["temporary", "temporary"]


def test_drain_through_postmark_honours_retry_after(
    app: App,
    clock: FixedClock,
    httpserver: HTTPServer,
    postmark: Fake,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POSTMARK_SERVER_TOKEN", KEY)
    mail = app.settings.mail.model_copy(
        update={
            "provider": "postmark",
            "postmark": PostmarkSettings(base_url=httpserver.url_for("/").rstrip("/")),
        }
    )
    api_app = App(app.settings.model_copy(update={"mail": mail}), clock=clock, _engine=app.engine)
    queued_edition(app.engine, 6, now=clock.now())
    postmark.cues.append((429, {"Retry-After": "600"}, '{"ErrorCode": 429}'))
    report = drain(
        api_app.engine, api_app.settings, clock=api_app.clock, mailer=api_app.mailer, once=True
    )
    assert report.deferred == 6 and report.sent == 0 and len(postmark.requests) == 1
    with app.engine.connect() as conn:
        not_before = set(conn.execute(select(deliveries.c.not_before)).scalars())
    assert not_before == {clock.now() + timedelta(seconds=600)}
    clock.advance(seconds=599)
    assert (
        drain(
            api_app.engine, api_app.settings, clock=api_app.clock, mailer=api_app.mailer, once=True
        ).sent
        == 0
    )
    clock.advance(seconds=2)
    report = drain(
        api_app.engine, api_app.settings, clock=api_app.clock, mailer=api_app.mailer, once=True
    )
    assert report.sent == 6
    assert len(postmark.requests) == 2
