"""An HTML page's own description of its article: title, byline, dates, summary,
lead image, tags, canonical URL and base URL.

Each field has a fixed order of sources (JSON-LD and Open Graph first, because
publishers fill them for search engines and social cards and keep them right;
visible markup after). Values are returned raw: dates are parsed by the caller so
that an unreadable one can fall through to the next source with a warning.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from syndicate.core.sanitize import normalize_space

ARTICLE_TYPES = frozenset(
    {
        "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
        "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "report",
        "techarticle", "scholarlyarticle", "socialmediaposting", "liveblogposting",
        "posting", "creativework",
    }
)  # fmt: skip
PAGE_TYPES = frozenset({"webpage", "itempage", "aboutpage"})
# " | Site", " – Site", " — Site", " - Site", " :: Site", " · Site"
_TITLE_SEPARATOR = re.compile(r"\s+(?:\||–|—|-|::|·|»|/)\s+")
_BYLINE_PREFIX = re.compile(
    r"^\s*(?:by|von|par|por|door|di|av|від|автор(?:ка)?:?|написав|بقلم|מאת)\s+", re.IGNORECASE
)
_BYLINE_END = re.compile(r"\s+(?:\||·|•|—|–|-)\s+.*$|\s*,\s*(?:updated|published)\b.*$", re.I)
_HANDLE = re.compile(r"^@\w|^https?://|^www\.|\.(?:com|org|net)(?:/|$)", re.IGNORECASE)
HEADING_ANCHORS = " ¶#§🔗"
BYLINE_TEXT_MAX = 60
_BYLINE_TAGS = ("p", "span", "div", "i", "em", "font", "small", "address", "b", "strong")
_BYLINE_CLASS = re.compile(r"(?:^|[\s_-])(?:byline|author|article-author|post-author)(?:$|[\s_-])")


@dataclass
class PageMetadata:
    """What the page says about itself; ``None`` when it does not say."""

    title: str | None = None
    site_name: str | None = None
    author: str | None = None
    published: list[tuple[str, str]] = field(default_factory=list)  # (value, where)
    updated: list[tuple[str, str]] = field(default_factory=list)
    summary: str | None = None
    image: str | None = None
    image_type: str | None = None
    tags: list[str] = field(default_factory=list)
    canonical: str | None = None
    base: str | None = None  # <base href>, as written


def _key(element: etree._Element) -> str:
    return (element.get("property") or element.get("name") or "").strip().lower()


def meta_values(root: etree._Element, name: str) -> list[str]:
    """Every non-empty ``<meta name|property=name content>`` in document order."""
    return [
        value
        for element in root.iter("meta")
        if _key(element) == name and (value := normalize_space(element.get("content") or ""))
    ]


def _meta(root: etree._Element, *names: str) -> str | None:
    for name in names:
        values = meta_values(root, name)
        if values:
            return values[0]
    return None


def _flatten(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object, including those in ``@graph`` and lists."""
    if isinstance(node, list):
        for item in node:
            yield from _flatten(item)
    elif isinstance(node, dict):
        yield node
        if "@graph" in node:
            yield from _flatten(node["@graph"])


def _types(node: dict[str, Any]) -> set[str]:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return {str(kind).lower() for kind in kinds if kind}


def json_ld_article(root: etree._Element) -> dict[str, Any]:
    """The page's JSON-LD article object ({} when there is none or it is unreadable)."""
    pages: list[dict[str, Any]] = []
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for node in _flatten(data):
            kinds = _types(node)
            if kinds & ARTICLE_TYPES:
                return node
            if kinds & PAGE_TYPES:
                pages.append(node)
    return pages[0] if pages else {}


def _text(value: Any) -> str | None:
    """A JSON-LD value as one line of text: a string, or an object's name/url/@id."""
    if isinstance(value, list):
        for item in value:
            found = _text(item)
            if found:
                return found
        return None
    if isinstance(value, dict):
        for key in ("name", "url", "contentUrl", "@id"):
            if isinstance(value.get(key), str) and value[key].strip():
                return normalize_space(value[key])
        return None
    if isinstance(value, str | int | float) and str(value).strip():
        return normalize_space(str(value))
    return None


def _person(value: Any) -> str | None:
    """A JSON-LD author: the names of people (joined), never a URL or handle."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, dict) and any("organization" in k for k in _types(item)):
            continue  # a publisher named as author is not a byline
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and (name := clean_byline(name)):
            names.append(name)
    return ", ".join(dict.fromkeys(names)) or None


def clean_byline(text: str) -> str | None:
    """A byline's name: "By Anna Berg · 3 min read" -> "Anna Berg"; a handle or URL -> None."""
    text = _BYLINE_END.sub("", _BYLINE_PREFIX.sub("", normalize_space(text)))
    text = text.strip(" ,;:|·•—–-")
    if not text or _HANDLE.search(text) or len(text) > 120:
        return None
    return text


def strip_site_name(title: str, site_name: str | None) -> str:
    """``"Station reopens | City News"`` -> ``"Station reopens"``.

    With a known site name only that suffix (or prefix) goes; without one, the last
    part goes when it is shorter than the rest (a title rarely ends in its longest part).
    """
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) < 2:
        return title
    if site_name:
        wanted = site_name.casefold()
        if parts[-1].casefold() == wanted:
            return _rejoin(title, -1)
        if parts[0].casefold() == wanted:
            return _rejoin(title, 1)
        return title
    if len(parts[-1]) < len(title) - len(parts[-1]):
        return _rejoin(title, -1)
    return title


def _rejoin(title: str, drop: int) -> str:
    """``title`` without its first (drop=1) or last (drop=-1) separated part."""
    matches = list(_TITLE_SEPARATOR.finditer(title))
    if drop == -1:
        return title[: matches[-1].start()].strip()
    return title[matches[0].end() :].strip()


def heading_text(element: etree._Element) -> str:
    """A heading's text without the anchor symbols documentation generators append."""
    return normalize_space(element.text_content()).rstrip(HEADING_ANCHORS).strip()


def _looks_like_name(text: str) -> bool:
    """Every word starts with a capital (or its script has no case): "Tomas Kral",
    "Ірина Гончар", "ليلى حداد"; not "the end of the year"."""
    words = text.split()
    return 0 < len(words) <= 6 and all(not word[0].islower() for word in words)


def _is_site_heading(text: str, site_name: str | None) -> bool:
    return bool(site_name) and text.casefold() == (site_name or "").casefold()


def _byline_element(root: etree._Element) -> str | None:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.get("rel") == "author" or element.get("itemprop") == "author":
            inner = element.find(".//*[@itemprop='name']")
            name = clean_byline((inner if inner is not None else element).text_content())
            if name:
                return name
    candidates = [
        element
        for element in root.iter()
        if isinstance(element.tag, str)
        and element.tag not in ("body", "html", "article")
        and _BYLINE_CLASS.search((element.get("class") or "").lower())
    ]
    for element in candidates:
        inner = [c for c in candidates if c is not element and element in c.iterancestors()]
        if inner:
            continue  # the innermost byline element holds just the name
        name = clean_byline(_without_times(element))
        if name:
            return name
    for element in root.iter(*_BYLINE_TAGS):
        text = normalize_space(_without_times(element))
        if len(text) <= BYLINE_TEXT_MAX and _BYLINE_PREFIX.match(text):
            name = clean_byline(text)
            if name and _looks_like_name(name):
                return name
    return None


def _without_times(element: etree._Element) -> str:
    """The element's text without its ``<time>`` elements (a byline's date)."""
    clone = copy.deepcopy(element)
    for time in list(clone.iter("time")):
        time.drop_tree()
    return clone.text_content()


def _title(
    root: etree._Element, ld: dict[str, Any], article: etree._Element | None, site: str | None
) -> str | None:
    candidates = [_meta(root, "og:title", "twitter:title"), _text(ld.get("headline"))]
    if article is not None:
        heading = next(iter(article.iter("h1")), None)
        candidates.append(heading_text(heading) if heading is not None else None)
    head_title = root.find(".//head/title")
    if head_title is None:
        head_title = root.find(".//title")
    if head_title is not None:
        candidates.append(strip_site_name(normalize_space(head_title.text_content()), site))
    heading_title = candidates[2] if article is not None else None
    for candidate in candidates:
        if candidate and not _is_site_heading(candidate, site):
            candidate = strip_site_name(candidate, site) if site else candidate
            if heading_title and _with_suffix(candidate, heading_title):
                return heading_title  # "Title | Site" with no og:site_name to say so
            return candidate
    return None


def _with_suffix(title: str, heading: str) -> bool:
    """``title`` is ``heading`` plus a separated suffix or prefix (a site name)."""
    if title == heading or heading not in title:
        return False
    before, _, after = title.partition(heading)
    return bool(
        (not before.strip() and _TITLE_SEPARATOR.match(after))
        or (not after.strip() and _TITLE_SEPARATOR.search(before + " ") and before.rstrip())
    )


def read_metadata(root: etree._Element, article: etree._Element | None) -> PageMetadata:
    """The page's metadata; ``article`` is the element believed to hold the article
    (its ``<h1>`` is a title candidate), or None."""
    ld = json_ld_article(root)
    site = _meta(root, "og:site_name", "application-name") or _text(ld.get("publisher"))
    meta = PageMetadata(site_name=site)
    meta.title = _title(root, ld, article, site)
    for candidate in (
        _person(ld.get("author")),
        *(clean_byline(v) for v in meta_values(root, "author")),
        *(clean_byline(v) for v in meta_values(root, "article:author")),
        *(clean_byline(v) for v in meta_values(root, "dc.creator")),
    ):
        if candidate and not _is_site_heading(candidate, site):
            meta.author = candidate
            break
    else:
        meta.author = _byline_element(article if article is not None else root)
        if meta.author is None and article is not None:
            meta.author = _byline_element(root)

    for kind, ld_key, metas, itemprop in (
        ("published", "datePublished", ("article:published_time", "date", "dc.date",
                                        "dcterms.created", "pubdate"), "datePublished"),
        ("updated", "dateModified", ("article:modified_time", "og:updated_time",
                                     "dcterms.modified", "last-modified"), "dateModified"),
    ):  # fmt: skip
        found: list[tuple[str, str]] = []
        if value := _text(ld.get(ld_key)):
            found.append((value, f"JSON-LD {ld_key}"))
        for name in metas:
            found.extend((value, f"meta {name}") for value in meta_values(root, name))
        for element in root.iter("time"):
            if element.get("itemprop") == itemprop and element.get("datetime"):
                found.append((element.get("datetime", ""), f"<time itemprop={itemprop}>"))
        if kind == "published":
            scope = article if article is not None else root
            for element in scope.iter("time"):
                footer = any(a.tag == "footer" for a in element.iterancestors())
                if element.get("datetime") and not footer:
                    found.append((element.get("datetime", ""), "<time datetime>"))
                    break
        setattr(meta, kind, found)

    meta.summary = _meta(root, "og:description", "description", "twitter:description") or _text(
        ld.get("description")
    )
    meta.image = _meta(root, "og:image", "og:image:url", "og:image:secure_url") or _text(
        ld.get("image") or ld.get("thumbnailUrl")
    )
    meta.image = meta.image or _meta(root, "twitter:image", "twitter:image:src")
    meta.image_type = _meta(root, "og:image:type")
    tags = meta_values(root, "article:tag")
    if not tags:
        keywords = ld.get("keywords")
        if isinstance(keywords, list):
            tags = [str(k) for k in keywords if isinstance(k, str | int)]
        elif isinstance(keywords, str):
            tags = keywords.split(",")
    if not tags and (keywords := _meta(root, "keywords", "news_keywords")):
        tags = keywords.split(",")
    meta.tags = [tag for tag in (normalize_space(t) for t in tags) if tag]

    canonical = next(
        (
            link.get("href", "").strip()
            for link in root.iter("link")
            if "canonical" in (link.get("rel") or "").lower().split() and link.get("href")
        ),
        None,
    )
    meta.canonical = canonical or _meta(root, "og:url") or _text(ld.get("url"))
    base = root.find(".//base[@href]")
    meta.base = base.get("href", "").strip() or None if base is not None else None
    return meta


def join_url(base: str | None, url: str) -> str | None:
    """``url`` resolved against ``base`` (when given); None when either is malformed
    (``http://[x`` makes urllib raise)."""
    try:
        joined = urljoin(base, url.strip()) if base else url.strip()
        urlsplit(joined)
    except ValueError:
        return None
    return joined


def is_web_url(url: str | None) -> bool:
    """An absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def is_relative(url: str | None) -> bool:
    """A URL that needs a base to mean anything (not ``#x``, ``data:``, ``mailto:``...)."""
    if not url or not url.strip() or url.strip().startswith("#"):
        return False
    try:
        return not urlsplit(url.strip()).scheme
    except ValueError:
        return False


def page_base(meta: PageMetadata, source_url: str | None) -> str | None:
    """The URL the page's relative links mean: ``<base href>``, the canonical link or
    ``og:url``, then the URL it was fetched from; None when none is absolute."""
    for candidate in (meta.base, meta.canonical, source_url):
        resolved = join_url(source_url, candidate) if candidate else None
        if is_web_url(resolved):
            return resolved
    return None
