"""Feed lint: the rules of STANDARDS.md (and the W3C validator's) checked on built files.

``lint_file`` checks one RSS, Atom or JSON Feed file on its own; ``lint_tree`` checks
every feed under the feeds folder and that RFC 5005 archive links agree across pages.
Each problem is one line naming the file and the element. ``feeds publish`` refuses a
file with problems; ``syndicate check`` lists them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from syndicate.core.config import Settings
from syndicate.core.fileio import sha256_hex
from syndicate.core.itunes import ARTWORK_SUFFIXES, parse_category
from syndicate.core.sanitize import XML_ILLEGAL
from syndicate.feeds import formats
from syndicate.feeds.jsonfeed import VERSION as JSON_FEED_VERSION
from syndicate.feeds.rss import ATOM_NS, FH_NS

MAX_BYTES = 5_000_000
MAX_PROBLEMS = 100

ATOM = f"{{{ATOM_NS}}}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC = "{http://purl.org/dc/elements/1.1/}"
FH = f"{{{FH_NS}}}"
# An RSS item says each thing once: a core element and its extension twin draw the
# validator's "An item should not include both" warning (DuplicateItemSemantics).
_ITEM_TWINS = (
    ("author", f"{DC}creator", "dc:creator"),
    ("pubDate", f"{DC}date", "dc:date"),
    ("pubDate", f"{ATOM}published", "atom:published"),
    ("category", f"{DC}subject", "dc:subject"),
    ("guid", f"{ATOM}id", "atom:id"),
    ("source", f"{DC}source", "dc:source"),
)
# RSS ``author``: an address, best followed by the name in parentheses.
_RSS_AUTHOR = re.compile(r"^[^@\s()<>]+@[^@\s()<>]+\.[^@\s()<>]+(?: \((?P<name>[^()]*)\))?$")
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
EXPLICIT_VALUES = ("true", "false", "yes", "no", "clean")
_DURATION = re.compile(r"^(?:\d+|(?:\d+:)?[0-5]?\d:[0-5]\d)$")
ARCHIVE_RELS = ("current", "prev-archive", "next-archive")
_TAG_LIKE = re.compile(r"<\s*/?\s*[A-Za-z!?]")
_RFC822 = re.compile(
    r"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}(?::\d{2})? (?:[+-]\d{4}|GMT|UT|[ECMP][SD]T)$"
)
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
_URL_ATTRIBUTES = ("href", "src", "poster", "cite", "action", "formaction", "background")
_UNSAFE_TAGS = {"script", "object", "embed", "applet", "base", "meta", "link", "form"}
_SAFE_SCHEMES = {"http", "https", "mailto"}


def is_absolute(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass
class _Report:
    """Problems of one file, and the RFC 5005 links it declares (for the tree check)."""

    name: str
    problems: list[str] = field(default_factory=list)
    links: dict[str, list[str]] = field(default_factory=dict)
    archive: bool = False
    entries: int | None = None  # items or entries, when the file parsed as a feed
    sha256: str = ""

    def add(self, where: str, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{self.name}: {where}: {problem}")
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append(f"{self.name}: (more problems not shown)")


# -- shared checks ------------------------------------------------------------------


def _check_title(report: _Report, where: str, title: str | None) -> None:
    if title is None or not title.strip():
        report.add(where, "empty title")
        return
    if _TAG_LIKE.search(title):
        report.add(where, f"HTML in title {title[:60]!r}")
    if XML_ILLEGAL.search(title):
        report.add(where, "control character in title")


def _check_html(report: _Report, where: str, markup: str | None) -> None:
    """No script, no event handlers, no relative or javascript: URLs."""
    if not markup or not markup.strip():
        return
    if XML_ILLEGAL.search(markup):
        report.add(where, "XML-illegal control character in HTML")
    try:
        elements = lxml_html.fragments_fromstring(markup)
    except (etree.ParserError, ValueError):
        return
    for top in elements:
        if not isinstance(top, etree._Element):
            continue
        for element in top.iter():
            if not isinstance(element.tag, str):
                continue
            if element.tag.lower() in _UNSAFE_TAGS:
                report.add(where, f"<{element.tag}> element in content")
            for name, value in element.attrib.items():
                lowered = name.lower()
                if lowered.startswith("on"):
                    report.add(where, f"event handler {name} on <{element.tag}>")
                elif lowered in _URL_ATTRIBUTES:
                    _check_content_url(report, where, element.tag, name, value)
                elif lowered == "srcset":
                    for candidate in value.split(","):
                        if candidate.split():
                            _check_content_url(
                                report, where, element.tag, name, candidate.split()[0]
                            )


def _check_content_url(report: _Report, where: str, tag: str, name: str, value: str) -> None:
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        report.add(where, f"unparseable URL in <{tag} {name}>")
        return
    if not scheme:
        report.add(where, f"relative URL {value[:80]!r} in <{tag} {name}>")
    elif scheme not in _SAFE_SCHEMES and not (scheme == "data" and tag.lower() == "img"):
        report.add(where, f"{scheme}: URL in <{tag} {name}>")


def _check_url(report: _Report, where: str, url: str | None, what: str = "URL") -> None:
    if not is_absolute(url):
        report.add(where, f"{what} {url!r} is not an absolute http(s) URL")


def _check_rfc822(report: _Report, where: str, value: str | None) -> None:
    if value is None:
        return
    value = value.strip()
    ok = bool(_RFC822.match(value))
    if ok:
        try:
            ok = parsedate_to_datetime(value).tzinfo is not None
        except (TypeError, ValueError):
            ok = False
    if not ok:
        report.add(where, f"date {value!r} is not RFC 822 with a four-digit year")


def _check_rfc3339(report: _Report, where: str, value: Any) -> None:
    ok = isinstance(value, str) and bool(_RFC3339.match(value.strip()))
    if ok:
        try:
            datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            ok = False
    if not ok:
        report.add(where, f"date {value!r} is not RFC 3339 with an offset")


def _check_history(
    report: _Report, where: str, archive: bool, complete: bool, public_url: str
) -> None:
    """RFC 5005 as the W3C validator reads it: an archive page links to another archive
    page (else "Archive incomplete") and to the live feed; a complete feed has no
    paging links, and its rel=current, if any, is itself."""
    report.archive = archive
    if archive and not complete:
        if not report.links.get("current"):
            report.add(where, "archive page without rel=current")
        if not any(report.links.get(rel) for rel in ("prev-archive", "next-archive")):
            report.add(
                where,
                "archive page links neither rel=prev-archive nor rel=next-archive "
                "(the validator's 'Archive incomplete')",
            )
    if complete and any(report.links.get(rel) for rel in ("prev-archive", "next-archive")):
        report.add(where, "fh:complete feed with paging links")
    if complete and any(href != public_url for href in report.links.get("current", [])):
        report.add(where, "fh:complete feed whose rel=current is not itself")
    for rel in (*ARCHIVE_RELS, "hub"):
        for href in report.links.get(rel, []):
            _check_url(report, where, href, f"rel={rel} link")
    for rel in ARCHIVE_RELS:
        if len(report.links.get(rel, [])) > 1:
            report.add(where, f"more than one rel={rel} link")


def _check_self(
    report: _Report, where: str, links: list[tuple[str, str | None]], public_url: str
) -> None:
    if len(links) != 1:
        report.add(where, f"needs exactly one rel=self link, found {len(links)}")
    for href, _ in links:
        if href != public_url:
            report.add(where, f"rel=self is {href!r}, expected the public URL {public_url!r}")


def _parse_xml(report: _Report, data: bytes) -> etree._Element | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        report.add("document", f"not well-formed XML: {exc}")
        return None


# -- RSS 2.0 ------------------------------------------------------------------------


def lint_rss(report: _Report, root: etree._Element, public_url: str) -> None:
    if root.tag != "rss" or root.get("version") != "2.0":
        report.add("rss", 'root must be <rss version="2.0">')
        return
    channel = root.find("channel")
    if channel is None:
        report.add("rss", "no <channel>")
        return
    for name in ("title", "link", "description"):
        if not (channel.findtext(name) or "").strip():
            report.add("channel", f"missing <{name}>")
    _check_title(report, "channel/title", channel.findtext("title"))
    _check_url(report, "channel/link", channel.findtext("link"))
    for name in ("lastBuildDate", "pubDate"):
        _check_rfc822(report, f"channel/{name}", channel.findtext(name))
    selfs = []
    for link in channel.findall(f"{ATOM}link"):
        rel = link.get("rel", "alternate")
        if rel == "self":
            selfs.append((link.get("href", ""), link.get("type")))
            if link.get("type") != "application/rss+xml":
                report.add("channel/atom:link[@rel=self]", 'type must be "application/rss+xml"')
        else:
            report.links.setdefault(rel, []).append(link.get("href", ""))
    _check_self(report, "channel/atom:link[@rel=self]", selfs, public_url)
    _check_history(
        report,
        "channel",
        channel.find(f"{FH}archive") is not None,
        channel.find(f"{FH}complete") is not None,
        public_url,
    )
    guids: set[str] = set()
    for index, item in enumerate(channel.findall("item"), start=1):
        where = f"item[{index}]"
        title = item.findtext("title")
        if title is None and item.findtext("description") is None:
            report.add(where, "needs <title> or <description>")
        if title is not None:
            _check_title(report, f"{where}/title", title)
        if item.find("link") is not None:
            _check_url(report, f"{where}/link", item.findtext("link"))
        guid = item.find("guid")
        if guid is not None:
            value = (guid.text or "").strip()
            if guid.get("isPermaLink", "true") == "true":
                _check_url(report, f"{where}/guid", value, "permalink guid")
            if value in guids:
                report.add(f"{where}/guid", f"duplicate guid {value!r}")
            guids.add(value)
        _check_rfc822(report, f"{where}/pubDate", item.findtext("pubDate"))
        _check_item_semantics(report, where, item)
        _check_html(report, f"{where}/description", item.findtext("description"))
        _check_html(report, f"{where}/content:encoded", item.findtext(CONTENT_ENCODED))
        for enclosure in item.findall("enclosure"):
            _check_url(report, f"{where}/enclosure", enclosure.get("url"))
            if not (enclosure.get("length") or "").isdigit():
                report.add(f"{where}/enclosure", "length must be a number of bytes")
            if not enclosure.get("type"):
                report.add(f"{where}/enclosure", "missing type")
    if channel.find(f"{ITUNES}image") is not None or channel.find(f"{ITUNES}category") is not None:
        _lint_podcast(report, channel)


def _lint_podcast(report: _Report, channel: etree._Element) -> None:
    """What Apple Podcasts requires of a podcast feed (the channel declares iTunes tags)."""
    image = channel.find(f"{ITUNES}image")
    href = image.get("href") if image is not None else None
    if not is_absolute(href) or not urlsplit(href or "").path.lower().endswith(ARTWORK_SUFFIXES):
        report.add("channel/itunes:image", "needs an absolute href to a .jpg or .png image")
    categories = channel.findall(f"{ITUNES}category")
    if not categories:
        report.add("channel/itunes:category", "missing (Apple requires a category)")
    for category in categories:
        subs = [sub.get("text", "") for sub in category.findall(f"{ITUNES}category")]
        for label in [f"{category.get('text', '')} > {sub}" for sub in subs] or [
            category.get("text", "")
        ]:
            try:
                parse_category(label)
            except ValueError as exc:
                report.add("channel/itunes:category", str(exc))
    if (channel.findtext(f"{ITUNES}explicit") or "").strip() not in EXPLICIT_VALUES:
        report.add("channel/itunes:explicit", "must be true/false (or yes/no/clean)")
    for index, item in enumerate(channel.findall("item"), start=1):
        enclosure = item.find("enclosure")
        if enclosure is None:
            continue
        where = f"item[{index}]"
        if enclosure.get("length", "0").strip() in ("", "0"):
            report.add(f"{where}/enclosure", "a podcast episode needs its exact length in bytes")
        duration = item.findtext(f"{ITUNES}duration")
        if duration is not None and not _DURATION.match(duration.strip()):
            report.add(f"{where}/itunes:duration", f"{duration!r} is not seconds or HH:MM:SS")


def _check_item_semantics(report: _Report, where: str, item: etree._Element) -> None:
    """One element per fact (see ``_ITEM_TWINS``); ``author`` is an address with a name;
    ``description`` comes before ``content:encoded``."""
    for core, twin, label in _ITEM_TWINS:
        if item.find(core) is not None and item.find(twin) is not None:
            report.add(where, f"has both <{core}> and <{label}>: keep one")
    for author in item.findall("author"):
        match = _RSS_AUTHOR.match((author.text or "").strip())
        if match is None:
            report.add(
                f"{where}/author",
                f"{(author.text or '')[:60]!r} is not an email address "
                "(a name alone goes in dc:creator)",
            )
        elif not (match.group("name") or "").strip():
            report.add(f"{where}/author", "no real name: write 'address (Name)'")
    tags = [child.tag for child in item]
    if CONTENT_ENCODED in tags and (
        "description" not in tags or tags.index("description") > tags.index(CONTENT_ENCODED)
    ):
        report.add(where, "<description> must come before <content:encoded>")


# -- Atom ---------------------------------------------------------------------------


def _check_text_construct(report: _Report, where: str, element: etree._Element | None) -> None:
    if element is None:
        return
    kind = element.get("type", "text")
    if kind not in ("text", "html", "xhtml"):
        report.add(where, f'type="{kind}" is not text, html or xhtml')
    if kind == "html":
        _check_html(report, where, element.text)


def lint_atom(report: _Report, root: etree._Element, public_url: str) -> None:
    if root.tag != f"{ATOM}feed":
        report.add("feed", "root must be an Atom <feed>")
        return
    for name in ("id", "title", "updated"):
        if not (root.findtext(f"{ATOM}{name}") or "").strip():
            report.add("feed", f"missing <{name}>")
    _check_title(report, "feed/title", root.findtext(f"{ATOM}title"))
    _check_text_construct(report, "feed/title", root.find(f"{ATOM}title"))
    _check_rfc3339(report, "feed/updated", root.findtext(f"{ATOM}updated"))
    feed_author = root.find(f"{ATOM}author/{ATOM}name") is not None
    selfs = []
    for link in root.findall(f"{ATOM}link"):
        rel = link.get("rel", "alternate")
        if rel == "self":
            selfs.append((link.get("href", ""), link.get("type")))
            if link.get("type") != "application/atom+xml":
                report.add("feed/link[@rel=self]", 'type must be "application/atom+xml"')
        elif rel != "alternate":
            report.links.setdefault(rel, []).append(link.get("href", ""))
    _check_self(report, "feed/link[@rel=self]", selfs, public_url)
    _check_history(
        report,
        "feed",
        root.find(f"{FH}archive") is not None,
        root.find(f"{FH}complete") is not None,
        public_url,
    )
    ids: set[str] = set()
    updated: dict[str, int] = {}
    for index, entry in enumerate(root.findall(f"{ATOM}entry"), start=1):
        where = f"entry[{index}]"
        for name in ("id", "title", "updated"):
            if entry.find(f"{ATOM}{name}") is None:
                report.add(where, f"missing <{name}>")
        entry_id = (entry.findtext(f"{ATOM}id") or "").strip()
        if entry_id in ids:
            report.add(f"{where}/id", f"duplicate id {entry_id!r}")
        ids.add(entry_id)
        # The validator compares the text: two entries must not show the same updated.
        stamp = entry.findtext(f"{ATOM}updated")
        if stamp is not None and stamp in updated:
            report.add(
                f"{where}/updated",
                f"{stamp!r} is also entry[{updated[stamp]}]'s updated "
                "(the validator's 'Two entries with the same value for atom:updated')",
            )
        elif stamp is not None:
            updated[stamp] = index
        _check_title(report, f"{where}/title", entry.findtext(f"{ATOM}title"))
        _check_text_construct(report, f"{where}/title", entry.find(f"{ATOM}title"))
        _check_rfc3339(report, f"{where}/updated", entry.findtext(f"{ATOM}updated"))
        if entry.find(f"{ATOM}published") is not None:
            _check_rfc3339(report, f"{where}/published", entry.findtext(f"{ATOM}published"))
        if not feed_author and entry.find(f"{ATOM}author/{ATOM}name") is None:
            report.add(where, "no author (and the feed has none)")
        alternates: set[tuple[str | None, str | None]] = set()
        for link in entry.findall(f"{ATOM}link"):
            _check_url(report, f"{where}/link", link.get("href"))
            if link.get("rel", "alternate") == "alternate":
                key = (link.get("type"), link.get("hreflang"))
                if key in alternates:
                    report.add(f"{where}/link", "two rel=alternate links of one type and hreflang")
                alternates.add(key)
        content = entry.find(f"{ATOM}content")
        summary = entry.find(f"{ATOM}summary")
        if content is None and not alternates:
            report.add(where, 'needs <content> or a <link rel="alternate">')
        if content is None and summary is None:
            report.add(where, "needs <content> or <summary> (no textual content)")
        _check_text_construct(report, f"{where}/summary", summary)
        if content is not None:
            kind = content.get("type", "text")
            if kind not in ("text", "html", "xhtml") and "/" not in kind:
                report.add(f"{where}/content", f'type="{kind}" is invalid')
            if kind == "html":
                _check_html(report, f"{where}/content", content.text)
            if (content.get("src") or kind not in ("text", "html", "xhtml")) and summary is None:
                report.add(where, "needs <summary> when content is not inline text or HTML")


# -- JSON Feed ----------------------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def lint_json(report: _Report, data: bytes, public_url: str) -> None:
    try:
        feed = json.loads(data)
    except ValueError as exc:
        report.add("document", f"not JSON: {exc}")
        return
    if not isinstance(feed, dict):
        report.add("document", "top level must be an object")
        return
    if any(XML_ILLEGAL.search(text) for text in _strings(feed)):
        report.add("document", "control character in a string")
    if feed.get("version") != JSON_FEED_VERSION:
        report.add("version", f"must be {JSON_FEED_VERSION!r}")
    if not isinstance(feed.get("title"), str):
        report.add("title", "missing")
    else:
        _check_title(report, "title", feed["title"])
    _check_url(report, "home_page_url", feed.get("home_page_url"))
    if feed.get("feed_url") != public_url:
        report.add("feed_url", f"is {feed.get('feed_url')!r}, expected {public_url!r}")
    if "next_url" in feed:
        _check_url(report, "next_url", feed["next_url"])
        report.links["next"] = [feed["next_url"]]
    for index, hub in enumerate(feed.get("hubs", []) or []):
        if not isinstance(hub, dict) or not hub.get("type") or not is_absolute(hub.get("url")):
            report.add(f"hubs[{index}]", "needs type and an absolute url")
    if "authors" in feed and not isinstance(feed["authors"], list):
        report.add("authors", "must be an array")
    items = feed.get("items")
    if not isinstance(items, list):
        report.add("items", "missing or not an array")
        return
    ids: set[str] = set()
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            report.add(where, "not an object")
            continue
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            report.add(f"{where}.id", "must be a non-empty string")
        elif item_id in ids:
            report.add(f"{where}.id", f"duplicate id {item_id!r}")
        else:
            ids.add(item_id)
        if not item.get("content_html") and not isinstance(item.get("content_text"), str):
            report.add(where, "needs content_html or content_text")
        if "title" in item:
            _check_title(report, f"{where}.title", item["title"])
        for key in ("url", "image", "external_url"):
            if key in item:
                _check_url(report, f"{where}.{key}", item[key])
        for key in ("date_published", "date_modified"):
            if key in item:
                _check_rfc3339(report, f"{where}.{key}", item[key])
        _check_html(report, f"{where}.content_html", item.get("content_html"))
        if "authors" in item and not isinstance(item["authors"], list):
            report.add(f"{where}.authors", "must be an array")
        if "tags" in item and not (
            isinstance(item["tags"], list) and all(isinstance(t, str) for t in item["tags"])
        ):
            report.add(f"{where}.tags", "must be an array of strings")
        for number, attachment in enumerate(item.get("attachments", []) or []):
            if not isinstance(attachment, dict) or not attachment.get("mime_type"):
                report.add(f"{where}.attachments[{number}]", "needs url and mime_type")
            else:
                _check_url(report, f"{where}.attachments[{number}].url", attachment.get("url"))


# -- entry points -------------------------------------------------------------------


def _inspect(path: Path, public_url: str, name: str | None = None) -> _Report:
    report = _Report(name or str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.add("file", f"cannot read: {exc.strerror}")
        return report
    report.sha256 = sha256_hex(data)
    if len(data) > MAX_BYTES:
        report.add("file", f"{len(data)} bytes: over the validators' {MAX_BYTES}-byte limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.add("file", f"not UTF-8 (byte {exc.start})")
        return report
    if XML_ILLEGAL.search(text):
        report.add("file", "XML-illegal control character")
    fmt = formats.for_file(path.name)
    if fmt is not None and fmt.xml_root is None:
        fmt.lint(report, data, public_url)
        try:
            items = json.loads(text).get("items")
            report.entries = len(items) if isinstance(items, list) else None
        except (ValueError, AttributeError):
            pass
        return report
    root = _parse_xml(report, data)
    if root is None:
        return report
    report.entries = len(root.findall("channel/item")) + len(root.findall(f"{ATOM}entry"))
    fmt = formats.for_root(root.tag)
    if fmt is None:
        report.add("document", f"unknown root element {root.tag!r}")
    else:
        fmt.lint(report, root, public_url)
    return report


def lint_file(path: Path, *, public_url: str) -> list[str]:
    """Problems of one feed file (RSS, Atom or JSON Feed), one line each; [] when clean."""
    return _inspect(path, public_url).problems


def _check_archive_links(reports: dict[str, _Report], base_url: str) -> None:
    """prev/next/current links point at built pages and agree with each other."""

    def target(href: str) -> str | None:
        return href[len(base_url) :] if href.startswith(base_url) else None

    for relpath, report in reports.items():
        for rel in (*ARCHIVE_RELS, "next"):
            for href in report.links.get(rel, []):
                other = target(href)
                if other is None or other not in reports:
                    report.add(f"rel={rel}", f"points at {href!r}, which was not built")
                    continue
                if rel == "current" and reports[other].archive:
                    report.add("rel=current", f"{href!r} is an archive page")
                back = {"prev-archive": "next-archive", "next-archive": "prev-archive"}.get(rel)
                if (
                    back
                    and report.archive
                    and base_url + relpath not in reports[other].links.get(back, [])
                ):
                    report.add(f"rel={rel}", f"{href!r} does not link rel={back} back here")


# (relpath, public URL, mtime_ns, size) -> a file's own report, before the tree check.
LintCache = dict[tuple[str, str, int, int], _Report]


def _reports(settings: Settings, cache: LintCache | None) -> dict[str, _Report]:
    root = settings.feeds_dir
    base_url = settings.site.public_feeds_url
    names = formats.file_names()
    reports: dict[str, _Report] = {}
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.name in names:
                relpath = path.relative_to(root).as_posix()
                reports[relpath] = _inspect_cached(path, base_url + relpath, relpath, cache)
    _check_archive_links(reports, base_url)
    return reports


def _inspect_cached(path: Path, public_url: str, relpath: str, cache: LintCache | None) -> _Report:
    """A file is read and checked again only when its mtime or size changed (a build
    rewrites what changed); the tree check then works on a copy."""
    if cache is None:
        return _inspect(path, public_url, name=relpath)
    try:
        stat = path.stat()
    except OSError:
        return _inspect(path, public_url, name=relpath)
    key = (relpath, public_url, stat.st_mtime_ns, stat.st_size)
    found = cache.get(key)
    if found is None:
        if len(cache) > 4 * MAX_CACHED:  # files rebuilt many times: start afresh
            cache.clear()
        found = cache[key] = _inspect(path, public_url, name=relpath)
    return replace(found, problems=list(found.problems))


MAX_CACHED = 2000


def lint_tree(settings: Settings, *, cache: LintCache | None = None) -> dict[str, list[str]]:
    """Every feed file under the feeds folder -> its problems ([] when clean)."""
    return {relpath: report.problems for relpath, report in _reports(settings, cache).items()}


@dataclass(frozen=True)
class FileCheck:
    """One built feed file as the console lists it."""

    relpath: str
    entries: int | None
    sha256: str
    problems: list[str]


def check_tree(settings: Settings, *, cache: LintCache | None = None) -> dict[str, FileCheck]:
    """Every feed file with its entry count, content hash and lint problems (the same
    checks as ``lint_tree``); with ``cache``, an unchanged file is not read again."""
    return {
        relpath: FileCheck(relpath, report.entries, report.sha256, report.problems)
        for relpath, report in _reports(settings, cache).items()
    }
