"""The layout of the feeds folder, shared by the builder, the hosts and the web app.

    <path>/rss.xml, <path>/atom.xml, <path>/feed.json     live feeds (short cache, pushed last)
    <path>/archive/<n>/{rss.xml,atom.xml,feed.json}       RFC 5005 archive pages, n = 1 oldest
    index.html, feeds.opml                                the feed list
A built feed file's modification time is its newest entry's time (Last-Modified).
"""

from __future__ import annotations

from pathlib import PurePosixPath

FEED_FILES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}

MEDIA_TYPES = {
    "rss.xml": "application/rss+xml; charset=utf-8",
    "atom.xml": "application/atom+xml; charset=utf-8",
    "feed.json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".svg": "image/svg+xml",
}

LIVE_CACHE = "public, max-age=300"
# Not ``immutable``: the newest archive page is still filling, and a back-dated import
# or ``articles remove`` shifts entries between pages. A day bounds how stale a cache is.
ARCHIVE_CACHE = "public, max-age=86400"
OTHER_CACHE = "public, max-age=3600"


def media_type(relpath: str) -> str:
    name = PurePosixPath(relpath).name
    if name in MEDIA_TYPES:
        return MEDIA_TYPES[name]
    return MEDIA_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def is_archive(relpath: str) -> bool:
    """``<path>/archive/<digits>/<feed file>``: not any folder named "archive" (a
    per-tag feed ``tags/archive/rss.xml`` is a live feed)."""
    parts = PurePosixPath(relpath).parts
    return (
        len(parts) >= 3
        and parts[-3] == "archive"
        and parts[-2].isascii()
        and parts[-2].isdigit()
        and is_feed_file(relpath)
    )


def is_feed_file(relpath: str) -> bool:
    return PurePosixPath(relpath).name in FEED_FILES.values()


def is_live_feed(relpath: str) -> bool:
    return is_feed_file(relpath) and not is_archive(relpath)


def cache_control(relpath: str) -> str:
    """Live feeds change often: minutes. Archive pages change rarely: a day."""
    if is_live_feed(relpath):
        return LIVE_CACHE
    if is_archive(relpath):
        return ARCHIVE_CACHE
    return OTHER_CACHE
