"""Drain the outbox: claim a batch -> build the messages -> hand them over -> record.

The service, ``syndicate worker`` and ``syndicate deliver`` all call ``drain``. Each
edition is prepared once per drain (``messages.prepare``) and personalised per row.
Around the mailer sit a rate limit (messages per second with a burst), a concurrency
limit (``mail.concurrency`` threads, each with its own mailer and worker id) and a
circuit breaker that pauses sending after ``delivery.breaker_failures`` calls in a
row where nothing was accepted.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from syndicate.core.clock import Clock
from syndicate.core.config import Settings
from syndicate.core.db import transaction
from syndicate.core.errors import DeliveryError, StoreError
from syndicate.core.tokens import Signer, signer_for
from syndicate.delivery.clicks import counted
from syndicate.delivery.mailers.base import GatedMailer, Mailer, OutgoingMessage, SendResult
from syndicate.delivery.mailers.limits import CircuitBreaker, RateLimiter
from syndicate.delivery.messages import PreparedEdition, edition_content, prepare, recipient_for
from syndicate.delivery.outbox import (
    Claimed,
    Outcome,
    SentMarks,
    claim,
    edition_row,
    record,
    release,
)
from syndicate.delivery.workers import heartbeat, retire
from syndicate.readers import subscribers

log = logging.getLogger(__name__)

MailerFactory = Callable[[], Mailer]  # a new mailer per worker thread (each owns its own)

PREPARED_EDITIONS = 4  # editions kept prepared by a drain (the oldest is dropped)


@dataclass
class DrainReport:
    """What one drain did; ``paused`` when the circuit breaker stopped it."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    suppressed: int = 0
    uncertain: int = 0
    calls: int = 0
    paused: bool = False
    last_error: str | None = None  # the last provider or disk error of the drain

    def add(self, counts: dict[str, int]) -> None:
        for key, value in counts.items():
            if hasattr(self, key):
                setattr(self, key, getattr(self, key) + value)

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class _Drainer:
    """State one drain shares between its threads."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Clock,
        mailer: MailerFactory,
        once: bool,
        stop: threading.Event,
        progress: Callable[[int], None] | None,
        limiter: RateLimiter,
        breaker: CircuitBreaker,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.new_mailer = mailer
        self.once = once
        self.stop = stop
        self.progress = progress
        self.limiter = limiter
        self.breaker = breaker
        self.report = DrainReport()
        self.halt = threading.Event()  # one thread failed: the others stop too
        self.lock = threading.Lock()
        # The last few editions only: under ``syndicate run`` one drain lives for days.
        self.prepared: OrderedDict[tuple[int, int | None], PreparedEdition] = OrderedDict()
        self.signer: Signer = signer_for(settings, engine)
        policy = self.settings.delivery
        # A claim must finish well inside its lease even at the configured rate. The
        # threads share one rate limiter, so each gets its share of the rate.
        mail = self.settings.mail
        by_rate = int(mail.rate_per_second / mail.concurrency * policy.lease_seconds / 2)
        self.claim_size = max(1, min(policy.batch_size, by_rate))

    def now(self) -> datetime:
        return self.clock.now()

    def edition(self, edition_id: int, variant_id: int | None = None) -> PreparedEdition:
        """Rendered once while recent: parts pre-encoded, then personalised per row.

        ``variant_id``: a reader's variant of the edition (its subject, HTML and text).
        The store read and the preparation (DKIM key read) run outside the lock the
        threads share; two threads may both prepare an edition once, which is harmless.
        """
        cache_key = (edition_id, variant_id)
        with self.lock:
            found = self.prepared.get(cache_key)
            if found is not None:
                self.prepared.move_to_end(cache_key)
                return found
        with self.engine.connect() as conn:
            row = edition_row(conn, edition_id, variant_id)
        content = counted(self.settings, self.signer, edition_content(self.settings, row))
        prepared = prepare(content, self.settings)
        with self.lock:
            self.prepared[cache_key] = prepared
            while len(self.prepared) > PREPARED_EDITIONS:
                self.prepared.popitem(last=False)
        return prepared

    def tally(self, counts: dict[str, int], done: int) -> None:
        with self.lock:
            self.report.add(counts)
        if self.progress is not None and done:
            self.progress(done)

    def outgoing(self, rows: Sequence[Claimed], edition: PreparedEdition) -> list[OutgoingMessage]:
        now = self.now()
        return [
            OutgoingMessage(
                edition,
                recipient_for(
                    self.settings,
                    self.signer,
                    delivery_id=row.id,
                    subscriber_id=row.subscriber_id,
                    email=row.email,
                    name=row.name,
                    edition_id=row.edition_id,
                    now=now,
                    message_id=row.message_id,
                    feed_key=row.feed_key,
                ),
            )
            for row in rows
        ]

    def hand_over(self, mailer: Mailer, batch: list[OutgoingMessage]) -> list[SendResult]:
        try:
            results = mailer.send_batch(batch)
        except RecorderFailed:
            raise
        except Exception as exc:  # a mailer bug must not lose the rows: retry them later
            # The request may have reached the provider before it failed: uncertain, so
            # the retry reuses the Message-ID and the row is counted apart.
            log.exception("mailer %s failed on a batch of %d", mailer.name, len(batch))
            return [SendResult("uncertain", error=f"{type(exc).__name__}: {exc}")] * len(batch)
        if len(results) != len(batch):
            log.error("mailer %s answered %d results for %d", mailer.name, len(results), len(batch))
            return [SendResult("uncertain", error="mailer answered the wrong number")] * len(batch)
        return results

    def run(self, worker_id: str) -> None:
        """One worker's loop: claim, send in mailer-sized calls, record each call."""
        policy = self.settings.delivery
        with transaction(self.engine) as conn:
            released = release(conn, worker_id=worker_id, now=self.now(), in_flight=True)
        if released:
            log.info("worker %s took back %d rows it held before a restart", worker_id, released)
        mailer = self.new_mailer()
        heartbeat(self.engine, self.clock, worker_id)
        try:
            while not (self.stop.is_set() or self.halt.is_set()):
                pause = self.breaker.remaining()
                if pause > 0:
                    if self.once:
                        with self.lock:
                            self.report.paused = True
                        return
                    self.stop.wait(pause)
                    continue
                with transaction(self.engine) as conn:
                    batch = claim(
                        conn,
                        worker_id=worker_id,
                        now=self.now(),
                        lease_seconds=policy.lease_seconds,
                        limit=self.claim_size,
                    )
                if not batch:
                    if self.once:
                        return
                    heartbeat(self.engine, self.clock, worker_id)
                    self.stop.wait(self.settings.schedule.deliver_every_seconds)
                    continue
                self.tally(
                    {"claimed": len(batch.rows), "suppressed": batch.suppressed}, batch.suppressed
                )
                if batch.rows:
                    sent = self.send_rows(mailer, worker_id, batch.rows)
                    heartbeat(self.engine, self.clock, worker_id, sent=sent)
        finally:
            mailer.close()
            if self.once:  # a one-off drain is done: it is no longer a worker
                retire(self.engine, worker_id)

    def store(
        self,
        worker_id: str,
        outcomes: list[Outcome],
        connection: Connection | None = None,
        *,
        last: bool = True,
        marks: SentMarks | None = None,
    ) -> None:
        """Record one provider call's outcomes in their own transaction; ``last``: the
        claim's final call (only then can the edition have finished).

        Acceptances alone mid-claim (SMTP's usual call) take the short way: one
        statement in a transaction of their own on ``connection``, through ``marks``.
        """
        if (
            marks is not None
            and connection is not None
            and not last
            and all(item.outcome == "sent" for item in outcomes)
        ):
            marks.commit(connection, outcomes, worker_id, self.now())
            self.tally({"sent": len(outcomes), "calls": 1}, len(outcomes))
            return
        with _begin(self.engine, connection) as conn:
            counts: dict[str, int] = record(
                conn,
                outcomes,
                worker_id=worker_id,
                now=self.now(),
                policy=self.settings.delivery,
                announce=last,
                marks=marks,
            )
            apply_bounces(conn, outcomes, now=self.now(), limit=self.settings.web.soft_bounce_limit)
        counts["calls"] = 1
        self.tally(counts, len(outcomes))

    def send_rows(self, mailer: Mailer, worker_id: str, rows: list[Claimed]) -> int:
        """Send one claimed batch in mailer-sized calls; returns how many were accepted.

        A mailer with a ``gate`` (SMTP) sends one message per call; each acceptance
        is recorded while the next message's MAIL command travels, and before its DATA
        (see ``_Recorder``): the overlap costs nothing in safety.
        """
        edition = self.edition(rows[0].edition_id, rows[0].variant_id)
        size = max(1, mailer.max_batch)
        # A row whose earlier call was uncertain goes alone (and is first looked up where
        # the provider can say it took it): a second timeout then risks one message, not
        # a batch. The others go in mailer-sized calls.
        retried = [row for row in rows if row.uncertain_attempts]
        fresh = [row for row in rows if not row.uncertain_attempts]
        chunks = [[row] for row in retried] + [
            fresh[i : i + size] for i in range(0, len(fresh), size)
        ]
        gated = mailer if isinstance(mailer, GatedMailer) else None
        with ExitStack() as stack:
            recorder = None
            if gated is not None:
                recorder = _Recorder(self, worker_id, stack.enter_context(self.engine.connect()))
                gated.gate = recorder.flush
                stack.callback(setattr, gated, "gate", None)
            return self._send_chunks(mailer, worker_id, chunks, edition, recorder)

    def _send_chunks(
        self,
        mailer: Mailer,
        worker_id: str,
        chunks: list[list[Claimed]],
        edition: PreparedEdition,
        recorder: _Recorder | None,
    ) -> int:
        sent = 0
        try:
            for number, chunk in enumerate(chunks):
                if self.breaker.remaining() > 0 or not self.limiter.acquire(len(chunk), self.stop):
                    # Paused or stopping: give the rest back instead of sitting on the lease.
                    if recorder is not None:
                        recorder.flush()
                    with transaction(self.engine) as conn:
                        ids = [r.id for rest in chunks[number:] for r in rest]
                        release(conn, worker_id=worker_id, now=self.now(), ids=ids)
                    return sent
                results = self.send_chunk(mailer, chunk, edition)
                self.breaker.record(results)
                errors = [r.error for r in results if r.outcome != "sent" and r.error]
                if errors:
                    with self.lock:
                        self.report.last_error = errors[-1]
                outcomes = [
                    Outcome(row, r.outcome, r.provider_id, r.error, r.retry_after, r.bounce)
                    for row, r in zip(chunk, results, strict=True)
                ]
                sent += sum(r.outcome == "sent" for r in results)
                last = number == len(chunks) - 1
                if recorder is not None:
                    recorder.submit(outcomes, last=last)
                else:
                    self.store(worker_id, outcomes, last=last)
        finally:
            if recorder is not None:
                recorder.flush()  # the last acceptance (also when a send raised)
        return sent

    def send_chunk(
        self, mailer: Mailer, chunk: list[Claimed], edition: PreparedEdition
    ) -> list[SendResult]:
        """Hand one chunk over; a lone uncertain row is first looked up (reconciled)
        with a provider that can say whether it accepted it, and not resent if so."""
        outgoing = self.outgoing(chunk, edition)
        find_sent = getattr(mailer, "find_sent", None)
        if len(chunk) == 1 and chunk[0].uncertain_attempts and find_sent is not None:
            try:
                found = find_sent(outgoing[0])
            except Exception:  # a lookup bug must not lose the row: resend it
                log.exception("mailer %s: lookup of delivery %s failed", mailer.name, chunk[0].id)
                found = None
            if found is not None:
                log.info(
                    "delivery %s: %s had accepted it before the call timed out; not resent",
                    chunk[0].id,
                    mailer.name,
                )
                return [found]
        return self.hand_over(mailer, outgoing)


class RecorderFailed(Exception):
    """Recording an acceptance failed; sending must stop (raised through the gate)."""


def apply_bounces(
    conn: Connection, outcomes: Sequence[Outcome], *, now: datetime, limit: int
) -> None:
    """Refusals of the address itself count as bounces: the same rule and history as
    a provider's bounce webhook (``subscribers.record_bounce``)."""
    for item in outcomes:
        if item.bounce is None:
            continue
        kind: subscribers.BounceKind = "hard_bounce" if item.bounce == "hard" else "soft_bounce"
        reason = f"refused while sending: {item.error or 'no reason given'}"[:1000]
        subscriber = subscribers.record_bounce(
            conn, item.row.email, kind, reason=reason, now=now, limit=limit
        )
        if subscriber is not None:
            log.info("delivery %s: %s for subscriber %s", item.row.id, kind, subscriber.id)


class _Recorder:
    """Holds one call's outcomes until the mailer's next round trip, then records them.

    SMTP calls ``gate`` (``flush``) once the next message's MAIL command is on the wire:
    the previous acceptance is committed while the server answers, in this thread (a
    helper thread cost more CPU in wake-ups and cold caches than the commit itself),
    and always before the next DATA, so never two acceptances are unrecorded at once.
    """

    def __init__(self, drainer: _Drainer, worker_id: str, connection: Connection) -> None:
        self.drainer = drainer
        self.worker_id = worker_id
        self.connection = connection
        self.marks = SentMarks(connection)
        self.pending: tuple[list[Outcome], bool] | None = None  # outcomes, ends the claim

    def submit(self, outcomes: list[Outcome], *, last: bool) -> None:
        self.flush()
        self.pending = (outcomes, last)

    def flush(self) -> None:
        """Record the held outcomes now (raises ``RecorderFailed`` if that failed)."""
        if self.pending is None:
            return
        (outcomes, last), self.pending = self.pending, None
        try:
            self.drainer.store(
                self.worker_id, outcomes, self.connection, last=last, marks=self.marks
            )
        except Exception as exc:  # stops the sending: see RecorderFailed
            raise RecorderFailed(str(exc)) from exc


@contextmanager
def _begin(engine: Engine, connection: Connection | None) -> Iterator[Connection]:
    """A transaction on ``connection`` if given, else on a pooled one."""
    if connection is None:
        with transaction(engine) as conn:
            yield conn
        return
    try:
        with connection.begin():
            yield connection
    except OperationalError as exc:
        raise StoreError(f"database error: {exc.orig}") from exc


def drain(
    engine: Engine,
    settings: Settings,
    *,
    clock: Clock,
    mailer: MailerFactory,
    once: bool,
    stop: threading.Event | None = None,
    worker_id: str | None = None,
    progress: Callable[[int], None] | None = None,
    limiter: RateLimiter | None = None,
) -> DrainReport:
    """Send what the outbox holds.

    ``once``: stop when nothing is due (or the breaker pauses sending); otherwise keep
    polling every ``schedule.deliver_every_seconds`` until ``stop`` is set.
    ``progress`` is called with the number of rows finished as they finish.
    ``limiter``: the rate limit to use (a progress display asks it whether sending is
    held); default one from ``[mail] rate_per_second`` and ``burst``.
    """
    stop = stop or threading.Event()
    mail = settings.mail
    delivery = settings.delivery
    drainer = _Drainer(
        engine,
        settings,
        clock=clock,
        mailer=mailer,
        once=once,
        stop=stop,
        progress=progress,
        limiter=limiter or RateLimiter(mail.rate_per_second, mail.burst),
        breaker=CircuitBreaker(delivery.breaker_failures, delivery.breaker_pause_seconds),
    )
    base = worker_id or default_worker_id()
    if mail.concurrency == 1:
        drainer.run(base)
    else:
        errors: list[BaseException] = []

        def worker(worker_id: str) -> None:
            try:
                drainer.run(worker_id)
            except BaseException as exc:  # re-raised below, after the others stop
                errors.append(exc)
                drainer.halt.set()

        threads = [
            threading.Thread(target=worker, args=(f"{base}/{i}",), name=f"deliver-{i}")
            for i in range(mail.concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
    report = drainer.report
    if report.claimed or report.suppressed:
        log.info(
            "delivery: %d sent, %d deferred, %d failed, %d suppressed (%d uncertain)",
            report.sent,
            report.deferred,
            report.failed,
            report.suppressed,
            report.uncertain,
        )
    return report


def send_test_copy(
    engine: Engine,
    settings: Settings,
    edition: Mapping[str, Any],
    to: str,
    *,
    clock: Clock,
    mailer: MailerFactory,
    name: str = "",
) -> SendResult:
    """Send one ``[TEST]`` copy of ``edition`` (digest, subject, html, text, created_at)
    to ``to`` through the configured mailer, built as the outbox builds a reader's
    message but tied to no delivery row, subscriber or stored edition (its links lead
    nowhere). The CLI's ``digest send --test-to`` and the console both send through here."""
    row = dict(edition) | {"id": None, "subject": f"[TEST] {edition['subject']}"}
    prepared = prepare(edition_content(settings, row), settings)
    recipient = recipient_for(
        settings,
        signer_for(settings, engine),
        delivery_id=None,
        subscriber_id=None,
        email=to,
        name=name,
        edition_id=None,
        now=clock.now(),
    )
    sender = mailer()
    try:
        [result] = sender.send_batch([OutgoingMessage(prepared, recipient)])
    finally:
        sender.close()
    if result.outcome != "sent":
        raise DeliveryError(
            f"the test copy to {to} was not accepted ({result.outcome}): {result.error}",
            temporary=result.outcome in ("temporary", "uncertain"),
        )
    return result
