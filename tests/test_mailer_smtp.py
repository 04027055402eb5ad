"""The SMTP mailer against a real aiosmtpd server on loopback."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import Engine, select

from syndicate.core.clock import FixedClock
from syndicate.core.config import Settings, SmtpSettings
from syndicate.core.db import deliveries
from syndicate.core.errors import ConfigError
from syndicate.core.tokens import Signer
from syndicate.delivery.drain import drain
from syndicate.delivery.mailers.base import OutgoingMessage
from syndicate.delivery.mailers.smtp import SmtpMailer
from syndicate.delivery.messages import EditionContent, prepare, recipient_for
from syndicate.service.context import App
from tests.support import T0, free_port
from tests.support.deliveries import SmtpSink, outgoing_messages, queued_edition, self_signed

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")


def start(handler: SmtpSink, **kwargs: object) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@pytest.fixture
def sink() -> Iterator[tuple[SmtpSink, int]]:
    handler = SmtpSink()
    controller, port = start(handler)
    yield handler, port
    controller.stop()


def messages(settings: Settings, *addresses: str) -> list[OutgoingMessage]:
    return outgoing_messages(settings, [(address, "") for address in addresses])


def plain(port: int, **kw: object) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=10, **kw)


def test_one_connection_for_many_messages(settings: Settings, sink: tuple[SmtpSink, int]) -> None:
    handler, port = sink
    mailer = SmtpMailer(plain(port))
    outgoing = messages(settings, *(f"r{i}@example.com" for i in range(20)))
    results = [mailer.send_batch([m])[0] for m in outgoing]
    assert all(r.outcome == "sent" for r in results)
    assert mailer.connections == 1 and handler.sessions == 1
    assert mailer.conn is not None and mailer.conn.sock is not None
    assert mailer.conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    mailer.close()
    assert [rcpt for rcpt, _ in handler.messages] == [f"r{i}@example.com" for i in range(20)]
    received = message_from_bytes(handler.messages[3][1])
    assert received["Message-ID"] == outgoing[3].message_id
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_replies_on_cue(settings: Settings, sink: tuple[SmtpSink, int]) -> None:
    handler, port = sink
    handler.cues.update(
        {
            "later@example.com": "451 4.7.1 greylisted, try later",
            "nobody@example.com": "550 5.1.1 no such user here",
            "busy@example.com": "421 4.3.2 closing, too busy",
            "full@example.com": "data:552 5.2.2 mailbox full",
        }
    )
    mailer = SmtpMailer(plain(port))
    outgoing = messages(
        settings,
        "later@example.com",
        "nobody@example.com",
        "busy@example.com",
        "ok@example.com",
        "full@example.com",
    )
    results = [mailer.send_batch([m])[0] for m in outgoing]
    assert [r.outcome for r in results] == [
        "temporary",
        "permanent",
        "temporary",
        "sent",
        "permanent",
    ]
    assert results[0].error == "451 4.7.1 greylisted, try later"
    assert results[1].error == "550 5.1.1 no such user here"
    assert results[4].error == "552 5.2.2 mailbox full"
    # 421 closed the connection; the next message went over a new one.
    assert mailer.connections == 2
    assert [rcpt for rcpt, _ in handler.messages] == ["ok@example.com"]
    mailer.close()


def test_reconnects_after_a_drop_before_the_content(
    settings: Settings, sink: tuple[SmtpSink, int]
) -> None:
    handler, port = sink
    handler.cues["flaky@example.com"] = "drop at rcpt"
    mailer = SmtpMailer(plain(port))
    outgoing = messages(settings, "a@example.com", "flaky@example.com", "b@example.com")
    results = mailer.send_batch(outgoing)
    assert [r.outcome for r in results] == ["sent", "sent", "sent"]
    # Nothing had been sent when the line dropped: one retry, one copy.
    assert [rcpt for rcpt, _ in handler.messages].count("flaky@example.com") == 1
    assert mailer.connections == 2
    mailer.close()


def test_a_drop_after_the_content_is_not_retried(
    settings: Settings, sink: tuple[SmtpSink, int]
) -> None:
    handler, port = sink
    handler.cues["flaky@example.com"] = "drop"
    mailer = SmtpMailer(plain(port))
    outgoing = messages(settings, "a@example.com", "flaky@example.com", "b@example.com")
    results = mailer.send_batch(outgoing)
    # The server had the message when the line dropped: resending now would duplicate it.
    assert [r.outcome for r in results] == ["sent", "uncertain", "sent"]
    assert [rcpt for rcpt, _ in handler.messages].count("flaky@example.com") == 1
    mailer.close()


def test_unreachable_server_defers_the_batch(settings: Settings) -> None:
    mailer = SmtpMailer(plain(free_port()))
    results = mailer.send_batch(messages(settings, "a@example.com", "b@example.com"))
    assert [r.outcome for r in results] == ["temporary", "temporary"]
    assert results[0].error and "cannot connect" in results[0].error


def _auth(valid: tuple[bytes, bytes]):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == valid
        return AuthResult(success=ok, handled=False)

    return authenticator


def test_auth_refused_and_accepted(settings: Settings) -> None:
    handler = SmtpSink()
    controller, port = start(
        handler,
        authenticator=_auth((b"news", b"s3cret")),
        auth_require_tls=False,
        auth_required=True,
    )
    try:
        wrong = SmtpMailer(plain(port, username="news"), password="nope")
        results = wrong.send_batch(messages(settings, "a@example.com"))
        assert results[0].outcome == "temporary"
        assert results[0].error and results[0].error.startswith("SMTP AUTH refused: 535")
        right = SmtpMailer(plain(port, username="news"), password="s3cret")
        assert right.send_batch(messages(settings, "a@example.com"))[0].outcome == "sent"
        right.close()
    finally:
        controller.stop()
    assert [rcpt for rcpt, _ in handler.messages] == ["a@example.com"]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_modes(settings: Settings, tmp_path: Path, security: str) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    handler = SmtpSink()
    options = {"tls_context": context, "require_starttls": True}
    if security == "ssl":
        options = {"ssl_context": context}
    controller, port = start(handler, **options)
    try:
        strict = SmtpMailer(
            SmtpSettings(host="127.0.0.1", port=port, security=security, timeout=10)
        )
        refused = strict.send_batch(messages(settings, "a@example.com"))[0]
        assert refused.outcome == "temporary"  # the self-signed certificate is not trusted
        mailer = SmtpMailer(
            SmtpSettings(
                host="127.0.0.1", port=port, security=security, timeout=10, verify_tls=False
            )
        )
        result = mailer.send_batch(messages(settings, "a@example.com"))[0]
        assert result.outcome == "sent"
        assert mailer.conn is not None and isinstance(mailer.conn.sock, ssl.SSLSocket)
        mailer.close()
        # The operator's own CA instead of switching verification off.
        trusting = SmtpMailer(
            SmtpSettings(host="127.0.0.1", port=port, security=security, timeout=10),
            ca_file=cert,
        )
        assert trusting.send_batch(messages(settings, "b@example.com"))[0].outcome == "sent"
        trusting.close()
    finally:
        controller.stop()
    assert [rcpt for rcpt, _ in handler.messages] == ["a@example.com", "b@example.com"]


def test_an_unusable_ca_file_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    missing, garbage = tmp_path / "missing.pem", tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    for path, words in ((missing, "cannot read"), (garbage, "no usable PEM certificate")):
        with pytest.raises(ConfigError) as caught:
            SmtpMailer(SmtpSettings(host="127.0.0.1"), ca_file=path)
        assert caught.value.message.startswith("mail.smtp.ca_file: ")
        assert words in caught.value.message and str(path) in caught.value.message


@pytest.fixture
def config_extra() -> str:
    return "[mail.smtp]\nsecurity = 'none'\nport = 2525\n"


def test_drain_over_smtp(app: App, clock: FixedClock, sink: tuple[SmtpSink, int]) -> None:
    handler, port = sink
    handler.cues["reader1@example.com"] = "550 5.1.1 unknown"
    handler.cues["reader2@example.com"] = "451 4.4.1 later"
    settings = app.settings.model_copy(
        update={
            "mail": app.settings.mail.model_copy(update={"provider": "smtp", "smtp": plain(port)})
        }
    )
    smtp_app = App(settings, clock=clock, _engine=app.engine)
    queued_edition(app.engine, 5, now=clock.now())
    report = drain(
        smtp_app.engine, smtp_app.settings, clock=smtp_app.clock, mailer=smtp_app.mailer, once=True
    )
    assert (report.sent, report.failed, report.deferred) == (3, 1, 1)
    assert sorted(rcpt for rcpt, _ in handler.messages) == [
        "reader0@example.com",
        "reader3@example.com",
        "reader4@example.com",
    ]
    assert handler.sessions == 1  # one connection for the whole drain


class WindowSink(SmtpSink):
    """At each DATA, counts the messages it accepted earlier that the store does not
    yet say were sent: what a kill -9 at that moment would send twice."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.unrecorded: list[int] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.engine.connect() as conn:
            query = select(deliveries.c.email).where(deliveries.c.status == "sent")
            recorded = set(conn.execute(query).scalars())
        with self.lock:
            accepted = {rcpt for rcpt, _ in self.messages}
        self.unrecorded.append(len(accepted - recorded))
        return await super().handle_DATA(server, session, envelope)


def test_each_acceptance_is_recorded_before_the_next_data(app: App, clock: FixedClock) -> None:
    """The previous acceptance is committed while the next MAIL travels, never later
    than the next DATA: at most the one message in flight is ever unrecorded."""
    handler = WindowSink(app.engine)
    controller, port = start(handler)
    try:
        mail = app.settings.mail.model_copy(update={"provider": "smtp", "smtp": plain(port)})
        smtp_app = App(
            app.settings.model_copy(update={"mail": mail}), clock=clock, _engine=app.engine
        )
        queued_edition(app.engine, 30, now=clock.now())
        report = drain(
            smtp_app.engine,
            smtp_app.settings,
            clock=smtp_app.clock,
            mailer=smtp_app.mailer,
            once=True,
        )
    finally:
        controller.stop()
    assert report.sent == 30
    assert len(handler.unrecorded) == 30
    assert max(handler.unrecorded) == 0, handler.unrecorded


def test_dropped_or_silent_after_data_is_uncertain(
    settings: Settings, sink: tuple[SmtpSink, int]
) -> None:
    handler, port = sink
    handler.cues["gone@example.com"] = "drop always"
    handler.cues["slow@example.com"] = "hang"
    mailer = SmtpMailer(plain(port).model_copy(update={"timeout": 0.5}))
    gone, slow, ok = mailer.send_batch(
        messages(settings, "gone@example.com", "slow@example.com", "ok@example.com")
    )
    # The server had the content both times: it may have gone, so no blind retry.
    assert gone.outcome == "uncertain" and "after DATA" in (gone.error or "")
    assert slow.outcome == "uncertain" and "timed out" in (slow.error or "")
    assert ok.outcome == "sent"  # a fresh connection after each failure
    rcpts = [rcpt for rcpt, _ in handler.messages]
    assert rcpts.count("gone@example.com") == 1
    assert rcpts.count("slow@example.com") <= 1  # one attempt (the server may finish it)
    mailer.close()


def test_lines_that_begin_with_a_dot_arrive_intact(
    settings: Settings, sink: tuple[SmtpSink, int]
) -> None:
    handler, port = sink
    content = EditionContent(
        1,
        "weekly",
        "Weekly",
        "<p>x</p>",
        ".starts with a dot\n..two dots\n.\nend @@email@@\n",
        "Test News <news@news.example.org>",
        None,
        "weekly.news.example.org",
        T0,
    )
    prepared = prepare(content, settings)
    recipient = recipient_for(
        settings,
        Signer([b"k" * 32]),
        delivery_id=1,
        subscriber_id=1,
        email="dots@example.com",
        name="",
        edition_id=1,
        now=T0,
    )
    outgoing = OutgoingMessage(prepared, recipient)
    mailer = SmtpMailer(plain(port))
    assert mailer.send_batch([outgoing])[0].outcome == "sent"
    mailer.close()
    received = handler.messages[0][1]
    assert received.replace(b"\r\n", b"\n") == outgoing.raw().replace(b"\r\n", b"\n")
    text = message_from_bytes(received).get_payload()[0].get_payload(decode=True)
    assert text == b".starts with a dot\r\n..two dots\r\n.\r\nend dots@example.com\r\n"
