"""RFC 5005 pages: which articles go in the live feed and in each archive page.

Archive page ``n`` (1 = oldest) holds articles ``(n-1)*size .. n*size-1`` in
publication order. The newest page is the one being filled; a full page links
``next-archive`` to the page after it, which therefore always exists (empty just
after a page fills up). So a full page's bytes never change again when articles are
added: a new article rewrites only the live feed and the newest page.

Archive pages start when the first page fills up: a lone archive page would link to no
other page, which the W3C validator reports as "Archive incomplete". Until then the
live feed carries every article (fewer than ``archive_page_size``) and says
``fh:complete``; from then on there are at least two pages, each linking to the other.
"""

from __future__ import annotations

from datetime import datetime

from syndicate.articles import Article
from syndicate.feeds.model import FeedSpec, Page, distinct_times, newest_time


def archive_folder(spec: FeedSpec, number: int) -> str:
    return f"{spec.path}/archive/{number}"


def page_count(spec: FeedSpec, total: int) -> int:
    """How many archive pages ``total`` articles make: 0 without archives or before the
    first page is full, else at least 2."""
    if not spec.archive or total < spec.page_size:
        return 0
    return total // spec.page_size + 1


def plan_pages(
    spec: FeedSpec,
    oldest_first: list[Article],
    times: dict[int, datetime] | None = None,
) -> list[Page]:
    """The live page first, then archive pages 1..n.

    ``times``: each article's ``updated`` time (``distinct_times`` of the feed the
    articles come from, so a per-tag feed shows the times of its parent feed).
    """
    total = len(oldest_first)
    times = times if times is not None else distinct_times(oldest_first)
    count = page_count(spec, total)
    keep = spec.limit if count or not spec.archive else max(spec.limit, total)
    live_articles = tuple(reversed(oldest_first[-keep:])) if total else ()
    live_times = tuple(times[a.id] for a in live_articles)
    live_links = (("prev-archive", archive_folder(spec, count)),) if count else ()
    pages = [
        Page(
            spec=spec,
            folder=spec.path,
            number=0,
            articles=live_articles,
            updated=newest_time(live_times),
            times=live_times,
            links=live_links,
            complete=not count and total <= len(live_articles),
        )
    ]
    for number in range(1, count + 1):
        chunk = tuple(
            reversed(oldest_first[(number - 1) * spec.page_size : number * spec.page_size])
        )
        chunk_times = tuple(times[a.id] for a in chunk)
        links = [("current", spec.path)]
        if number > 1:
            links.append(("prev-archive", archive_folder(spec, number - 1)))
        if number < count:
            links.append(("next-archive", archive_folder(spec, number + 1)))
        pages.append(
            Page(
                spec=spec,
                folder=archive_folder(spec, number),
                number=number,
                articles=chunk,
                # An empty newest page is as new as the full page before it.
                updated=newest_time(chunk_times or (times[oldest_first[-1].id],)),
                times=chunk_times,
                links=tuple(links),
                archive=True,
            )
        )
    return pages
