"""The feeds folder layout: which files are archive pages and how long they are cached."""

from __future__ import annotations

import pytest

from syndicate.feeds import files as feedfiles


@pytest.mark.parametrize(
    "relpath",
    ["all/archive/1/rss.xml", "all/archive/12/atom.xml", "archive/3/feed.json"],
)
def test_archive_pages_are_archive(relpath: str) -> None:
    assert feedfiles.is_archive(relpath)
    assert not feedfiles.is_live_feed(relpath)


@pytest.mark.parametrize(
    "relpath",
    [
        "tags/archive/rss.xml",  # the per-tag feed of the tag "archive"
        "archive/rss.xml",
        "all/archive/latest/atom.xml",
        "all/archive/1/index.html",
    ],
)
def test_folders_named_archive_are_not_archive_pages(relpath: str) -> None:
    assert not feedfiles.is_archive(relpath)


def test_tag_feed_named_archive_gets_the_live_cache_lifetime() -> None:
    assert feedfiles.is_live_feed("tags/archive/rss.xml")
    assert feedfiles.cache_control("tags/archive/rss.xml") == feedfiles.LIVE_CACHE


def test_archive_pages_are_cached_a_day_and_not_immutable() -> None:
    # The newest page is still filling; a back-dated import shifts page contents.
    header = feedfiles.cache_control("all/archive/2/rss.xml")
    assert "immutable" not in header
    assert header == "public, max-age=86400"
