"""When a digest's editions fall: cron slots in the digest's own time zone.

A schedule is read as wall-clock times in the digest's zone (``0 8 * * MON`` is 08:00
local every Monday, summer or winter); ``syndicate.core.schedules`` places each wall time
on the real time line once, so daylight-saving changes neither skip nor double a slot.
The service fires on the same trigger, so a scheduled edition and a manual
``digest send`` agree on which period is current.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from syndicate.core.config import DigestSettings
from syndicate.core.schedules import fire_times, latest_fire_time, next_fire_time


def latest_slot(digest: DigestSettings, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The last slot at or before ``now`` (aware UTC), or None if there is none."""
    return latest_fire_time(digest.schedule, tz, now)


def next_slot(digest: DigestSettings, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first slot strictly after ``after`` (aware UTC), or None if there is none."""
    found = next_fire_time(digest.schedule, tz, after + timedelta(microseconds=1))
    return None if found is None else found.astimezone(UTC)


def slots_between(
    digest: DigestSettings, tz: ZoneInfo, after: datetime, until: datetime
) -> list[datetime]:
    """Every slot in ``(after, until]``: the periods a downtime spanned."""
    times = fire_times(
        digest.schedule, tz, after + timedelta(microseconds=1), until + timedelta(microseconds=1)
    )
    return [time.astimezone(UTC) for time in times]


def is_expired(digest: DigestSettings, slot: datetime, now: datetime) -> bool:
    """Whether a slot was missed by more than ``expires_after``: record it, don't send late."""
    return now - slot > digest.expires_after


def period_key(slot: datetime) -> str:
    """The stored ``editions.period``: the slot as an ISO 8601 UTC string."""
    return slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_period(period: str) -> datetime:
    """The slot back from ``editions.period``."""
    return datetime.strptime(period, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def edition_date(slot: datetime, tz: tzinfo) -> str:
    """The edition's date in the digest's zone (``YYYY-MM-DD``): its web page's name."""
    return slot.astimezone(tz).date().isoformat()
