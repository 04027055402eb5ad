"""SMTP: one connection reused for many messages, reconnecting when it drops.

STARTTLS, implicit TLS or plain; AUTH when a username is set. ``TCP_NODELAY`` is set
on the socket: without it each small SMTP command waits on Nagle's algorithm and a
STARTTLS session runs at a fraction of its speed. Reply codes map to outcomes:
4xx temporary, 5xx permanent (per recipient, from RCPT or DATA). A connection that
drops is re-opened and the message tried once more under the same Message-ID.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from email.utils import parseaddr
from functools import lru_cache

from ..config import SmtpSettings
from .base import OutgoingMessage, SendResult

log = logging.getLogger(__name__)


class _Dropped(Exception):
    """The connection broke; ``in_data``: after the content started (it may have gone)."""

    def __init__(self, reason: str, *, in_data: bool) -> None:
        super().__init__(reason)
        self.in_data = in_data


class _ConnectFailed(Exception):
    def __init__(self, result: SendResult) -> None:
        super().__init__(result.error)
        self.result = result


def _words(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"[:500]


def _by_code(code: int, message: bytes | str) -> SendResult:
    outcome = "permanent" if 500 <= code < 600 else "temporary"
    return SendResult(outcome, error=_words(code, message))


@lru_cache(maxsize=64)
def _envelope_from(from_addr: str) -> str:
    return parseaddr(from_addr)[1]


class SmtpMailer:
    name = "smtp"
    # One message per call: the outbox records each acceptance at once, so a crash
    # re-sends at most the one message in flight.
    max_batch = 1

    def __init__(self, settings: SmtpSettings, *, password: str | None = None) -> None:
        self.settings = settings
        self.password = password
        self.conn: smtplib.SMTP | None = None
        self.connections = 0  # how many times a connection was opened (for tests/metrics)
        # Called just before DATA (see _send_one); the drain loop sets it.
        self.gate: Callable[[], None] | None = None

    # -- connection ---------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=self._tls_context()
                )
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if conn.sock is not None:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if s.security == "starttls":
                conn.starttls(context=self._tls_context())
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

    def _refused(self, code: int, words: bytes) -> SendResult:
        """A negative reply mid-transaction: reset (or drop on 421) and say why."""
        if code == 421:
            self._drop()
        elif self.conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.conn.rset()
        return _by_code(code, words)

    def _send_one(self, message: OutgoingMessage, envelope_from: str) -> SendResult:
        """One attempt on the current connection (opened if needed).

        MAIL, RCPT, then ``gate()``, then DATA: the server accepts the message only at
        the end of DATA, so the caller can finish recording the previous acceptance
        while MAIL and RCPT travel, and still never have two acceptances unrecorded.
        """
        if self.conn is None or self.conn.sock is None:
            self.conn = self._connect()
        conn = self.conn
        rcpt = message.recipient.email
        in_data = False
        try:
            code, words = conn.mail(envelope_from)
            if code != 250:
                return self._refused(code, words)
            code, words = conn.rcpt(rcpt)
            if code not in (250, 251):
                return self._refused(code, words)
            if self.gate is not None:
                try:
                    self.gate()
                except BaseException:
                    self._drop()
                    raise
            in_data = True
            code, words = conn.data(message.raw())
            if code != 250:
                return self._refused(code, words)
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise _Dropped(str(exc) or "connection closed", in_data=in_data) from None
        except TimeoutError as exc:
            self._drop()
            # Before DATA nothing can have been accepted; during it, it may have been.
            outcome = "uncertain" if in_data else "temporary"
            return SendResult(outcome, error=f"SMTP server did not answer in time: {exc}")
        except smtplib.SMTPResponseException as exc:  # DATA refused before the content
            return self._refused(exc.smtp_code, exc.smtp_error)
        except UnicodeEncodeError:
            self._refused(0, b"")
            return SendResult("permanent", error="the address needs SMTPUTF8, not supported")
        except OSError as exc:
            self._drop()
            raise _Dropped(f"connection lost: {exc}", in_data=in_data) from None
        return SendResult("sent", provider_id=None)

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for index, message in enumerate(batch):
            envelope_from = _envelope_from(message.edition.content.from_addr)
            try:
                try:
                    result = self._send_one(message, envelope_from)
                except _Dropped:
                    # Dropped mid-conversation: open a new connection and try again,
                    # under the same Message-ID so a receiver can drop a duplicate.
                    try:
                        result = self._send_one(message, envelope_from)
                    except _Dropped as exc:
                        outcome = "uncertain" if exc.in_data else "temporary"
                        result = SendResult(outcome, error=f"connection dropped twice: {exc}")
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
