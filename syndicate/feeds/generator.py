"""One feedgen ``FeedGenerator`` per page, serving both RSS and Atom.

Per the library notes: entries sorted by us and appended in order, aware datetimes,
``updated``/``lastBuildDate`` set explicitly from the newest entry, HTML as escaped
text with ``type="html"`` (never feedgen's CDATA type).
"""

from __future__ import annotations

import html
import logging
import warnings

from feedgen.feed import FeedGenerator

from syndicate.feeds import atom, podcast, rss
from syndicate.feeds.model import Entry, FeedSpec, Page

log = logging.getLogger(__name__)

GENERATOR = "syndicate"


def make_generator(page: Page, entries: list[Entry]) -> FeedGenerator:
    """A FeedGenerator holding ``page``'s head and ``entries`` (newest first)."""
    spec = page.spec
    generator = FeedGenerator()
    # feedgen makes every registered entry extension for every entry: only the
    # formats this feed has (the extension of an unused one cost a tenth of a build)
    if "rss" in spec.formats:
        rss.register(generator, page, entries)
    if "atom" in spec.formats:
        atom.register(generator, page)
    generator.id(spec.feed_id)
    generator.title(spec.title)
    generator.description(spec.description or spec.title)
    generator.link(href=spec.home_url, rel="alternate", type="text/html")
    generator.language(spec.language)
    generator.author({"name": spec.author_name, "email": spec.author_email or None})
    generator.generator(GENERATOR)
    generator.updated(page.updated)
    generator.lastBuildDate(page.updated)
    if spec.icon:
        generator.icon(spec.icon)
    if spec.logo:
        generator.logo(spec.logo)
    if spec.copyright:
        generator.rights(spec.copyright)
    if spec.podcast is not None:
        podcast.add_channel(generator, spec)
    with_atom = "atom" in spec.formats
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for entry in entries:
            _add_entry(generator, entry, spec, atom_ext=with_atom)
    return generator


def _add_entry(generator: FeedGenerator, entry: Entry, spec: FeedSpec, *, atom_ext: bool) -> None:
    item = generator.add_entry(order="append")
    item.id(entry.id)  # the stored uid: guid isPermaLink="false", Atom id
    item.title(entry.title)
    item.link(href=entry.url, rel="alternate")
    item.published(entry.published)
    item.updated(entry.updated)
    if entry.author_name:
        item.author({"name": entry.author_name, "email": entry.author_email or None})
    summary = html.escape(entry.summary, quote=False)
    item.summary(summary, type="html")  # also the RSS description
    if entry.content_html is not None:
        item.content(entry.content_html, type="html")
    if entry.tags:
        item.category([{"term": tag} for tag in entry.tags])
    if entry.media is not None:
        item.enclosure(entry.media.url, str(entry.media.length), entry.media.mime_type)
    if spec.podcast is not None:
        podcast.add_item(item, entry, spec)
    if atom_ext:
        item.syndicate_atom.entry = entry
