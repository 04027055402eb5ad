"""Email digests: which articles an edition carries, rendered and inlined once.

    windows.py   cron slots in the digest's zone, periods, expiry
    compose.py   choose an edition's articles and store it (unique per digest+period)
    render.py    Jinja + premailer, once per edition
    check.py     the pre-send check (relative links, alt text, unsubscribe link, size)

The stored HTML and text keep the per-recipient ``PLACEHOLDERS``; ``syndicate.delivery.messages``
fills them in per recipient without re-rendering.
"""

from __future__ import annotations

from syndicate.delivery.messages import PLACEHOLDERS
from syndicate.digest.check import CheckResult, presend_check
from syndicate.digest.compose import (
    Edition,
    Selection,
    compose,
    find_edition,
    has_edition,
    record_skipped,
    select_articles,
)
from syndicate.digest.render import RenderedEdition, render_edition
from syndicate.digest.windows import (
    edition_date,
    is_expired,
    latest_slot,
    next_slot,
    period_key,
    slots_between,
)

__all__ = [
    "PLACEHOLDERS",
    "CheckResult",
    "Edition",
    "RenderedEdition",
    "Selection",
    "compose",
    "edition_date",
    "find_edition",
    "has_edition",
    "is_expired",
    "latest_slot",
    "next_slot",
    "period_key",
    "presend_check",
    "record_skipped",
    "render_edition",
    "select_articles",
    "slots_between",
]
