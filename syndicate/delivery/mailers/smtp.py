"""SMTP: one connection reused for many messages, reconnecting when it drops.

STARTTLS, implicit TLS or plain; AUTH when a username is set. ``TCP_NODELAY`` is set
on the socket: without it each small SMTP command waits on Nagle's algorithm and a
STARTTLS session runs at a fraction of its speed. Reply codes map to outcomes:
4xx temporary, 5xx permanent (per recipient, from RCPT or DATA). A connection that
drops before the message content was sent is re-opened and the message tried once
more; one that drops or falls silent after the content (smtplib reports a socket
timeout as a disconnect) may have delivered it, so the answer is ``uncertain``.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
from collections.abc import Callable, Sequence
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path

from syndicate.core.config import Settings, SmtpSettings, secret
from syndicate.core.tls import client_context
from syndicate.delivery.mailers.base import Outcome, OutgoingMessage, SendResult
from syndicate.delivery.mailers.bounces import smtp_bounce

log = logging.getLogger(__name__)


class _Dropped(Exception):
    """The connection broke before the message content was sent: safe to retry."""


class _ConnectFailed(Exception):
    def __init__(self, result: SendResult) -> None:
        super().__init__(result.error)
        self.result = result


def _words(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"[:500]


def _by_code(code: int, message: bytes | str, *, about_recipient: bool = False) -> SendResult:
    """A negative reply as a result; one about the recipient (RCPT, or the reply to
    the message) may be a bounce of the address."""
    outcome: Outcome = "permanent" if 500 <= code < 600 else "temporary"
    words = _words(code, message)
    bounce = smtp_bounce(code, words.partition(" ")[2]) if about_recipient else None
    return SendResult(outcome, error=words, bounce=bounce)


def _data_content(raw: bytes) -> bytes:
    """The message as sent after ``354``: leading dots doubled, ended by ``CRLF.CRLF``.

    A dot begins a line at the start or after a newline: one native ``replace`` pass
    (a regex per message cost more than the rest of the send loop).
    """
    body = raw.replace(b"\n.", b"\n..")
    if body.startswith(b"."):
        body = b"." + body
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


@lru_cache(maxsize=64)
def _envelope_from(from_addr: str) -> str:
    return parseaddr(from_addr)[1]


class SmtpMailer:
    name = "smtp"
    # One message per call: the outbox records each acceptance at once, so a crash
    # re-sends at most the one message in flight.
    max_batch = 1

    def __init__(
        self, settings: SmtpSettings, *, password: str | None = None, ca_file: Path | None = None
    ) -> None:
        self.settings = settings
        # Built once (a bad ca_file is a config error at start-up, not mid-send);
        # ``ca_file`` is resolved against the config file's folder by ``build``.
        self.tls = client_context(
            verify=settings.verify_tls, ca_file=ca_file, key="mail.smtp.ca_file"
        )
        self.password = password
        self.conn: smtplib.SMTP | None = None
        self.connections = 0  # how many times a connection was opened (for tests/metrics)
        # Called just before DATA (see _send_one); the drain loop sets it.
        self.gate: Callable[[], None] | None = None

    # -- connection ---------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=self.tls
                )
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if conn.sock is not None:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if s.security == "starttls":
                conn.starttls(context=self.tls)
                conn.ehlo()
            if s.username:
                conn.login(s.username, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise _ConnectFailed(
                SendResult(
                    "temporary", error=f"SMTP AUTH refused: {_words(exc.smtp_code, exc.smtp_error)}"
                )
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise _ConnectFailed(SendResult("temporary", error=f"SMTP server: {exc}")) from None
        except smtplib.SMTPResponseException as exc:
            raise _ConnectFailed(
                SendResult(
                    "temporary", error=f"SMTP greeting: {_words(exc.smtp_code, exc.smtp_error)}"
                )
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise _ConnectFailed(
                SendResult("temporary", error=f"cannot connect to {s.host}:{s.port}: {exc}")
            ) from None
        self.connections += 1
        log.debug("smtp connected to %s:%s", s.host, s.port)
        return conn

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
        self.conn = None

    # -- sending ------------------------------------------------------------------------

    def _refused(self, code: int, words: bytes, *, about_recipient: bool = False) -> SendResult:
        """A negative reply mid-transaction: reset (or drop on 421) and say why."""
        if code == 421:
            self._drop()
        elif self.conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.conn.rset()
        return _by_code(code, words, about_recipient=about_recipient)

    def _send_one(self, message: OutgoingMessage, envelope_from: str) -> SendResult:
        """One attempt on the current connection (opened if needed).

        MAIL, ``gate()``, MAIL's reply, RCPT, DATA: the server accepts the message only
        at the end of DATA, so the caller records the previous acceptance while MAIL
        travels, and still never has two acceptances unrecorded.
        """
        if self.conn is None or self.conn.sock is None:
            self.conn = self._connect()
        conn = self.conn
        rcpt = message.recipient.email
        in_data = False
        try:
            # MAIL as smtplib's mail() sends it, with the gate between the command and
            # its reply: the previous acceptance is recorded while the server answers.
            conn.putcmd("mail", f"FROM:{smtplib.quoteaddr(envelope_from)}")
            if self.gate is not None:
                try:
                    self.gate()
                except BaseException:
                    self._drop()
                    raise
            code, words = conn.getreply()
            if code != 250:
                return self._refused(code, words)
            code, words = conn.rcpt(rcpt)
            if code not in (250, 251):
                return self._refused(code, words, about_recipient=True)
            # DATA in two steps (smtplib's data() does both): a drop before the 354
            # reply is safe to retry, one after the content went out is not.
            code, words = conn.docmd("DATA")
            if code != 354:
                return self._refused(code, words)
            in_data = True
            conn.send(_data_content(message.raw()))
            code, words = conn.getreply()
            if code != 250:
                return self._refused(code, words, about_recipient=True)
        except smtplib.SMTPServerDisconnected as exc:  # also a timeout: smtplib wraps it
            self._drop()
            reason = str(exc) or "connection closed"
            if in_data:
                # The content went out; the server may have accepted it before going
                # silent or away. A blind retry could deliver it twice.
                return SendResult("uncertain", error=f"SMTP connection lost after DATA: {reason}")
            raise _Dropped(reason) from None
        except UnicodeEncodeError:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                conn.rset()
            return SendResult("permanent", error="the address needs SMTPUTF8, not supported")
        except OSError as exc:
            self._drop()
            if in_data:
                return SendResult("uncertain", error=f"SMTP connection lost after DATA: {exc}")
            raise _Dropped(f"connection lost: {exc}") from None
        return SendResult("sent", provider_id=None)

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for index, message in enumerate(batch):
            envelope_from = message.recipient.envelope_from or _envelope_from(
                message.edition.content.from_addr
            )
            try:
                try:
                    result = self._send_one(message, envelope_from)
                except _Dropped:
                    # Dropped before the content (e.g. an idle connection the server
                    # closed): nothing was accepted, so open a new one and try again.
                    try:
                        result = self._send_one(message, envelope_from)
                    except _Dropped as exc:
                        result = SendResult("temporary", error=f"connection dropped twice: {exc}")
            except _ConnectFailed as failed:
                # The server is unreachable or refuses us: the rest of the batch waits.
                results.extend([failed.result] * (len(batch) - index))
                return results
            if result.outcome != "sent" and self.conn is not None and self.conn.sock is None:
                self.conn = None
            results.append(result)
        return results

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.conn.quit()
        self._drop()


def build(settings: Settings) -> SmtpMailer:
    """The registry's factory: ``[mail.smtp]`` and its password from the environment."""
    smtp = settings.mail.smtp
    return SmtpMailer(
        smtp,
        password=secret(smtp.password_env, key="mail.smtp.password_env"),
        ca_file=settings.resolve(smtp.ca_file) if smtp.ca_file else None,
    )
