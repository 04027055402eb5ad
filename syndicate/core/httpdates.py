"""``Retry-After`` parsing shared by every HTTP client here (mail providers, WebSub hubs).

A server asks for a pause as delta-seconds (``120``) or an HTTP date
(``Wed, 21 Oct 2026 07:28:00 GMT``); anything else is no answer at all.
"""

from __future__ import annotations

import time
from datetime import UTC
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value; None when absent or unreadable.

    ``now`` (a POSIX timestamp, default the current time) is what an HTTP date is
    measured from; a date in the past means no wait (0).
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:  # "-0000": HTTP dates are always UTC
        moment = moment.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)
