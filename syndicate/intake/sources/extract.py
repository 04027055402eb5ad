"""The one door from feed sources to HTML extraction.

Full-text fetches and ``syndicate import URL`` call ``extract_page`` and nothing else,
so a better extractor is switched on here, in one line, for every caller.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from syndicate.intake.importers.html import parse_html_page
from syndicate.intake.importers.model import ParsedArticle


def extract_page(html: str, url: str, tz: ZoneInfo) -> ParsedArticle:
    """The article on the page at ``url``, its links resolved against the page's own
    address (errors are ImportFailures naming the URL)."""
    return parse_html_page(html, url, name=url, tz=tz)
