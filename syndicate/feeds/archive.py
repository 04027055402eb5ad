"""RFC 5005 pages: which articles go in the live feed and in each archive page.

Archive page ``n`` (1 = oldest) holds articles ``(n-1)*size .. n*size-1`` in
publication order. The newest page is the one being filled; a full page links
``next-archive`` to the page after it, which therefore always exists (empty just
after a page fills up). So a full page's bytes never change again when articles are
added: a new article rewrites only the live feed and the newest page.
"""

from __future__ import annotations

from syndicate.articles import Article
from syndicate.feeds.model import FeedSpec, Page, newest_time


def archive_folder(spec: FeedSpec, number: int) -> str:
    return f"{spec.path}/archive/{number}"


def page_count(spec: FeedSpec, total: int) -> int:
    """How many archive pages ``total`` articles make (0 without archives)."""
    if not spec.archive or total == 0:
        return 0
    return total // spec.page_size + 1


def plan_pages(spec: FeedSpec, oldest_first: list[Article]) -> list[Page]:
    """The live page first, then archive pages 1..n."""
    total = len(oldest_first)
    count = page_count(spec, total)
    live_articles = tuple(reversed(oldest_first[-spec.limit :])) if total else ()
    live_links = (("prev-archive", archive_folder(spec, count)),) if count else ()
    pages = [
        Page(
            spec=spec,
            folder=spec.path,
            number=0,
            articles=live_articles,
            updated=newest_time(live_articles),
            links=live_links,
            complete=not spec.archive and total <= spec.limit,
        )
    ]
    for number in range(1, count + 1):
        chunk = tuple(
            reversed(oldest_first[(number - 1) * spec.page_size : number * spec.page_size])
        )
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
                updated=newest_time(chunk or tuple(oldest_first[-1:])),
                links=tuple(links),
                archive=True,
            )
        )
    return pages
