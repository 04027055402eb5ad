"""Cron schedules that neither skip nor double a run across daylight-saving changes.

APScheduler 3's CronTrigger fires a wall-clock time twice when clocks go back
(02:30+02:00, then 02:30+01:00). Here cron expressions are evaluated on the *wall
clock* of the schedule's zone, and each wall time is then placed on the real time
line once: an ambiguous time takes its first occurrence, a time that does not exist
(spring forward) runs at the same offset as before the change, i.e. just after the
gap. A run is identified by its local wall time (``slot_key``), so even two
processes that disagree cannot run one slot twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger


def slot_key(fire_time: datetime, tz: tzinfo) -> str:
    """The identity of a scheduled run: its local wall time, minute precision."""
    return fire_time.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def slot_time(key: str, tz: tzinfo) -> datetime:
    """The fire time a ``slot_key`` names (inverse of ``slot_key``)."""
    return _on_timeline(datetime.strptime(key, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC), tz)


def _as_wall(moment: datetime, tz: tzinfo) -> datetime:
    """The wall-clock reading at ``moment``, carried as a fake-UTC datetime."""
    return moment.astimezone(tz).replace(tzinfo=UTC)


def _on_timeline(wall: datetime, tz: tzinfo) -> datetime:
    """The real instant of a wall-clock reading (first occurrence if ambiguous)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


class WallClockCronTrigger(BaseTrigger):
    """A cron trigger evaluated on local wall time; each wall time fires once."""

    def __init__(self, expression: str, tz: tzinfo) -> None:
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(f"{expression!r} is not a five-field cron expression")
        self.expression = expression
        self.timezone = tz
        self._wall = CronTrigger.from_crontab(expression, timezone=UTC)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        tz = self.timezone
        start = now if previous_fire_time is None else max(now, previous_fire_time)
        wall_now = _as_wall(start, tz)
        previous_wall = None if previous_fire_time is None else _as_wall(previous_fire_time, tz)
        for _ in range(16):  # a fold can hide at most a few candidates; bounded anyway
            wall = self._wall.get_next_fire_time(previous_wall, wall_now)
            if wall is None:
                return None
            real = _on_timeline(wall, tz)
            repeated = previous_fire_time is not None and slot_key(real, tz) == slot_key(
                previous_fire_time, tz
            )
            if (
                real >= now
                and not repeated
                and (previous_fire_time is None or real > previous_fire_time)
            ):
                return real
            previous_wall, wall_now = wall, wall + timedelta(microseconds=1)
        return None

    def __str__(self) -> str:
        return f"cron[{self.expression!r} {self.timezone}]"


def cron_trigger(expression: str, tz: tzinfo) -> WallClockCronTrigger:
    return WallClockCronTrigger(expression, tz)


def fire_times(expression: str, tz: tzinfo, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in [start, end), bounded: for status, catch-up and tests."""
    trigger = cron_trigger(expression, tz)
    times: list[datetime] = []
    previous: datetime | None = None
    while len(times) < 100_000:
        fire = trigger.get_next_fire_time(previous, start)
        if fire is None or fire >= end:
            break
        times.append(fire)
        previous = fire
    return times


# The search for the previous fire time starts an hour back and doubles up to this far
# (a cron like "0 0 29 2 *" fires once in four years), so a per-minute schedule never
# walks a year of fire times.
_FIRST_SPAN = timedelta(hours=1)
_MAX_SPAN = timedelta(days=8 * 366)


def latest_fire_time(expression: str, tz: tzinfo, now: datetime) -> datetime | None:
    """The most recent fire time at or before ``now`` (aware UTC), or None."""
    span = _FIRST_SPAN
    while span <= _MAX_SPAN:
        times = fire_times(expression, tz, now - span, now + timedelta(microseconds=1))
        if times:
            return times[-1]
        span *= 2
    return None


def next_fire_time(expression: str, tz: tzinfo, now: datetime) -> datetime | None:
    return cron_trigger(expression, tz).get_next_fire_time(None, now)
