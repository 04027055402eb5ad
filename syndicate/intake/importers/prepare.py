"""A web page made ready for extraction: what the engine gets wrong, fixed first.

Each rule here exists because a test (tests/test_import_html.py, the corpus in
tests/corpus_html) shows trafilatura getting the page wrong without it:

- content hidden with ``hidden``, ``aria-hidden="true"``, ``display:none`` or
  ``visibility:hidden`` is dropped while the style is still there to read (the
  engine keeps it, and the sanitiser strips the style, which would show it);
- lazy images get their real ``src`` (``data-src``, ``data-srcset``, ``srcset``,
  ``<picture>`` sources, the ``<img>`` inside ``<noscript>``);
- markup the engine would lose is normalised: layout tables, loose text between
  blocks, bare ``<pre>``, ``<time>`` inside a sentence;
- blocks classed as share/follow/subscribe/related/promo/ad/cookie/comments go, and
  on a page of several full articles only the one headed by the title stays;
- every URL is resolved against the page's own base.
"""

from __future__ import annotations

import copy
import re

import lxml.html
from lxml import etree

from syndicate.core.sanitize import normalize_space
from syndicate.intake.importers.metadata import heading_text, is_relative, join_url

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.I)
LAZY_SRC_ATTRIBUTES = (
    "data-src", "data-lazy-src", "data-original", "data-lazy", "data-url",
    "data-full-src", "data-hi-res-src", "data-orig-file",
)  # fmt: skip
LAZY_SRCSET_ATTRIBUTES = ("data-srcset", "data-lazy-srcset", "srcset")
_PLACEHOLDER = re.compile(r"(?:^data:|blank\.gif|spacer\.gif|pixel\.gif|placeholder|lazy)", re.I)
_SRCSET_ITEM = re.compile(r"\s*(\S+?)(?:\s+(\d+(?:\.\d+)?)([wx]))?\s*(?:,|$)")
URL_ATTRIBUTES = ("href", "src", "cite", "poster")
_SKIP_SCHEMES = ("data:", "javascript:", "mailto:", "tel:", "#")
BOILERPLATE_WORDS = frozenset(
    {"share", "sharing", "sharedaddy", "social", "follow", "subscribe", "subscription",
     "newsletter", "related", "relatedposts", "recommended", "promo", "advert", "ad",
     "ads", "advertisement", "cookie", "cookies", "consent", "comments", "comment"}
)  # fmt: skip
HIDDEN_PAGE_SHARE = 0.5  # of the page's text: more than that is the page, not a block
BOILERPLATE_SHARE = 0.25  # of the page's text: more than that is not a side block
BOILERPLATE_MAX_PARAGRAPHS = 3
FULL_ARTICLE_CHARS = 500
INLINE_PARENTS = frozenset(
    {"p", "li", "td", "th", "dd", "blockquote", "em", "strong", "b", "i", "span", "a",
     "figcaption", "q", "cite", "small", "mark"}
)  # fmt: skip


def is_hidden(element: etree._Element) -> bool:
    """Hidden from readers by the page itself (attribute or inline style)."""
    if element.get("hidden") is not None:
        return True
    if (element.get("aria-hidden") or "").strip().lower() == "true":
        return True
    return bool(_HIDDEN_STYLE.search(element.get("style") or ""))


def drop_hidden(root: etree._Element) -> None:
    """Remove hidden elements with their content (``<html>``/``<body>`` stay).

    An element holding most of the page's text is kept (its hidden children still
    go): pages saved while a script hid the whole app until it loaded, or while a
    dialog set ``aria-hidden`` on everything behind it, would otherwise lose all.
    """
    body = root.find(".//body")
    limit = HIDDEN_PAGE_SHARE * text_length(body if body is not None else root)
    doomed = [
        element
        for element in root.iter()
        if isinstance(element.tag, str)
        and element.tag not in ("html", "body", "head")
        and is_hidden(element)
    ]
    for element in doomed:
        if element.getparent() is not None and text_length(element) <= limit:
            element.drop_tree()


def _usable(src: str | None) -> bool:
    return bool(src and src.strip() and not _PLACEHOLDER.search(src.strip()))


def best_from_srcset(srcset: str) -> str | None:
    """The widest (or highest-density) candidate of a ``srcset``."""
    best: tuple[float, str] | None = None
    for match in _SRCSET_ITEM.finditer(srcset):
        url = match.group(1)
        if not url or url == ",":
            continue
        size = float(match.group(2) or 1)
        if best is None or size > best[0]:
            best = (size, url.rstrip(","))
    return best[1] if best else None


def _lazy_src(img: etree._Element) -> str | None:
    for name in LAZY_SRC_ATTRIBUTES:
        if _usable(img.get(name)):
            return img.get(name, "").strip()
    for name in LAZY_SRCSET_ATTRIBUTES:
        if img.get(name) and (best := best_from_srcset(img.get(name, ""))) and _usable(best):
            return best
    picture = next(img.iterancestors("picture"), None)
    if picture is not None:
        for source in picture.iter("source"):
            for name in LAZY_SRCSET_ATTRIBUTES:
                if (best := best_from_srcset(source.get(name) or "")) and _usable(best):
                    return best
    return None


def _noscript_images(noscript: etree._Element) -> list[etree._Element]:
    images = list(noscript.iter("img"))
    if not images and noscript.text and "<img" in noscript.text:
        fragment = lxml.html.fragment_fromstring(noscript.text, create_parent="div")
        images = list(fragment.iter("img"))
    return images


def fix_lazy_images(root: etree._Element) -> None:
    """Give every image its real ``src``; drop placeholders that have none."""
    for noscript in list(root.iter("noscript")):
        images = _noscript_images(noscript)
        parent = noscript.getparent()
        if not images or parent is None or not _usable(images[0].get("src")):
            continue
        real = copy.deepcopy(images[0])
        real.tail = noscript.tail
        beside = [
            img
            for img in parent.iter("img")
            if not any(ancestor is noscript for ancestor in img.iterancestors())
        ]
        placeholder = next((img for img in beside if not _usable(img.get("src"))), None)
        if placeholder is not None:
            placeholder.set("src", real.get("src", ""))  # the real one, not a guess
            noscript.drop_tree()
        elif any(img.get("src") == real.get("src") for img in beside):
            noscript.drop_tree()
        else:
            parent.replace(noscript, real)
    for img in list(root.iter("img")):
        if _usable(img.get("src")):
            continue
        found = _lazy_src(img)
        if found:
            img.set("src", found)
        else:
            img.drop_tree()
    for img in root.iter("img"):
        for name in (*LAZY_SRC_ATTRIBUTES, *LAZY_SRCSET_ATTRIBUTES, "sizes", "loading"):
            img.attrib.pop(name, None)
    for picture in list(root.iter("picture")):
        for source in list(picture.iter("source")):
            source.drop_tag()  # libxml2 does not know <source> is empty: it may hold the <img>
        picture.drop_tag()  # the engine skips images inside <picture>


def resolve_urls(root: etree._Element, base: str) -> None:
    """Make every link and image URL absolute against ``base``."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in URL_ATTRIBUTES:
            value = element.get(name)
            if value is None or value.strip().lower().startswith(_SKIP_SCHEMES):
                continue
            joined = join_url(base, value)
            if joined is None:
                element.attrib.pop(name, None)
            else:
                element.set(name, joined)


def has_relative_urls(root: etree._Element) -> bool:
    """Whether any link or image URL still needs a base to mean something."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in ("href", "src"):
            value = element.get(name)
            if is_relative(value) and not (value or "").strip().lower().startswith(_SKIP_SCHEMES):
                return True
    return False


def _class_words(element: etree._Element) -> set[str]:
    names = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    return set(re.split(r"[\s_-]+", names))


def drop_boilerplate_blocks(document: etree._Element) -> None:
    """Remove blocks whose class or id says they are a share/follow/subscribe bar, a
    related list, a promotion, an ad, a cookie notice or comments.

    The engine misses such blocks when they are a plain paragraph inside the body
    (e.g. "follow our Telegram channel"). A block that holds the page's ``<h1>``,
    several paragraphs or a large part of its text is left to the engine: a class
    like "has-comments" on the article itself must not take the article with it.
    """
    body = document.find(".//body")
    if body is None:
        return
    limit = BOILERPLATE_SHARE * text_length(body)
    doomed = [
        element
        for element in body.iter()
        if isinstance(element.tag, str)
        and element.tag not in ("body", "main", "article")
        and _class_words(element) & BOILERPLATE_WORDS
        and element.find(".//h1") is None
        and len(element.findall(".//p")) < BOILERPLATE_MAX_PARAGRAPHS
        and text_length(element) <= limit
    ]
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()


def keep_named_article(document: etree._Element, title: str | None) -> None:
    """On a page of several full articles (a stream, "next story" below the story),
    remove those that are not the one whose heading is the page's title."""
    if not title:
        return
    wanted = normalize_space(title).casefold()
    named = [
        a
        for a in document.iter("article")
        if any(heading_text(h).casefold() == wanted for h in a.iter(*HEADINGS))
    ]
    if len(named) != 1:
        return
    keep = named[0]
    related = {keep, *keep.iterancestors(), *keep.iterdescendants()}
    for other in list(document.iter("article")):
        full = text_length(other) >= FULL_ARTICLE_CHARS
        if full and other not in related and other.getparent() is not None:
            other.drop_tree()


def text_length(element: etree._Element) -> int:
    return len(normalize_space("".join(element.itertext())))


BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
     "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
     "main", "nav", "ol", "p", "pre", "section", "table", "ul"}
)  # fmt: skip
LOOSE_TEXT_PARENTS = frozenset({"div", "td", "section", "article", "main", "body"})


def _has_words(text: str | None) -> bool:
    return bool(text and text.strip())


def wrap_loose_text(root: etree._Element) -> None:
    """Text lying loose between blocks (``<div>text<br><div><img></div>more text</div>``,
    as Blogger and older sites write) becomes paragraphs: the engine drops loose text
    that follows a block holding only an image."""
    for parent in list(root.iter(*LOOSE_TEXT_PARENTS)):
        children = list(parent)
        if not any(child.tag in BLOCK_TAGS for child in children):
            continue
        current = None
        if _has_words(parent.text):
            current = etree.Element("p")
            current.text, parent.text = parent.text, None
            parent.insert(0, current)
        for child in children:
            if not isinstance(child.tag, str) or child.tag in BLOCK_TAGS:
                current = None
                if _has_words(child.tail):
                    current = etree.Element("p")
                    current.text, child.tail = child.tail, None
                    child.addnext(current)
            elif current is not None:
                current.append(child)
            elif child.tag != "br" and (_has_words(child.text_content()) or _has_words(child.tail)):
                current = etree.Element("p")
                child.addprevious(current)
                current.append(child)


LAYOUT_CELL_WORDS = 80
_LAYOUT_PARTS = ("table", "thead", "tbody", "tfoot", "tr", "td", "th")


def _is_layout_table(table: etree._Element) -> bool:
    """A table used for page layout, not data: its cells hold top-level headings,
    other tables or long text (a paragraph in a cell is common in data tables)."""
    for cell in table.iter("td", "th"):
        if cell.find(".//h1") is not None or cell.find(".//h2") is not None:
            return True
        if cell.find(".//table") is not None:
            return True
        if len("".join(cell.itertext()).split()) > LAYOUT_CELL_WORDS:
            return True
    return False


def unwrap_layout_tables(root: etree._Element) -> None:
    """Layout tables become plain blocks, so the engine judges their cells as page
    regions instead of keeping every cell of what it takes for a data table."""
    for table in [t for t in root.iter("table") if _is_layout_table(t)]:
        for part in table.iter(*_LAYOUT_PARTS):
            part.tag = "div"
            for name in list(part.attrib):
                if name not in ("class", "id", "style", "hidden", "role"):
                    del part.attrib[name]


def normalise_markup(root: etree._Element) -> None:
    """Markup the engine would lose, in a form it keeps.

    ``<time>`` inside running text becomes its text (the engine drops the element
    and with it words of the sentence; the metadata has read it already), and a
    ``<pre>`` without ``<code>`` gets one (the engine turns a bare ``<pre>`` into a
    block quote).
    """
    unwrap_layout_tables(root)
    wrap_loose_text(root)
    for element in list(root.iter("time")):
        parent = element.getparent()
        if parent is not None and parent.tag in INLINE_PARENTS:
            element.drop_tag()
    for pre in root.iter("pre"):
        if pre.find(".//code") is None:
            code = etree.SubElement(pre, "code")
            code.text, pre.text = pre.text, None
            for child in list(pre):
                if child is not code:
                    code.append(child)


def prepare(document: etree._Element, *, title: str | None, base: str | None) -> None:
    """Everything after hidden content and metadata, in order (the page is changed)."""
    fix_lazy_images(document)
    normalise_markup(document)
    drop_boilerplate_blocks(document)
    keep_named_article(document, title)
    if base:
        resolve_urls(document, base)
