"""Dates as authors write them -> aware UTC datetimes.

Naive values are read in the site's time zone (DESIGN rule 10); a bare date is
midnight there. Accepts ISO 8601, RFC 2822 and a few spelled-out forms.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

# "2026-11-20 09:30" needs no entry: datetime.fromisoformat reads it first.
_FORMATS = (
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d %B %Y %H:%M",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y %H:%M",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
)
_LABEL = re.compile(r"^(?:published|posted|updated|date)\s*[:\-–—]?\s*", re.IGNORECASE)
MIN_YEAR, MAX_YEAR = 1900, 2200


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    try:
        result = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"date {value.isoformat()} is out of range") from None
    if not MIN_YEAR <= result.year <= MAX_YEAR:
        raise ValueError(f"date {value.isoformat()} is out of range ({MIN_YEAR}–{MAX_YEAR})")
    return result


def _from_string(text: str) -> datetime:
    candidate = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(text)
        if parsed is not None:
            return parsed
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - naive on purpose, zone added later
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (use e.g. 2026-11-20 or 2026-11-20T09:30:00+02:00)")


def parse_date(value: object, tz: ZoneInfo) -> datetime:
    """``value`` (a datetime, a date or a string) as an aware UTC datetime.

    Raises ValueError with a message fit for the operator.
    """
    if isinstance(value, datetime):
        return _aware(value, tz)
    if isinstance(value, date):
        return _aware(datetime.combine(value, time(0)), tz)
    if isinstance(value, str) and value.strip():
        return _aware(_from_string(" ".join(value.split())), tz)
    raise ValueError(f"{value!r} is not a date")


def parse_date_line(line: str, tz: ZoneInfo) -> datetime | None:
    """A line that is only a date (optionally labelled "Published:"), else None."""
    text = _LABEL.sub("", line.strip())
    if not text or len(text) > 40 or not any(ch.isdigit() for ch in text):
        return None
    try:
        return parse_date(text, tz)
    except ValueError:
        return None
