"""Text and HTML made safe for a feed: plain titles, sanitised content, absolute URLs.

Articles are sanitised at import, but a feed is read by strangers' software and the
store can hold rows written by other tools: every value is cleaned again on the way
out. (Private fallback until ``syndicate.sanitize`` offers the same functions.)
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import nh3

# XML 1.0 forbids these; lxml refuses them and readers choke on them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")
_URL_ATTRIBUTES = {"href", "src", "cite", "poster", "longdesc"}
_SAFE_SCHEMES = {"http", "https", "mailto"}


def strip_control(text: str) -> str:
    """Remove XML-illegal characters (C0 controls but tab/LF/CR, surrogates, U+FFFE/F)."""
    return _XML_ILLEGAL.sub("", text)


def plain_text(value: str, *, limit: int | None = None) -> str:
    """Markup-free, single-line text: tags dropped, entities decoded, space collapsed.

    Decoding can reveal new markup (``&lt;b&gt;``), so it repeats until stable.
    """
    text = strip_control(value)
    for _ in range(4):  # bounded: each pass removes at least one layer
        cleaned = html.unescape(nh3.clean(text, tags=set()))
        cleaned = _SPACES.sub(" ", strip_control(cleaned)).strip()
        if cleaned == text:
            break
        text = cleaned
    if limit is not None and len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
        text = cut.rstrip() + "…"
    return text


def absolute_url(value: str, base: str) -> str | None:
    """``value`` resolved against ``base``; None when the result is not a safe link."""
    value = strip_control(value).strip()
    if not value:
        return None
    try:
        url = urljoin(base, value)
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in _SAFE_SCHEMES else None


def _srcset(value: str, base: str) -> str | None:
    candidates = []
    for candidate in value.split(","):
        parts = candidate.split()
        if not parts:
            continue
        url = absolute_url(parts[0], base)
        if url is None or " " in url:
            continue
        candidates.append(" ".join([url, *parts[1:]]))
    return ", ".join(candidates) or None


def safe_html(value: str, *, base: str) -> str:
    """Allow-listed HTML (no script, no handlers) with every URL absolute against ``base``."""

    def attribute_filter(_tag: str, attribute: str, attribute_value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            return absolute_url(attribute_value, base)
        if attribute == "srcset":
            return _srcset(attribute_value, base)
        return attribute_value

    return nh3.clean(
        strip_control(value),
        attribute_filter=attribute_filter,
        url_schemes=_SAFE_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
