"""Subscriber lifecycle: double opt-in, preferences, suppression, CSV in and out, erasure.

States: ``pending`` (asked, not confirmed) -> ``active`` -> ``unsubscribed``; bounces and
complaints move any state to ``bounced`` / ``complained``. Addresses are compared by
``email_key``: the local part as given plus the lower-cased (ASCII) domain, because
mailbox names may be case-sensitive but domains never are. Functions take a
Connection and leave the transaction to the caller; nothing here sends mail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from syndicate.core import events
from syndicate.core.db import deliveries, subscriber_counts, subscribers, subscriptions, tuples
from syndicate.core.errors import BadInput, SyndicateError

log = logging.getLogger(__name__)

STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
# Never mailed again unless an operator forces it (they said no, or the mail came back).
SUPPRESSED = ("unsubscribed", "bounced", "complained")
MAX_NAME = 200
RESEND_AFTER = timedelta(minutes=10)
MAX_EMAIL = 320
# An IANA zone name: ASCII words joined by slashes (bounds what reaches the file system).
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]{1,30}(?:/[A-Za-z0-9_+-]{1,30}){0,3}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class InvalidAddress(BadInput):
    hint = "check the address for typos"


class SuppressedAddress(SyndicateError):
    hint = "pass --force to subscribe it again (only with the person's consent)"


class UnknownSubscriber(SyndicateError):
    hint = "see `syndicate subscribers list`"


@dataclass(frozen=True)
class Address:
    email: str  # normalised for sending
    key: str  # local part as given + "@" + lower-cased ASCII domain


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    email_key: str
    name: str
    status: str
    timezone: str | None
    soft_bounces: int
    status_reason: str | None
    created_at: datetime
    confirmed_at: datetime | None
    status_changed_at: datetime | None
    digests: tuple[str, ...] = ()
    feed_key: int = 0  # bumped to revoke the private feed URL

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "status": self.status,
            "digests": list(self.digests),
            "timezone": self.timezone,
            "soft_bounces": self.soft_bounces,
            "status_reason": self.status_reason,
            "created_at": self.created_at,
            "confirmed_at": self.confirmed_at,
            "status_changed_at": self.status_changed_at,
        }


def normalise(raw: str) -> Address:
    """Validate an address (syntax only, no DNS) and compute its uniqueness key."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_EMAIL or _CONTROL.search(text):
        raise InvalidAddress(f"{text[:80]!r} is not an email address")
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"{text[:80]!r} is not an email address: {exc}") from None
    domain = (valid.ascii_domain or valid.domain).lower()
    return Address(email=f"{valid.local_part}@{valid.domain}", key=f"{valid.local_part}@{domain}")


def clean_name(raw: str | None) -> str:
    """A display name safe for headers and pages: no control characters, bounded length."""
    return " ".join(_CONTROL.sub(" ", raw or "").split())[:MAX_NAME]


def valid_timezone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        if not _ZONE_NAME.fullmatch(name):
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise BadInput(f"{name[:64]!r} is not a time zone", hint="like Europe/Kyiv") from None
    return name


# -- reading ------------------------------------------------------------------------------


def _digests_of(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        rows = conn.execute(
            select(subscriptions.c.subscriber_id, subscriptions.c.digest)
            .where(subscriptions.c.subscriber_id.in_(ids))
            .order_by(subscriptions.c.digest)
        )
        for subscriber_id, digest in tuples(rows):
            found[subscriber_id].append(digest)
    return {i: tuple(d) for i, d in found.items()}


def _load(conn: Connection, where: ColumnElement[bool]) -> list[Subscriber]:
    rows = list(
        conn.execute(select(subscribers).where(where).order_by(subscribers.c.id)).mappings()
    )
    digests = _digests_of(conn, [row["id"] for row in rows])
    return [Subscriber(**dict(row), digests=digests[row["id"]]) for row in rows]


def get(conn: Connection, subscriber_id: int) -> Subscriber | None:
    found = _load(conn, subscribers.c.id == subscriber_id)
    return found[0] if found else None


def get_many(conn: Connection, ids: Sequence[int]) -> list[Subscriber]:
    """The subscribers with these ids, in the order given (unknown ids left out)."""
    found = {s.id: s for s in _load(conn, subscribers.c.id.in_(list(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


# A status change -> the event outbound webhooks announce (pending is not announced).
STATUS_EVENTS = {
    "active": "subscriber.confirmed",
    "unsubscribed": "subscriber.unsubscribed",
    "bounced": "subscriber.bounced",
    "complained": "subscriber.complained",
}


def _announce(conn: Connection, subscriber_id: int, event: str, now: datetime) -> None:
    """Record ``event`` in the caller's transaction, with the row as it now is."""
    current = get(conn, subscriber_id)
    if current is not None:
        events.record(conn, event, {"subscriber": events.subscriber_data(current)}, now)


def find(conn: Connection, email: str) -> Subscriber | None:
    found = _load(conn, subscribers.c.email_key == normalise(email).key)
    return found[0] if found else None


def require(conn: Connection, email: str) -> Subscriber:
    subscriber = find(conn, email)
    if subscriber is None:
        raise UnknownSubscriber(f"no subscriber {email!r}")
    return subscriber


def list_subscribers(
    conn: Connection, *, status: str | None = None, digest: str | None = None
) -> list[Subscriber]:
    where: ColumnElement[bool] = subscribers.c.id.is_not(None)
    if status:
        where = where & (subscribers.c.status == status)
    if digest:
        chosen = select(subscriptions.c.subscriber_id).where(subscriptions.c.digest == digest)
        where = where & subscribers.c.id.in_(chosen)
    return _load(conn, where)


def counts_by_status(conn: Connection) -> dict[str, int]:
    """Subscribers per state, from the counts the store's triggers keep in the
    transaction of every change (migration 0010): a few rows, however long the list."""
    total = func.sum(subscriber_counts.c.row_count)
    rows = tuples(
        conn.execute(select(subscriber_counts.c.status, total).group_by(subscriber_counts.c.status))
    )
    return {status: 0 for status in STATUSES} | {status: int(count) for status, count in rows}


# -- changing -----------------------------------------------------------------------------


def _set_digests(
    conn: Connection, subscriber_id: int, digests: Iterable[str], now: datetime
) -> None:
    """The subscriber's digests become ``digests``: the ones left are deleted, new ones
    added; a digest kept keeps its row (the reader's topics and when they joined)."""
    mine = subscriptions.c.subscriber_id == subscriber_id
    chosen = set(digests)
    current: set[str] = set(conn.execute(select(subscriptions.c.digest).where(mine)).scalars())
    if current - chosen:
        conn.execute(
            delete(subscriptions).where(mine, subscriptions.c.digest.in_(current - chosen))
        )
    added = sorted(chosen - current)
    if added:
        conn.execute(
            insert(subscriptions),
            [{"subscriber_id": subscriber_id, "digest": d, "created_at": now} for d in added],
        )


def _create(
    conn: Connection,
    address: Address,
    *,
    name: str,
    status: str,
    digests: Iterable[str],
    now: datetime,
    timezone: str | None = None,
) -> int:
    """Insert a new subscriber; on a concurrent insert of the same key, return that row."""
    try:
        with conn.begin_nested():
            subscriber_id: int = conn.execute(
                insert(subscribers)
                .values(
                    email=address.email,
                    email_key=address.key,
                    name=clean_name(name),
                    status=status,
                    timezone=timezone,
                    soft_bounces=0,
                    created_at=now,
                    confirmed_at=now if status == "active" else None,
                    status_changed_at=now,
                )
                .returning(subscribers.c.id)
            ).scalar_one()
            _set_digests(conn, subscriber_id, digests, now)
            _announce(conn, subscriber_id, "subscriber.created", now)
            if status == "active":  # added with consent: confirmed from the start
                _announce(conn, subscriber_id, "subscriber.confirmed", now)
            return int(subscriber_id)
    except IntegrityError:
        return int(
            conn.execute(
                select(subscribers.c.id).where(subscribers.c.email_key == address.key)
            ).scalar_one()
        )


def _set_status(
    conn: Connection,
    subscriber_id: int,
    status: str,
    now: datetime,
    reason: str | None = None,
    **extra: object,
) -> None:
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(status=status, status_changed_at=now, status_reason=reason, **extra)
    )
    log.info("subscriber %s is now %s", subscriber_id, status)
    if status in STATUS_EVENTS:
        _announce(conn, subscriber_id, STATUS_EVENTS[status], now)


def request(
    conn: Connection, email: str, *, name: str, digests: Iterable[str], now: datetime
) -> tuple[Subscriber, bool]:
    """Someone asked to subscribe (web form). Returns the row and whether to send a
    confirmation. Active, bounced and complained addresses are left as they are, so a
    stranger can neither change a subscription nor mail a complainer; a pending address
    gets at most one confirmation per ``RESEND_AFTER``, so the form cannot flood a mailbox."""
    address = normalise(email)
    current = find(conn, address.email)
    if current is None:
        subscriber_id = _create(
            conn, address, name=name, status="pending", digests=digests, now=now
        )
        created = get(conn, subscriber_id)
        assert created is not None
        return created, created.status == "pending"
    recently_asked = (
        current.status == "pending"
        and current.status_changed_at is not None
        and now - current.status_changed_at < RESEND_AFTER
    )
    if current.status in ("pending", "unsubscribed") and not recently_asked:
        _set_status(conn, current.id, "pending", now, name=clean_name(name) or current.name)
        _set_digests(conn, current.id, digests, now)
        refreshed = get(conn, current.id)
        assert refreshed is not None
        return refreshed, True
    return current, False


def add(
    conn: Connection,
    email: str,
    *,
    name: str = "",
    digests: Iterable[str],
    now: datetime,
    force: bool = False,
    timezone: str | None = None,
) -> tuple[Subscriber, str]:
    """An operator adds someone as active. Returns the row and what happened:
    ``added`` | ``reactivated`` | ``updated`` | ``unchanged``."""
    address = normalise(email)
    digests = sorted(set(digests))
    timezone = valid_timezone(timezone)
    current = find(conn, address.email)
    if current is None:
        subscriber_id = _create(
            conn,
            address,
            name=name,
            status="active",
            digests=digests,
            now=now,
            timezone=timezone,
        )
        created = get(conn, subscriber_id)
        assert created is not None
        return created, "added"
    outcome = "unchanged"
    if current.status in SUPPRESSED:
        if not force:
            raise SuppressedAddress(f"{address.email} is {current.status}")
        _set_status(conn, current.id, "active", now, confirmed_at=now, soft_bounces=0)
        outcome = "reactivated"
    elif current.status == "pending":
        _set_status(conn, current.id, "active", now, confirmed_at=now, soft_bounces=0)
        outcome = "reactivated"
    wanted = tuple(sorted(set(current.digests) | set(digests)))
    if wanted != current.digests:
        _set_digests(conn, current.id, wanted, now)
        outcome = "updated" if outcome == "unchanged" else outcome
    if name and clean_name(name) != current.name:
        conn.execute(
            update(subscribers).where(subscribers.c.id == current.id).values(name=clean_name(name))
        )
        outcome = "updated" if outcome == "unchanged" else outcome
    if timezone and timezone != current.timezone:
        conn.execute(
            update(subscribers).where(subscribers.c.id == current.id).values(timezone=timezone)
        )
        outcome = "updated" if outcome == "unchanged" else outcome
    updated = get(conn, current.id)
    assert updated is not None
    return updated, outcome


def add_inactive(
    conn: Connection,
    email: str,
    *,
    name: str = "",
    status: str,
    digests: Iterable[str],
    now: datetime,
    reason: str,
    timezone: str | None = None,
) -> tuple[Subscriber, str]:
    """An imported list says this person is not (or not yet) to be mailed: keep them
    ``pending`` or suppressed, never active. Returns the row and what happened:
    ``pending`` | ``suppressed`` | ``unchanged``. A known active address that the list
    says has unsubscribed or bounced is suppressed; a suppressed one stays as it is."""
    if status != "pending" and status not in SUPPRESSED:
        raise ValueError(f"not an inactive status: {status}")
    address = normalise(email)
    current = find(conn, address.email)
    if current is None:
        subscriber_id = _create(
            conn,
            address,
            name=name,
            status=status,
            digests=sorted(set(digests)),
            now=now,
            timezone=valid_timezone(timezone),
        )
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == subscriber_id)
            .values(status_reason=reason[:1000])
        )
        outcome = "pending" if status == "pending" else "suppressed"
    elif status in SUPPRESSED and current.status not in SUPPRESSED:
        _set_status(conn, current.id, status, now, reason[:1000])
        subscriber_id, outcome = current.id, "suppressed"
    else:
        subscriber_id, outcome = current.id, "unchanged"
    stored = get(conn, subscriber_id)
    assert stored is not None
    return stored, outcome


def confirm(conn: Connection, subscriber_id: int, now: datetime) -> bool:
    """pending -> active. Only pending moves: an old link cannot undo an unsubscribe.
    A confirmation proves the mailbox works, so earlier soft bounces no longer count."""
    result = conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.status == "pending")
        .values(
            status="active",
            confirmed_at=now,
            status_changed_at=now,
            status_reason=None,
            soft_bounces=0,
        )
    )
    if result.rowcount:
        log.info("subscriber %s confirmed", subscriber_id)
        _announce(conn, subscriber_id, "subscriber.confirmed", now)
    return bool(result.rowcount)


def unsubscribe(
    conn: Connection, subscriber_id: int, now: datetime, reason: str = "unsubscribed"
) -> bool:
    """pending/active -> unsubscribed; repeating it changes nothing."""
    result = conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.status.in_(("pending", "active")))
        .values(status="unsubscribed", status_changed_at=now, status_reason=reason)
    )
    if result.rowcount:
        log.info("subscriber %s unsubscribed (%s)", subscriber_id, reason)
        _announce(conn, subscriber_id, "subscriber.unsubscribed", now)
    return bool(result.rowcount)


def suppress(
    conn: Connection, email: str, status: str, reason: str, now: datetime
) -> Subscriber | None:
    """A hard bounce or complaint: stop mailing the address. Unknown addresses are ignored."""
    if status not in ("bounced", "complained"):
        raise ValueError(f"not a suppression status: {status}")
    try:
        current = find(conn, email)
    except InvalidAddress:
        return None
    if current is None:
        return None
    if current.status != "complained":  # a complaint is the strongest word; keep it
        _set_status(conn, current.id, status, now, reason[:1000])
    return get(conn, current.id)


def record_soft_bounce(
    conn: Connection, email: str, *, reason: str, now: datetime, limit: int
) -> Subscriber | None:
    """Count a temporary failure; ``limit`` of them suppress the address."""
    try:
        current = find(conn, email)
    except InvalidAddress:
        return None
    if current is None:
        return None
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == current.id)
        .values(soft_bounces=subscribers.c.soft_bounces + 1)
    )
    if current.soft_bounces + 1 >= limit and current.status in ("pending", "active"):
        _set_status(
            conn, current.id, "bounced", now, f"{limit} soft bounces; last: {reason}"[:1000]
        )
    return get(conn, current.id)


BounceKind = Literal["hard_bounce", "soft_bounce", "complaint"]


def record_bounce(
    conn: Connection, email: str, kind: BounceKind, *, reason: str, now: datetime, limit: int
) -> Subscriber | None:
    """One rule for every bounce, whether a provider's webhook reports it later or the
    mail server refuses the address while we send: a hard bounce or complaint
    suppresses the address, a soft bounce counts toward ``limit``."""
    if kind == "soft_bounce":
        return record_soft_bounce(conn, email, reason=reason, now=now, limit=limit)
    status = "complained" if kind == "complaint" else "bounced"
    return suppress(conn, email, status, reason, now)


def set_preferences(
    conn: Connection,
    subscriber_id: int,
    *,
    digests: Iterable[str],
    timezone: str | None,
    name: str,
    now: datetime,
) -> None:
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(timezone=valid_timezone(timezone), name=clean_name(name))
    )
    _set_digests(conn, subscriber_id, digests, now)
    log.info("subscriber %s changed preferences", subscriber_id)


def erase(conn: Connection, email: str) -> bool:
    """Forget a person: their row, subscriptions, and their address in past deliveries."""
    current = find(conn, email)
    if current is None:
        return False
    conn.execute(
        update(deliveries)
        .where(deliveries.c.subscriber_id == current.id)
        .values(email="erased", name="")
    )
    events.forget_subscriber(conn, current.id)
    conn.execute(delete(subscribers).where(subscribers.c.id == current.id))
    log.info("subscriber %s erased", current.id)
    return True
