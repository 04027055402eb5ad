"""HTML articles, a whole page or a fragment.

Title from ``og:title``, the first ``<h1>`` or ``<title>``; author, date, tags,
summary and image from meta tags and ``<time>``; the body from ``<article>`` or
``<main>`` when present, else ``<body>``, with navigation, header, footer, asides,
scripts, styles, forms and comments removed. The sanitiser does the rest.
"""

from __future__ import annotations

import mimetypes
import re
from html import escape
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree

from ..errors import ImportFailure
from ..sanitize import normalize_space
from .dates import parse_date
from .model import ParsedArticle, normalise_tags

CHROME_TAGS = (
    "nav", "header", "footer", "aside", "script", "style", "form", "noscript",
    "template", "button", "input", "select", "textarea", "link", "meta",
)  # fmt: skip
CHROME_ROLES = ("navigation", "banner", "contentinfo", "search", "complementary")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def _meta(root: etree._Element, *names: str) -> tuple[str, int | None] | None:
    """The first non-empty meta content for any of ``names`` (name= or property=)."""
    wanted = {n.lower() for n in names}
    for element in root.iter("meta"):
        key = (element.get("property") or element.get("name") or "").strip().lower()
        content = normalize_space(element.get("content") or "")
        if key in wanted and content:
            return content, element.sourceline
    return None


def _all_meta(root: etree._Element, name: str) -> list[str]:
    return [
        normalize_space(element.get("content") or "")
        for element in root.iter("meta")
        if (element.get("property") or element.get("name") or "").strip().lower() == name
    ]


def _text_of(element: etree._Element) -> str:
    return normalize_space(element.text_content())


def _date(
    root: etree._Element, content: etree._Element, tz: ZoneInfo, name: str, kind: str
) -> object:
    if kind == "published":
        metas = ("article:published_time", "date", "dc.date", "dcterms.created", "pubdate")
        itemprop = "datePublished"
    else:
        metas = ("article:modified_time", "og:updated_time", "dcterms.modified", "last-modified")
        itemprop = "dateModified"
    found = _meta(root, *metas)
    if found is None:
        for element in root.iter("time"):
            if element.get("itemprop") == itemprop and element.get("datetime"):
                found = (element.get("datetime"), element.sourceline)
                break
    if found is None and kind == "published":
        for element in content.iter("time"):
            inside_footer = any(a.tag == "footer" for a in element.iterancestors())
            if element.get("datetime") and not inside_footer:
                found = (element.get("datetime"), element.sourceline)
                break
    if found is None:
        return None
    value, line = found
    try:
        return parse_date(value, tz)
    except ValueError as exc:
        raise ImportFailure(name, f"{kind} date: {exc}", line=line) from None


def _content_root(body: etree._Element) -> etree._Element:
    for tag in ("article", "main"):
        found = body.find(f".//{tag}")
        if found is not None:
            return found
    found = body.find(".//*[@role='main']")
    return found if found is not None else body


def _drop_chrome(content: etree._Element) -> None:
    doomed = [
        element
        for element in content.iter()
        if not isinstance(element.tag, str)
        or element.tag in CHROME_TAGS
        or (element.get("role") or "").lower() in CHROME_ROLES
        or element.get("hidden") is not None
    ]
    for element in doomed:
        if element is content:
            continue
        element.drop_tree()


def _inner_html(element: etree._Element) -> str:
    parts = [escape(element.text, quote=False)] if element.text else []
    for child in element:
        parts.append(lxml.html.tostring(child, encoding="unicode", with_tail=True))
    return "".join(parts)


def parse_html(text: str, name: str, tz: ZoneInfo) -> ParsedArticle:
    """Parse an HTML page or fragment into an article."""
    source = _XML_DECLARATION.sub("", text, count=1)
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        document = lxml.html.document_fromstring(source.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ImportFailure(name, f"cannot read the HTML: {exc}") from None
    body = document.find(".//body")
    if body is None:
        body = document
    content = _content_root(body)
    article = ParsedArticle(title="", body_html="", fmt="html")

    title = _meta(document, "og:title", "twitter:title")
    first_h1 = next(iter(content.iter("h1")), None)
    if first_h1 is None:
        first_h1 = next(iter(body.iter("h1")), None)
    if title:
        article.title = title[0]
    elif first_h1 is not None and _text_of(first_h1):
        article.title = _text_of(first_h1)
    else:
        head_title = document.find(".//title")
        if head_title is not None:
            article.title = _text_of(head_title)
    if not article.title:
        raise ImportFailure(name, "no title: add <h1>, <title> or an og:title meta tag")

    author = _meta(document, "author", "article:author", "dc.creator", "twitter:creator")
    if author and not author[0].startswith(("http://", "https://")):
        article.author_name = author[0]
    else:
        rel_author = body.find(".//a[@rel='author']")
        if rel_author is not None and _text_of(rel_author):
            article.author_name = _text_of(rel_author)
    article.published = _date(document, content, tz, name, "published")  # type: ignore[assignment]
    article.updated = _date(document, content, tz, name, "updated")  # type: ignore[assignment]
    tags = _all_meta(document, "article:tag")
    keywords = _meta(document, "keywords")
    if not tags and keywords:
        tags = keywords[0].split(",")
    article.tags = normalise_tags(tags)
    description = _meta(document, "og:description", "description")
    article.summary = description[0] if description else None
    image = _meta(document, "og:image", "twitter:image")
    if image:
        article.image_url = image[0]
        image_type = _meta(document, "og:image:type")
        article.image_type = (
            image_type[0] if image_type else mimetypes.guess_type(image[0].split("?")[0])[0]
        )

    if first_h1 is not None and _text_of(first_h1) == article.title and first_h1 is not content:
        first_h1.drop_tree()  # the title is shown by the feed or page, not twice
    _drop_chrome(content)
    article.body_html = _inner_html(content)
    return article
