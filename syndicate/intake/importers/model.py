"""What a parser hands to the store: one article read from one file, not yet saved."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from syndicate.core.sanitize import strip_control_chars

FORMAT_ALIASES = {
    "txt": "text",
    "text": "text",
    "md": "markdown",
    "markdown": "markdown",
    "html": "html",
    "htm": "html",
}


@dataclass
class ParsedArticle:
    """An article as a parser understood it.

    ``body_html`` is NOT yet sanitised: the store step sanitises it once the
    article's page URL (its slug) is known. ``published`` is None when the file
    carries no date (the store falls back to the file's modification time).
    """

    title: str
    body_html: str
    fmt: str
    author_name: str | None = None
    author_email: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    tags: tuple[str, ...] = ()
    summary: str | None = None
    slug: str | None = None
    uid: str | None = None
    image_url: str | None = None
    image_type: str | None = None
    image_length: int | None = None
    draft: bool = False
    warnings: list[str] = field(default_factory=list)
    canonical_url: str | None = None  # a web page's own address (canonical link, og:url)


_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
SLUG_MAX = 80


def slugify(text: str) -> str:
    """ASCII, lower case, words joined by "-", at most 80 characters (cut between words)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_JUNK.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0] if "-" in slug[:SLUG_MAX] else slug[:SLUG_MAX]
    return slug


def normalise_uid(value: str) -> str:
    """A front-matter ``id`` as a permanent feed id: a UUID becomes ``urn:uuid:...``;
    anything else must already be a URI (``tag:``, ``urn:``, ``https:``)."""
    value = value.strip()
    try:
        return f"urn:uuid:{uuid.UUID(value)}"
    except ValueError:
        pass
    if _URI.match(value) and len(value) <= 200:
        return value
    raise ValueError(
        f"id {value!r} is not a UUID or a URI (use e.g. 'urn:uuid:…' or 'tag:example.org,2026:x')"
    )


def normalise_tags(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Tags without control characters, trimmed, lower-cased and de-duplicated (feed
    filters compare them exactly)."""
    seen: dict[str, None] = {}
    for value in values:
        tag = " ".join(strip_control_chars(str(value)).split()).lower()[:200]
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)
