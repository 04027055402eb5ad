"""RSS 2.0 through feedgen, plus the small extension feedgen lacks.

feedgen's RSS writer keeps only the ``atom:link rel="self"``; this extension writes
the self, WebSub hub and RFC 5005 archive links as ``atom:link`` elements in the
channel, ``fh:archive``/``fh:complete``, and ``dc:creator`` per item.
"""

from __future__ import annotations

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.feeds.model import Entry, Page

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
    """Channel-level atom:links and fh: marker for RSS; ``dc:creator`` of the items."""

    page: Page | None = None
    entries: list[Entry] | None = None  # the generator's entries, in order

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS, "dc": DC_NS}

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        assert self.page is not None
        add_feed_links(feed[0], f"{{{ATOM_NS}}}link", self.page, "rss", RSS_TYPE)
        return feed

    def add_creators(self, channel: etree._Element) -> None:
        """``dc:creator``: the author's name, for an item with no ``author`` (which must
        be an email address). One pass over the finished items: an entry extension
        would be made and called per item, a tenth of a large build."""
        assert self.page is not None and self.entries is not None
        feed_author = self.page.spec.author_name
        for item, entry in zip(channel.iterfind("item"), self.entries, strict=True):
            creator = rss_creator(entry, feed_author)
            if creator:
                if entry.author_name and entry.author_email:  # feedgen wrote an author
                    for author in item.findall("author"):  # one or the other, never both
                        item.remove(author)
                etree.SubElement(item, f"{{{DC_NS}}}creator").text = creator


def rss_creator(entry: Entry, feed_author: str) -> str | None:
    """The item's ``dc:creator``, or None when it carries ``author`` instead.

    RSS names a person once (the validator warns when an item has both): ``author``
    when there is an address (feedgen writes "email (name)"), else ``dc:creator`` with
    the name, as RSS ``author`` must be an address. A name with parentheses cannot sit
    inside "email (name)", so it goes in dc:creator too.
    """
    name = entry.author_name or ""
    if entry.author_email and name and "(" not in name and ")" not in name:
        return None
    return name or feed_author


def register(generator: FeedGenerator, page: Page, entries: list[Entry]) -> None:
    generator.register_extension("syndicate_rss", RssFeedExtension, None, atom=False, rss=True)
    generator.syndicate_rss.page = page
    generator.syndicate_rss.entries = entries


def render_rss(generator: FeedGenerator) -> bytes:
    # rss_str, with the items' dc:creator added once feedgen has made them
    feed, doc = generator._create_rss()
    generator.syndicate_rss.add_creators(feed[0])
    return bytes(etree.tostring(doc, pretty_print=True, encoding="UTF-8", xml_declaration=True))
