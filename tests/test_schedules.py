"""Cron on the wall clock: daylight-saving changes neither skip nor double a run."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.core.schedules import fire_times, latest_fire_time, next_fire_time, slot_key

BERLIN = ZoneInfo("Europe/Berlin")


def _daily_runs(day_from: datetime, day_to: datetime) -> list[datetime]:
    return fire_times("30 2 * * *", BERLIN, day_from, day_to)


def test_daily_0230_runs_once_on_the_spring_change_day() -> None:
    runs = _daily_runs(datetime(2026, 3, 28, tzinfo=BERLIN), datetime(2026, 3, 31, tzinfo=BERLIN))
    assert [r.astimezone(BERLIN).day for r in runs] == [28, 29, 30]
    # 02:30 does not exist on 29 March: the run happens just after the gap, once.
    assert runs[1] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_daily_0230_runs_once_on_the_autumn_change_day() -> None:
    runs = _daily_runs(datetime(2026, 10, 24, tzinfo=BERLIN), datetime(2026, 10, 27, tzinfo=BERLIN))
    assert [r.astimezone(BERLIN).day for r in runs] == [24, 25, 26]
    # 02:30 happens twice on 25 October: only the first occurrence runs.
    assert runs[1] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_quarter_hourly_job_covers_the_repeated_hour_once() -> None:
    runs = fire_times(
        "*/15 * * * *",
        BERLIN,
        datetime(2026, 10, 25, 1, 0, tzinfo=BERLIN),
        datetime(2026, 10, 25, 4, 0, tzinfo=BERLIN),
    )
    keys = [slot_key(r, BERLIN) for r in runs]
    assert len(keys) == len(set(keys)) == 12  # 01:00 .. 03:45 local, each once
    assert runs == sorted(runs)


def test_latest_and_next_fire_time() -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday
    kyiv = ZoneInfo("Europe/Kyiv")
    assert latest_fire_time("0 8 * * MON", kyiv, now) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert next_fire_time("0 8 * * MON", kyiv, now) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 1)),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]),
)
def test_hourly_runs_are_strictly_increasing_and_never_repeat_a_wall_time(
    start: datetime, zone: str
) -> None:
    tz = ZoneInfo(zone)
    begin = start.replace(tzinfo=UTC)
    runs = fire_times("0 * * * *", tz, begin, begin + timedelta(days=3))
    keys = [slot_key(r, tz) for r in runs]
    assert len(keys) == len(set(keys))
    assert all(a < b for a, b in itertools.pairwise(runs))
    assert len(runs) >= 3 * 24 - 2  # a spring gap removes at most an hour's slot (per change)


def test_latest_fire_time_of_frequent_and_rare_schedules() -> None:
    now = datetime(2026, 11, 24, 10, 7, 30, tzinfo=UTC)
    assert latest_fire_time("* * * * *", UTC, now) == datetime(2026, 11, 24, 10, 7, tzinfo=UTC)
    leap = latest_fire_time("0 0 29 2 *", UTC, now)
    assert leap == datetime(2024, 2, 29, tzinfo=UTC)


def test_apschedulers_own_cron_trigger_would_run_the_repeated_hour_twice() -> None:
    """Why schedules.py exists: the stock trigger fires 02:30 twice on 25 October."""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab("30 2 * * *", timezone=BERLIN)
    fires, previous, now = [], None, datetime(2026, 10, 25, tzinfo=BERLIN)
    for _ in range(3):
        fire = trigger.get_next_fire_time(previous, now)
        fires.append(fire.astimezone(BERLIN).strftime("%d %H:%M"))
        previous = now = fire
    assert fires[:2] == ["25 02:30", "25 02:30"]
