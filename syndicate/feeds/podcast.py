"""A podcast feed's iTunes tags, through feedgen's podcast extension.

Channel: ``itunes:image`` (artwork), ``itunes:category`` (Apple's list, checked in
config), ``itunes:explicit``, ``itunes:author``, ``itunes:owner``, ``itunes:summary``,
``itunes:type``. Item: ``itunes:duration`` (HH:MM:SS), ``itunes:author``,
``itunes:summary``, ``itunes:explicit`` and ``itunes:episodeType``. The enclosure itself
(URL, exact byte length, type) is the entry's media, written like every other feed's.
"""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.feeds.model import Entry, FeedSpec

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"


def format_duration(seconds: int) -> str:
    """``HH:MM:SS``, the form every podcast app reads."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class _Explicit(BaseExtension):
    """``itunes:explicit`` as ``true``/``false``: Apple's current values (feedgen only
    writes the older ``yes``/``no``/``clean``, and feed readers read ``no`` as unknown)."""

    value: bool | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NS}

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        if self.value is not None:
            element = etree.SubElement(feed[0], f"{{{ITUNES_NS}}}explicit")
            element.text = "true" if self.value else "false"
        return feed


class _ExplicitEntry(BaseEntryExtension):
    value: bool | None = None

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.value is not None:
            element = etree.SubElement(item, f"{{{ITUNES_NS}}}explicit")
            element.text = "true" if self.value else "false"
        return item


def add_channel(generator: FeedGenerator, spec: FeedSpec) -> None:
    """Load feedgen's podcast extension and fill the channel's iTunes tags."""
    podcast = spec.podcast
    assert podcast is not None
    generator.load_extension("podcast", atom=False, rss=True)
    ext = generator.podcast
    ext.itunes_image(podcast.image)
    category = {"cat": podcast.category}
    if podcast.subcategory:
        category["sub"] = podcast.subcategory
    ext.itunes_category(category)
    generator.register_extension(
        "syndicate_explicit", _Explicit, _ExplicitEntry, atom=False, rss=True
    )
    generator.syndicate_explicit.value = podcast.explicit
    ext.itunes_author(spec.author_name)
    if spec.author_email:
        ext.itunes_owner(name=spec.author_name, email=spec.author_email)
    ext.itunes_summary(spec.description or spec.title)
    ext.itunes_type("episodic")
    generator.image(url=podcast.image, title=spec.title, link=spec.home_url)


def add_item(item: object, entry: Entry, spec: FeedSpec) -> None:
    """An episode's iTunes tags; only entries with an audio or video enclosure are episodes."""
    assert spec.podcast is not None
    ext = item.podcast  # type: ignore[attr-defined]
    ext.itunes_author(entry.author_name or spec.author_name)
    ext.itunes_summary(entry.summary)
    item.syndicate_explicit.value = spec.podcast.explicit  # type: ignore[attr-defined]
    ext.itunes_episode_type("full")
    media = entry.media
    if media is not None and media.duration:
        ext.itunes_duration(format_duration(media.duration))
