"""RSS 2.0 through feedgen, plus the small extension feedgen lacks.

feedgen's RSS writer keeps only the ``atom:link rel="self"``; this extension writes
the self, WebSub hub and RFC 5005 archive links as ``atom:link`` elements in the
channel, ``fh:archive``/``fh:complete``, and ``dc:creator`` per item.
"""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.feeds.model import Page

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"
DC_NS = "http://purl.org/dc/elements/1.1/"
RSS_TYPE = "application/rss+xml"


def feed_links(page: Page, fmt: str, media_type: str) -> list[tuple[str, str, str | None]]:
    """(rel, href, type) of the feed-level links besides ``alternate``, in a fixed order."""
    spec = page.spec
    links: list[tuple[str, str, str | None]] = [("self", spec.url(page.folder, fmt), media_type)]
    if page.is_live:
        links += [("hub", hub, None) for hub in spec.hubs]
    for rel in ("current", "prev-archive", "next-archive"):
        folder = page.link(rel)
        if folder is not None:
            links.append((rel, spec.url(folder, fmt), media_type))
    return links


def history_marker(page: Page) -> str | None:
    """The RFC 5005 element this page carries: ``archive``, ``complete`` or none."""
    if page.archive:
        return "archive"
    if page.complete:
        return "complete"
    return None


def add_feed_links(
    parent: etree._Element, link_tag: str, page: Page, fmt: str, media_type: str
) -> None:
    """Append the self/hub/archive links and the RFC 5005 marker to ``parent``
    (the RSS channel with ``atom:link``, or the Atom feed with ``link``)."""
    for rel, href, link_type in feed_links(page, fmt, media_type):
        link = etree.SubElement(parent, link_tag, href=href, rel=rel)
        if link_type:
            link.attrib["type"] = link_type
    marker = history_marker(page)
    if marker:
        etree.SubElement(parent, f"{{{FH_NS}}}{marker}")


class RssFeedExtension(BaseExtension):
    """Channel-level atom:links and fh: marker for RSS."""

    page: Page | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS, "dc": DC_NS}

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        assert self.page is not None
        add_feed_links(feed[0], f"{{{ATOM_NS}}}link", self.page, "rss", RSS_TYPE)
        return feed


class RssEntryExtension(BaseEntryExtension):
    """``dc:creator``: the author's name, for an item with no ``author`` (which must be
    an email address)."""

    creator: str | None = None
    has_author: bool = False  # feedgen wrote an ``author`` (it does when there is an email)

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.creator:
            if self.has_author:  # one or the other, never both
                for author in item.findall("author"):
                    item.remove(author)
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = self.creator
        return item


def register(generator: FeedGenerator, page: Page) -> None:
    generator.register_extension(
        "syndicate_rss", RssFeedExtension, RssEntryExtension, atom=False, rss=True
    )
    generator.syndicate_rss.page = page


def render_rss(generator: FeedGenerator) -> bytes:
    return bytes(generator.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))
