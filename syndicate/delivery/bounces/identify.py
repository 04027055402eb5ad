"""Which of our delivery rows a report is about, from the strongest evidence down.

1. A VERP address (the bounce's envelope recipient, or the original's Return-Path):
   signed, so it names the row outright.
2. The original message's headers quoted in the report: our ``List-Unsubscribe``
   token (signed; names the subscriber) and our ``Message-ID`` (``<eE.sS@domain>``,
   names edition and subscriber, but anyone can write one): a Message-ID alone counts
   only when the report's recipient is the row's address.
3. The address the report names, only when it is the address of a delivery row we
   sent (the latest one).

Evidence that contradicts itself (a valid VERP token for one row, a Message-ID or
unsubscribe token of another; a token that does not verify) is a forgery: nothing is
applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from syndicate.core.db import deliveries
from syndicate.core.errors import TokenError
from syndicate.core.tokens import Signer
from syndicate.delivery.bounces import verp
from syndicate.delivery.bounces.parse import Report

_MESSAGE_ID = re.compile(r"<e(\d{1,18})\.s(\d{1,18})@([^>\s]+)>")
_UNSUBSCRIBE = re.compile(r"/unsubscribe/([A-Za-z0-9_=.-]{1,512})>")
# An unsubscribe token's expiry guards the web page; a report about a mail we sent
# proves the token genuine whenever it arrives.
_NEVER_EXPIRED = datetime(1970, 1, 2, tzinfo=UTC)


class Forged(Exception):
    """The report's evidence does not verify or contradicts itself."""


@dataclass(frozen=True)
class Row:
    id: int
    email: str
    subscriber_id: int | None
    how: str  # verp | headers | address


@dataclass(frozen=True)
class Keys:
    """What identification needs from the config."""

    signer: Signer
    bounce_address: str | None
    message_domain: str


def delivery_for(conn: Connection, keys: Keys, report: Report) -> Row | None:
    """The row ``report`` is about; None when nothing of ours matches; Forged."""
    by_verp = _by_verp(conn, keys, report)
    by_headers = _by_headers(conn, keys, report.original, report)
    if by_verp is not None:
        if by_headers is not None and by_headers.id != by_verp.id:
            raise Forged(f"VERP names delivery {by_verp.id}, the quoted headers {by_headers.id}")
        return by_verp
    if by_headers is not None:
        return by_headers
    return _by_address(conn, report)


def _row(conn: Connection, *where: Any) -> Any:
    return conn.execute(
        select(deliveries.c.id, deliveries.c.email, deliveries.c.subscriber_id)
        .where(*where)
        .order_by(deliveries.c.id.desc())
        .limit(1)
    ).first()


def _by_verp(conn: Connection, keys: Keys, report: Report) -> Row | None:
    if keys.bounce_address is None:
        return None
    found: int | None = None
    for address in report.envelope:
        try:
            delivery_id = verp.delivery_of(keys.signer, keys.bounce_address, address)
        except verp.ForgedAddress as exc:
            raise Forged(str(exc)) from None
        if delivery_id is None:
            continue
        if found is not None and delivery_id != found:
            raise Forged(f"two VERP addresses name deliveries {found} and {delivery_id}")
        found = delivery_id
    if found is None:
        return None
    row = _row(conn, deliveries.c.id == found)
    if row is None:
        raise Forged(f"VERP names delivery {found}, which does not exist")
    return Row(row.id, row.email, row.subscriber_id, "verp")


def _by_headers(
    conn: Connection, keys: Keys, original: Message | None, report: Report
) -> Row | None:
    if original is None:
        return None
    subscriber = _unsubscribe_subscriber(keys, original)
    message_id = _MESSAGE_ID.search(_value(original, "Message-ID"))
    if message_id is not None and message_id.group(3).lower() != keys.message_domain:
        message_id = None  # not one of ours
    if message_id is not None:
        edition, by_id = int(message_id.group(1)), int(message_id.group(2))
        if subscriber is not None and subscriber != by_id:
            raise Forged(f"Message-ID names subscriber {by_id}, the unsubscribe token {subscriber}")
        row = _row(conn, deliveries.c.edition_id == edition, deliveries.c.subscriber_id == by_id)
        if row is None:
            return None
        reported = {f.recipient.lower() for f in report.findings if f.recipient}
        if subscriber is None and row.email.lower() not in reported:
            return None  # an unsigned Message-ID alone proves nothing
        return Row(row.id, row.email, row.subscriber_id, "headers")
    if subscriber is not None:
        row = _row(conn, deliveries.c.subscriber_id == subscriber, deliveries.c.status == "sent")
        if row is not None:
            return Row(row.id, row.email, row.subscriber_id, "headers")
    return None


def _unsubscribe_subscriber(keys: Keys, original: Message) -> int | None:
    found = _UNSUBSCRIBE.search(_value(original, "List-Unsubscribe"))
    if found is None:
        return None
    try:
        token = keys.signer.check(found.group(1), "unsubscribe", now=_NEVER_EXPIRED)
        return int(token.subject)
    except (TokenError, ValueError):
        raise Forged("the quoted List-Unsubscribe token does not verify") from None


def _by_address(conn: Connection, report: Report) -> Row | None:
    for finding in report.findings:
        if not finding.recipient:
            continue
        row = _row(
            conn,
            func.lower(deliveries.c.email) == finding.recipient.strip().lower(),
            deliveries.c.status == "sent",
        )
        if row is not None:
            return Row(row.id, row.email, row.subscriber_id, "address")
    return None


def _value(message: Message, name: str) -> str:
    try:
        return " ".join(str(message.get(name) or "").split())
    except (ValueError, TypeError, IndexError):
        return ""
