"""Feeds: stored articles -> RSS 2.0, Atom and JSON Feed files, with RFC 5005 archives.

model.py      what a feed, a page and an entry hold, format-independent
archive.py    which articles go in the live feed and in each archive page
generator.py  one feedgen FeedGenerator per page, for RSS and Atom
rss.py        RSS 2.0 and its feedgen extension (hub/archive atom:links, dc:creator)
atom.py       Atom and its feedgen extension (hub/archive links, entry links)
jsonfeed.py   JSON Feed 1.1 with ``json``
index.py      index.html and feeds.opml
build.py      plan, render what changed, write atomically: ``build_feeds``
"""

from __future__ import annotations

from syndicate.feeds.build import BuildReport, build_feeds

__all__ = ["BuildReport", "build_feeds"]
