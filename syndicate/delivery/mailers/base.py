"""The mailer interface: what the outbox hands a provider, and what it hears back.

A mailer takes a batch of personalised messages for one edition and answers one
result per message. It never touches the store: the outbox decides what a result
means (sent, deferred, failed) and records it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from syndicate.delivery.mailers.bounces import Bounce

if TYPE_CHECKING:
    from syndicate.delivery.messages import PreparedEdition, Recipient

Outcome = Literal["sent", "temporary", "permanent", "uncertain"]


@dataclass(frozen=True)
class OutgoingMessage:
    """One recipient's copy of an edition. ``raw()`` builds the RFC 5322 bytes."""

    edition: PreparedEdition
    recipient: Recipient

    @property
    def delivery_id(self) -> int | None:
        return self.recipient.delivery_id

    @property
    def message_id(self) -> str:
        return self.recipient.message_id

    def raw(self) -> bytes:
        return self.edition.message_bytes(self.recipient)


@dataclass(frozen=True)
class SendResult:
    """What the provider said about one message.

    ``temporary``: not accepted, try later (4xx, 429, 503, refused connection).
    ``permanent``: refused for good (5xx SMTP, HTTP 4xx), never retried.
    ``uncertain``: may have been accepted (timeout, other 5xx): retried under the same
    Message-ID and counted apart.

    ``bounce``: the refusal is about the address itself (``hard``: it does not exist
    or is disabled; ``soft``: e.g. mailbox full). The outbox applies it to the
    subscriber exactly as a bounce webhook would.
    """

    outcome: Outcome
    provider_id: str | None = None
    error: str | None = None
    retry_after: float | None = None
    bounce: Bounce | None = None


class Mailer(Protocol):
    name: str
    max_batch: int

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        """Hand the batch over; one result per message, in order."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class GatedMailer(Mailer, Protocol):
    """A mailer with a gate (SMTP): one message per call, and before DATA it calls
    ``gate`` (when set), which returns once the previous acceptance is recorded.

    Declared as a protocol so the drain asks ``isinstance(mailer, GatedMailer)`` and the
    type checker knows ``gate`` is there, instead of ``hasattr`` and an ignore.
    """

    gate: Callable[[], None] | None
