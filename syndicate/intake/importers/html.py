"""HTML articles, a whole web page or a fragment -> ``ParsedArticle``.

``parse_html_page`` is the one entry point for every HTML source (a file, a page
fetched for a feed entry): metadata (``metadata``) is read from the untouched page,
hidden content and lazy images are dealt with, URLs resolved against the page's
own base, and the body found by ``extract``. The store sanitises the body later.
"""

from __future__ import annotations

import mimetypes
import re
from html import escape
from pathlib import PurePosixPath
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree

from syndicate.core.errors import ImportFailure
from syndicate.intake.importers.dates import parse_date
from syndicate.intake.importers.extract import (
    add_lead_image,
    drop_title_heading,
    extract_article,
    first_heading,
    largest_container,
)
from syndicate.intake.importers.metadata import (
    PageMetadata,
    is_relative,
    is_web_url,
    join_url,
    page_base,
    read_metadata,
)
from syndicate.intake.importers.model import ParsedArticle, normalise_tags
from syndicate.intake.importers.prepare import drop_hidden, has_relative_urls, prepare

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
UTC_ZONE = ZoneInfo("UTC")


def _read(text: str, name: str) -> etree._Element:
    source = _XML_DECLARATION.sub("", text, count=1)
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(source.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ImportFailure(name, f"cannot read the HTML: {exc}") from None


def _inner_html(element: etree._Element) -> str:
    parts = [escape(element.text, quote=False)] if element.text else []
    for child in element:
        parts.append(lxml.html.tostring(child, encoding="unicode", with_tail=True))
    return "".join(parts)


def _first_date(
    candidates: list[tuple[str, str]], tz: ZoneInfo, kind: str, warnings: list[str]
) -> object:
    """The first readable date in precedence order; unreadable ones are warnings."""
    for value, where in candidates:
        try:
            return parse_date(value, tz)
        except ValueError as exc:
            warnings.append(f"{kind} date from {where} ignored: {exc}")
    return None


def _name_title(name: str) -> str:
    """A title from a file name or URL: ``/x/bridge-closed.html`` -> ``bridge closed``."""
    path = name.split("://", 1)[-1].split("?")[0].split("#")[0]
    stem = PurePosixPath(unquote(path).replace("\\", "/").rstrip("/")).stem
    return " ".join(re.split(r"[-_\s]+", stem)).strip()


def _title(meta: PageMetadata, content: etree._Element, name: str, warnings: list[str]) -> str:
    if meta.title:
        return meta.title
    heading = first_heading(content)
    if heading:
        warnings.append("no title in the page's metadata or <title>: used its first heading")
        return heading
    from_name = _name_title(name)
    if not any(ch.isalnum() for ch in from_name):
        raise ImportFailure(name, "no title: add <h1>, <title> or an og:title meta tag")
    warnings.append(f"no title or heading in the page: used the name {from_name!r}")
    return from_name


def parse_html_page(
    html: str,
    source_url: str | None,
    *,
    name: str | None = None,
    tz: ZoneInfo | None = None,
) -> ParsedArticle:
    """Parse an HTML page (or fragment) into an article.

    ``source_url`` is where the page was fetched from (None for a local file): it is
    the base for relative URLs after ``<base href>`` and the canonical link. When no
    base is known, relative URLs are left for the store to resolve against
    ``site.url`` and a warning says so. ``name`` names the page in messages (the
    file or URL); ``tz`` reads dates written without a zone (default UTC).
    Raises ImportFailure when the page cannot be read or has no title at all.
    """
    name = name or source_url or "page"
    tz = tz or UTC_ZONE
    document = _read(html, name)
    body = document.find(".//body")
    warnings: list[str] = []
    drop_hidden(document)
    meta = read_metadata(document, largest_container(body if body is not None else document))
    base = page_base(meta, source_url)
    prepare(document, title=meta.title, base=base)
    content = extract_article(document)

    article = ParsedArticle(title="", body_html="", fmt="html", warnings=warnings)
    article.title = _title(meta, content, name, warnings)
    drop_title_heading(content, article.title)
    article.author_name = meta.author
    article.published = _first_date(meta.published, tz, "published", warnings)  # type: ignore[assignment]
    article.updated = _first_date(meta.updated, tz, "updated", warnings)  # type: ignore[assignment]
    article.tags = normalise_tags(meta.tags)
    article.summary = meta.summary
    if meta.canonical:
        canonical = join_url(base or source_url, meta.canonical)
        article.canonical_url = canonical if is_web_url(canonical) else None
    image = join_url(base, meta.image) if meta.image else None
    if image:
        article.image_url = image
        article.image_type = meta.image_type or mimetypes.guess_type(image.split("?")[0])[0]
        add_lead_image(content, document, image)
    if base is None and (has_relative_urls(content) or is_relative(article.image_url)):
        warnings.append(
            "the page names no address of its own (<base href>, canonical link or og:url): "
            "relative links resolve against site.url"
        )
    article.body_html = _inner_html(content)
    return article


def parse_html(text: str, name: str, tz: ZoneInfo) -> ParsedArticle:
    """A local HTML file: a page with no source URL of its own."""
    return parse_html_page(text, None, name=name, tz=tz)
