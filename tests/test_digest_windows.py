"""Slots of a digest's schedule in its own zone: DST never skips or doubles one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from syndicate.core.config import DigestSettings
from syndicate.digest import is_expired, latest_slot, next_slot, period_key, slots_between
from syndicate.digest.windows import edition_date, parse_period

KYIV = ZoneInfo("Europe/Kyiv")
NEW_YORK = ZoneInfo("America/New_York")


def digest(schedule: str, **extra: object) -> DigestSettings:
    return DigestSettings(name="d", title="D", schedule=schedule, **extra)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_weekly_slot_is_local_wall_time_in_winter_and_summer() -> None:
    weekly = digest("0 8 * * MON")
    winter = latest_slot(weekly, KYIV, utc(2026, 3, 4, 12))
    summer = latest_slot(weekly, KYIV, utc(2026, 7, 8, 12))
    assert winter == utc(2026, 3, 2, 6)  # 08:00 EET (+02)
    assert summer == utc(2026, 7, 6, 5)  # 08:00 EEST (+03)
    assert winter.astimezone(KYIV).hour == summer.astimezone(KYIV).hour == 8


def test_latest_slot_includes_a_slot_exactly_now_and_next_is_strictly_after() -> None:
    weekly = digest("0 8 * * MON")
    slot = utc(2026, 3, 2, 6)
    assert latest_slot(weekly, KYIV, slot) == slot
    assert latest_slot(weekly, KYIV, slot - timedelta(seconds=1)) == utc(2026, 2, 23, 6)
    assert next_slot(weekly, KYIV, slot) == utc(2026, 3, 9, 6)


def test_consecutive_slots_across_a_downtime_are_each_listed_once() -> None:
    weekly = digest("0 8 * * MON")
    missed = slots_between(weekly, KYIV, utc(2026, 3, 2, 6), utc(2026, 3, 24))
    assert missed == [utc(2026, 3, 9, 6), utc(2026, 3, 16, 6), utc(2026, 3, 23, 6)]


def test_spring_forward_gap_neither_skips_nor_doubles_the_daily_slot() -> None:
    # Kyiv: 2026-03-29 03:00 EET -> 04:00 EEST; 03:30 does not exist that day.
    daily = digest("30 3 * * *")
    slots = slots_between(daily, KYIV, utc(2026, 3, 27), utc(2026, 3, 31))
    local_days = [slot.astimezone(KYIV).date().day for slot in slots]
    assert local_days == [27, 28, 29, 30]
    gap_day = slots[2].astimezone(KYIV)
    assert gap_day.hour == 4  # run just after the gap, not skipped
    assert len(set(slots)) == len(slots)


def test_fall_back_repeated_hour_fires_once() -> None:
    # Kyiv: 2026-10-25 04:00 EEST -> 03:00 EET; 03:30 happens twice that night.
    daily = digest("30 3 * * *")
    slots = slots_between(daily, KYIV, utc(2026, 10, 23), utc(2026, 10, 27))
    assert [slot.astimezone(KYIV).day for slot in slots] == [23, 24, 25, 26]
    assert slots[2] == utc(2026, 10, 25, 0, 30)  # the first 03:30 (EEST)


def test_hourly_schedule_over_new_york_fall_back_has_no_duplicate_slot() -> None:
    hourly = digest("0 * * * *")
    slots = slots_between(hourly, NEW_YORK, utc(2026, 11, 1, 4), utc(2026, 11, 1, 9))
    walls = [slot.astimezone(NEW_YORK).strftime("%H:%M") for slot in slots]
    assert len(walls) == len(set(walls))
    assert slots == sorted(slots)


def test_latest_slot_of_a_frequent_schedule_is_the_last_minute() -> None:
    every_minute = digest("* * * * *")
    assert latest_slot(every_minute, KYIV, utc(2026, 3, 2, 9, 0, 30)) == utc(2026, 3, 2, 9)


def test_rare_schedule_reaches_years_back() -> None:
    leap_day = digest("0 9 29 2 *")
    assert latest_slot(leap_day, KYIV, utc(2027, 1, 1)) == utc(2024, 2, 29, 7)


@pytest.mark.parametrize(
    ("late_by", "expired"),
    [
        (timedelta(hours=5, minutes=59), False),
        (timedelta(hours=6), False),
        (timedelta(hours=7), True),
    ],
)
def test_expiry_uses_expires_after(late_by: timedelta, expired: bool) -> None:
    weekly = digest("0 8 * * MON", expires_after="6h")
    slot = utc(2026, 3, 2, 6)
    assert is_expired(weekly, slot, slot + late_by) is expired


def test_period_key_round_trips_and_edition_date_is_local() -> None:
    slot = utc(2026, 3, 1, 22, 30)  # 2026-03-02 00:30 in Kyiv
    assert period_key(slot) == "2026-03-01T22:30:00Z"
    assert parse_period(period_key(slot)) == slot
    assert edition_date(slot, KYIV) == "2026-03-02"
