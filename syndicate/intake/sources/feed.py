"""Feed bytes -> entries: RSS and Atom through feedparser, JSON Feed through ``json``.

feedparser 6 reads every RSS and Atom dialect seen in the wild (WordPress, Ghost,
Hugo, Substack, Medium) and recovers from much broken XML; it does not read JSON
Feed, whose JSON form is simple enough to map here. Relative URLs in content are
resolved against ``xml:base``, then the entry's link, then the feed's own URL
(STANDARDS.md, consuming feeds). An entry's identity is its guid/id, else its link.

A response that is an HTML page, XML that is not a feed, or a feed cut off in the
middle is refused as a whole (one ``SourceError`` naming the URL), so a truncated
last entry is never stored; other well-formedness slips that feedparser's lenient
parser recovers from are kept with a warning.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urljoin
from xml.sax import SAXException

import feedparser
import lxml.html
from lxml import etree

from syndicate.core.errors import SourceError
from syndicate.core.sanitize import normalize_space, sanitize_html, strip_control_chars
from syndicate.intake.importers.dates import MAX_YEAR, MIN_YEAR
from syndicate.intake.importers.pipeline import TITLE_MAX

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_HTML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
                         re.I | re.S)  # fmt: skip
_XML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml\b|(?:<!--.*?-->\s*)*<(?:[\w.-]+:)?(?:rss|feed|rdf)\b)",
    re.I | re.S,
)
_CLOSED = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|rdf)\s*>\s*$", re.I)
# How summaries end when the full text is elsewhere: "…", "[…]", "Read more", "Continue reading".
_TRUNCATED = re.compile(
    r"(?:\u2026|\.\.\.|\[\s*(?:\u2026|\.\.\.)\s*\]|read more|continue reading|keep reading"
    r"|read the full (?:post|article|story))[\s\W]*$",
    re.I,
)
TITLE_WORDS = 12


@dataclass
class FeedEntry:
    """One entry, its HTML already absolute against its own address."""

    guid: str
    link: str | None
    title: str
    body_html: str
    full_content: bool  # the feed carries the whole article, not a summary
    summary: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    tags: tuple[str, ...] = ()
    image_url: str | None = None
    image_type: str | None = None

    @property
    def key(self) -> str:
        return entry_key(self.guid)


@dataclass
class ParsedFeed:
    title: str
    link: str | None
    entries: list[FeedEntry]
    warnings: list[str] = field(default_factory=list)


def entry_key(guid: str) -> str:
    return hashlib.sha256(guid.encode("utf-8")).hexdigest()


def looks_truncated(text: str) -> bool:
    """True when plain ``text`` ends the way feed excerpts do."""
    return bool(_TRUNCATED.search(text.strip()[-80:]))


def absolutize(html: str, base: str, iframe_hosts: tuple[str, ...] = ()) -> str:
    """``html`` with every URL resolved against ``base`` (and cleaned to the allow-list)."""
    return sanitize_html(html, base_url=base, page_url=base, iframe_hosts=iframe_hosts)


def text_of(html: str) -> str:
    """The words of an HTML fragment, cheaply (lengths and teaser endings, not display)."""
    if not html.strip():
        return ""
    try:
        fragment = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return normalize_space(html)
    for element in fragment.iter("script", "style", "template"):
        element.drop_tree()
    return normalize_space(fragment.text_content())


def _date(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    try:
        value = datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if MIN_YEAR <= value.year <= MAX_YEAR else None


def _iso_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return parsed if MIN_YEAR <= parsed.year <= MAX_YEAR else None


def _title_from(text: str) -> str:
    words = text.split()
    title = " ".join(words[:TITLE_WORDS])
    return title + ("\u2026" if len(words) > TITLE_WORDS else "")


def _plain_to_html(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


def _finish(
    *,
    guid: str,
    link: str | None,
    title: str,
    content: str | None,
    summary: str | None,
    base: str,
    iframe_hosts: tuple[str, ...],
    **fields: Any,
) -> FeedEntry:
    """Choose the body (the full content, else the summary) and decide whether it is full.

    Only the chosen body is cleaned and made absolute; the summary is kept as text.
    """
    content_text = text_of(content) if content else ""
    summary_text = text_of(summary) if summary else ""
    use_content = bool(content_text) and len(content_text) >= len(summary_text)
    chosen = content if use_content else summary
    if not any(ch.isalnum() for ch in title):  # none, or "***": the operator cannot fix it
        title = _title_from(content_text or summary_text) or title
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rsplit(" ", 1)[0] + "\u2026"
    return FeedEntry(
        guid=guid,
        link=link,
        title=title,
        body_html=absolutize(chosen, base, iframe_hosts) if chosen else "",
        full_content=use_content and not looks_truncated(content_text),
        summary=summary_text if summary_text and summary_text != content_text else None,
        **fields,
    )


# -- RSS and Atom (feedparser) ------------------------------------------------------


def _detail_html(detail: Any, value: str) -> str:
    kind = (detail or {}).get("type", "text/html")
    if kind in ("text/plain", "text"):
        return _plain_to_html(value)
    return value


def _image(entry: Any) -> tuple[str | None, str | None]:
    for item in entry.get("media_content", []):
        kind = item.get("type", "")
        if item.get("url") and (item.get("medium") == "image" or kind.startswith("image/")):
            return item["url"], kind or None
    for item in entry.get("media_thumbnail", []):
        if item.get("url"):
            return item["url"], None
    for link in entry.get("links", []):
        if link.get("rel") == "enclosure" and link.get("type", "").startswith("image/"):
            return link.get("href"), link.get("type")
    return None, None


def _rss_entry(entry: Any, feed_url: str, iframe_hosts: tuple[str, ...]) -> FeedEntry | str:
    link = entry.get("link")
    link = urljoin(feed_url, link) if link else None
    guid = normalize_space(strip_control_chars(entry.get("id") or "")) or link
    if not guid:
        return f"entry {entry.get('title', '(untitled)')[:60]!r} has neither an id nor a link"
    contents = [
        (_detail_html(item, item.get("value", "")), item.get("base") or "")
        for item in entry.get("content", [])
        if item.get("value")
    ]
    content, content_base = max(contents, key=lambda c: len(c[0]), default=(None, ""))
    summary = entry.get("summary")
    summary_base = (entry.get("summary_detail") or {}).get("base") or ""
    if summary:
        summary = _detail_html(entry.get("summary_detail"), summary)
    base = urljoin(feed_url, content_base or summary_base or link or "")
    title = entry.get("title") or ""
    if (entry.get("title_detail") or {}).get("type") == "text/html":
        title = text_of(title)
    author = entry.get("author_detail") or {}
    tags = [t.get("term") or t.get("label") or "" for t in entry.get("tags", [])]
    image_url, image_type = _image(entry)
    return _finish(
        guid=guid,
        link=link,
        title=normalize_space(strip_control_chars(title)),
        content=content,
        summary=summary,
        base=base,
        iframe_hosts=iframe_hosts,
        author_name=author.get("name") or entry.get("author") or None,
        author_email=author.get("email"),
        published=_date(entry.get("published_parsed")) or _date(entry.get("created_parsed")),
        # dict.get: feedparser's own .get maps a missing updated onto published
        updated=_date(dict.get(entry, "updated_parsed")),
        tags=tuple(t for t in tags if t),
        image_url=urljoin(base, image_url) if image_url else None,
        image_type=image_type,
    )


def _syntax_problem(exc: BaseException) -> str:
    line = getattr(exc, "getLineNumber", lambda: None)()
    message = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
    return f"{message} (line {line})" if line else str(message)


def _parse_xml(
    data: bytes, url: str, content_type: str, iframe_hosts: tuple[str, ...]
) -> ParsedFeed:
    parsed = feedparser.parse(
        io.BytesIO(data),  # never a string: feedparser would fetch a URL or open a path
        response_headers={"content-type": content_type or "application/xml"},
        resolve_relative_uris=False,  # done per entry: xml:base, then the link, then the feed
        sanitize_html=False,  # nh3 sanitises with the site's allow-list
    )
    warnings: list[str] = []
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.get("version"):
        reason = _syntax_problem(problem) if isinstance(problem, SAXException) else "no channel"
        raise SourceError(f"{url}: not an RSS, Atom or JSON feed ({reason})")
    if isinstance(problem, SAXException):
        if not _CLOSED.search(data[-400:]):
            raise SourceError(f"{url}: the feed is cut off: {_syntax_problem(problem)}")
        warnings.append(f"the feed is not well-formed XML ({_syntax_problem(problem)}); "
                        "read leniently")  # fmt: skip
    entries: list[FeedEntry] = []
    for entry in parsed.entries:
        result = _rss_entry(entry, url, iframe_hosts)
        if isinstance(result, str):
            warnings.append(result)
        else:
            entries.append(result)
    channel = parsed.get("feed", {})
    link = channel.get("link")
    return ParsedFeed(
        title=text_of(channel.get("title", "")) or url,
        link=urljoin(url, link) if link else None,
        entries=entries,
        warnings=warnings,
    )


# -- JSON Feed ------------------------------------------------------------------------


def _json_author(item: dict[str, Any], top: dict[str, Any]) -> str | None:
    for holder in (item, top):
        authors = holder.get("authors") or ([holder["author"]] if holder.get("author") else [])
        for author in authors:
            if isinstance(author, dict) and isinstance(author.get("name"), str):
                return author["name"]
    return None


def _json_entry(
    item: Any, top: dict[str, Any], url: str, iframe_hosts: tuple[str, ...]
) -> FeedEntry | str:
    if not isinstance(item, dict):
        return "an item that is not an object was skipped"
    link = item.get("url") if isinstance(item.get("url"), str) else None
    link = urljoin(url, link) if link else None
    raw_id = item.get("id")
    guid = str(raw_id).strip() if isinstance(raw_id, str | int) else ""
    guid = guid or link or ""
    if not guid:
        return f"item {str(item.get('title', '(untitled)'))[:60]!r} has neither an id nor a url"
    html = item.get("content_html") if isinstance(item.get("content_html"), str) else None
    text = item.get("content_text") if isinstance(item.get("content_text"), str) else None
    content = html or (_plain_to_html(text) if text else None)
    summary = item.get("summary") if isinstance(item.get("summary"), str) else None
    image = item.get("image") or item.get("banner_image")
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    base = link or url
    title = item.get("title") if isinstance(item.get("title"), str) else ""
    return _finish(
        guid=guid,
        link=link,
        title=normalize_space(strip_control_chars(title)),
        content=content,
        summary=_plain_to_html(summary) if summary else None,
        base=base,
        iframe_hosts=iframe_hosts,
        author_name=_json_author(item, top),
        published=_iso_date(item.get("date_published")),
        updated=_iso_date(item.get("date_modified")),
        tags=tuple(str(t) for t in tags if isinstance(t, str | int)),
        image_url=urljoin(base, image) if isinstance(image, str) else None,
    )


def _parse_json(data: bytes, url: str, iframe_hosts: tuple[str, ...]) -> ParsedFeed:
    try:
        top = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise SourceError(f"{url}: not a JSON Feed: broken JSON{where}") from None
    if not isinstance(top, dict) or not str(top.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise SourceError(f"{url}: JSON, but not a JSON Feed (no jsonfeed.org version)")
    items = top.get("items")
    if not isinstance(items, list):
        raise SourceError(f"{url}: JSON Feed without an items list")
    entries: list[FeedEntry] = []
    warnings: list[str] = []
    for item in items:
        result = _json_entry(item, top, url, iframe_hosts)
        if isinstance(result, str):
            warnings.append(result)
        else:
            entries.append(result)
    link = top.get("home_page_url")
    return ParsedFeed(
        title=str(top.get("title") or url),
        link=link if isinstance(link, str) else None,
        entries=entries,
        warnings=warnings,
    )


# -- dispatch -------------------------------------------------------------------------


def _feed_link_in(data: bytes, url: str) -> str | None:
    """The feed an HTML page advertises (``<link rel="alternate" type="...rss+xml">``)."""
    try:
        document = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError):
        return None
    for link in document.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "alternate" in rel and (link.get("type") or "").lower() in FEED_TYPES:
            href = link.get("href")
            if href:
                return urljoin(url, href)
    return None


def is_html(data: bytes, content_type: str) -> bool:
    """An HTML page: by its first bytes, else by its media type (servers that label a
    feed ``text/html`` are common, so a body that starts like XML is never HTML)."""
    head = data[:2048]
    if _XML_START.match(head):
        return False
    return bool(_HTML_START.match(head)) or content_type in ("text/html", "application/xhtml+xml")


def parse_feed(
    data: bytes, url: str, content_type: str = "", *, iframe_hosts: tuple[str, ...] = ()
) -> ParsedFeed:
    """Read a feed; a page, broken JSON/XML or a non-feed is one SourceError naming ``url``."""
    if not data.strip():
        raise SourceError(f"{url}: the response is empty, not a feed")
    if "json" in content_type or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _parse_json(data, url, iframe_hosts)
    if is_html(data, content_type):
        advertised = _feed_link_in(data, url)
        more = f"; it links to the feed {advertised}" if advertised else ""
        raise SourceError(f"{url}: this is an HTML page, not a feed{more}")
    return _parse_xml(data, url, content_type, iframe_hosts)
