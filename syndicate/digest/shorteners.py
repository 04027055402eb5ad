"""URL shorteners: the one list the pre-send check (and anything else) consults.

Spam filters score links through shorteners (they hide the destination and are
abused to dodge domain blocklists); a digest should link the destination itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

SHORTENER_HOSTS = frozenset(
    {
        "bit.ly",
        "bitly.com",
        "buff.ly",
        "cutt.ly",
        "goo.gl",
        "is.gd",
        "lnkd.in",
        "ow.ly",
        "rb.gy",
        "rebrand.ly",
        "shorturl.at",
        "t.co",
        "t.ly",
        "tiny.cc",
        "tinyurl.com",
        "v.gd",
    }
)


def is_shortened(url: str) -> bool:
    """Whether ``url`` points at a known shortener (the host or a subdomain of it)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return False
    return any(host == known or host.endswith("." + known) for known in SHORTENER_HOSTS)
