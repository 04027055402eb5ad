"""Which refusals while sending are bounces of the address itself.

A mail server that refuses a recipient during the SMTP dialogue (or a provider's API
that answers per message) says the same thing a bounce webhook says later, only
sooner. The enhanced status code (RFC 3463) tells the address's fault apart from
the server's: X.1.x is the address (5.1.1 no such user), X.2.x the mailbox (5.2.1
disabled, 5.2.2 / 4.2.2 full), while X.3-X.7 are the mail system, network,
protocol and policy (greylisting, rate limits, spam filters): those are not the
reader's fault and never count against the address.
"""

from __future__ import annotations

import re
from typing import Literal

Bounce = Literal["hard", "soft"]

_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
# Without an enhanced code, the basic reply codes of RFC 5321 that name the mailbox.
_BASIC: dict[int, Bounce] = {
    550: "hard",
    551: "hard",
    553: "hard",
    552: "soft",
    450: "soft",
    452: "soft",
}


def smtp_bounce(code: int, text: str) -> Bounce | None:
    """``hard``, ``soft`` or None for a per-recipient SMTP reply (RCPT or DATA)."""
    found = _ENHANCED.search(text[:80])
    if found is None or found.group(1) != str(code)[0]:
        return _BASIC.get(code)
    klass, subject, detail = (int(part) for part in found.groups())
    if subject == 1:  # the address: unknown user, bad domain, bad syntax, moved
        return "hard" if klass == 5 else "soft"
    if subject == 2:  # the mailbox: 5.2.1 disabled is for good, full is for now
        return "hard" if (klass, detail) == (5, 1) else "soft"
    if klass == 4 and subject == 0:
        return "soft"
    return None
