"""Atom (RFC 4287) through feedgen, with the links feedgen cannot write.

feedgen limits feed-level link relations to a fixed list (no ``hub``, no archive
relations) and drops every attribute but ``href`` from entry links, which would
turn an enclosure into a second ``alternate``. The extension writes those links.
"""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.feeds.model import Entry, Page
from syndicate.feeds.rss import FH_NS, add_feed_links

ATOM_TYPE = "application/atom+xml"


class AtomFeedExtension(BaseExtension):
    """self, hub and archive links, and the fh: marker, on the Atom feed."""

    page: Page | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        assert self.page is not None
        # feedgen builds Atom elements without a namespace under an xmlns attribute:
        # add ours the same way so they serialise in the Atom namespace.
        add_feed_links(feed, "link", self.page, "atom", ATOM_TYPE)
        return feed


class AtomEntryExtension(BaseEntryExtension):
    """Replaces feedgen's attribute-less entry links with complete ones."""

    entry: Entry | None = None

    def extend_atom(self, element: etree._Element) -> etree._Element:
        assert self.entry is not None
        for old in element.findall("link"):
            element.remove(old)
        etree.SubElement(element, "link", href=self.entry.url, rel="alternate", type="text/html")
        media = self.entry.media
        if media is not None:
            link = etree.SubElement(
                element, "link", href=media.url, rel="enclosure", type=media.mime_type
            )
            if media.length:
                link.attrib["length"] = str(media.length)
        return element


def register(generator: FeedGenerator, page: Page) -> None:
    generator.register_extension(
        "syndicate_atom", AtomFeedExtension, AtomEntryExtension, atom=True, rss=False
    )
    generator.syndicate_atom.page = page  # type: ignore[attr-defined]


def render_atom(generator: FeedGenerator) -> bytes:
    return generator.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
