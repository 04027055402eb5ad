"""The pre-send check: what would make an edition break in a mail client, caught before sending.

Errors (the edition is not stored or sent): a relative link or image (nothing to
resolve it against in a mailbox), an image without ``alt``, no unsubscribe link
(a bulk-sender requirement of Gmail and Yahoo). Warning: the HTML is past Gmail's
~102 KB clipping size once the per-recipient links are filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from syndicate.delivery.messages import PLACEHOLDERS

GMAIL_CLIP_BYTES = 102 * 1024
# A filled-in signed unsubscribe/preferences URL or address is about this long.
_PLACEHOLDER_ALLOWANCE = 160
_ABSOLUTE_SCHEMES = ("https://", "http://", "mailto:", "tel:")
_UNSUBSCRIBE = "@@unsubscribe_url@@"


@dataclass(frozen=True)
class CheckResult:
    """Problems found in one edition's HTML; ``ok`` when there is no error."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    html_bytes: int = 0
    estimated_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _is_absolute(url: str) -> bool:
    url = url.strip()
    return url.lower().startswith(_ABSOLUTE_SCHEMES) or url in PLACEHOLDERS


def presend_check(html: str) -> CheckResult:
    """Check an edition's inlined HTML (with its placeholders still in place)."""
    errors: list[str] = []
    warnings: list[str] = []
    html_bytes = len(html.encode("utf-8"))
    estimated = html_bytes + sum(
        html.count(token) * _PLACEHOLDER_ALLOWANCE for token in PLACEHOLDERS
    )
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        return CheckResult([f"the HTML cannot be parsed: {exc}"], [], html_bytes, estimated)

    for element in root.iter("a", "area"):
        href = element.get("href")
        if href is None:
            continue
        if not _is_absolute(href):
            errors.append(f"relative link {href!r} (links in email must be absolute)")
    for image in root.iter("img"):
        src = image.get("src", "")
        if not _is_absolute(src):
            errors.append(f"image {src!r} has a relative or empty src")
        if image.get("alt") is None:
            errors.append(f"image {src!r} has no alt text")
    if not any(a.get("href", "").strip() == _UNSUBSCRIBE for a in root.iter("a")):
        errors.append(f'no unsubscribe link (an <a href="{_UNSUBSCRIBE}">)')
    if estimated > GMAIL_CLIP_BYTES:
        warnings.append(
            f"the HTML is about {estimated // 1024} KB; Gmail clips messages over "
            f"{GMAIL_CLIP_BYTES // 1024} KB (lower max_articles or shorten the template)"
        )
    return CheckResult(errors, warnings, html_bytes, estimated)
