"""The article inside a web page: trafilatura finds it, our own rules around it.

trafilatura (2.x, HTML output) decides what is the article and what is navigation,
share bars, related lists, newsletter boxes, comments or ads: it scores far better
on real pages than "the first <article>". Around it, rules that tests show the engine
gets wrong:

- before: content hidden with ``hidden``, ``aria-hidden="true"``, ``display:none``
  or ``visibility:hidden`` is dropped while the style is still there to read (the
  engine keeps it, and the sanitiser strips the style, which would show it);
  lazy images get their real ``src`` (``data-src``, ``data-srcset``, ``srcset``,
  ``<picture>`` sources, the ``<img>`` inside ``<noscript>``); every URL is resolved
  against the page's base.
- after: figure captions and code-block languages the engine drops come back,
  ``<pre><pre>`` becomes ``<pre><code>``, the heading that repeats the title goes,
  and a lead image outside the body is put first when the metadata names it.
- fallback: when the engine finds nothing (a short fragment), the largest
  ``<article>``/``<main>`` (or the body) with chrome removed.
"""

from __future__ import annotations

import copy
import re

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import use_config

from ..sanitize import normalize_space
from .metadata import heading_text, is_relative, join_url

CHROME_TAGS = (
    "nav", "header", "footer", "aside", "script", "style", "form", "noscript",
    "template", "button", "input", "select", "textarea", "link", "meta",
)  # fmt: skip
CHROME_ROLES = ("navigation", "banner", "contentinfo", "search", "complementary")
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
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
BOILERPLATE_WORDS = frozenset(
    {"share", "sharing", "sharedaddy", "social", "follow", "subscribe", "subscription",
     "newsletter", "related", "relatedposts", "recommended", "promo", "advert", "ad",
     "ads", "advertisement", "cookie", "cookies", "consent", "comments", "comment"}
)  # fmt: skip
HIDDEN_PAGE_SHARE = 0.5  # of the page's text: more than that is the page, not a block
BOILERPLATE_SHARE = 0.25  # of the page's text: more than that is not a side block
FULL_ARTICLE_CHARS = 500
INLINE_PARENTS = frozenset(
    {"p", "li", "td", "th", "dd", "blockquote", "em", "strong", "b", "i", "span", "a",
     "figcaption", "q", "cite", "small", "mark"}
)  # fmt: skip


def _engine_config() -> object:
    """trafilatura's defaults, except that a short article is still an article: below
    MIN_EXTRACTED_SIZE characters it would swap in a baseline that keeps the menus."""
    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    return config


ENGINE_CONFIG = _engine_config()


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
    (e.g. "follow our Telegram channel"). A block that holds the page's ``<h1>`` or
    a large part of its text is never dropped: a class like "has-comments" on the
    article itself must not take the article with it.
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


def largest_container(body: etree._Element) -> etree._Element:
    """The ``<article>`` (else ``<main>``/``role=main``) with the most text, else the body.

    The first one is often a teaser card; the article is the biggest.
    """
    for query in (".//article", ".//main", ".//*[@role='main']"):
        found = body.findall(query)
        if found:
            return max(found, key=text_length)
    return body


def _drop_chrome(content: etree._Element) -> None:
    doomed = [
        element
        for element in content.iter()
        if element is not content
        and (
            not isinstance(element.tag, str)
            or element.tag in CHROME_TAGS
            or (element.get("role") or "").lower() in CHROME_ROLES
        )
    ]
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()


def _fallback(document: etree._Element) -> etree._Element:
    body = document.find(".//body")
    content = copy.deepcopy(largest_container(body if body is not None else document))
    _drop_chrome(content)
    return content


def _engine(document: etree._Element) -> etree._Element | None:
    """trafilatura's article, converted from its XML vocabulary to HTML by ``to_html``
    (its own HTML output turns every list into ``<ul>`` and inline code into ``<pre>``)."""
    extracted = trafilatura.bare_extraction(
        copy.deepcopy(document),
        include_formatting=True,
        include_images=True,
        include_tables=True,
        include_links=True,
        include_comments=False,
        deduplicate=False,
        with_metadata=False,
        config=ENGINE_CONFIG,
    )
    body = getattr(extracted, "body", None)
    if body is None or not (text_length(body) or body.find(".//graphic") is not None):
        return None
    return to_html(body)


ENGINE_TAGS = {
    "list": lambda e: "ol" if e.get("rend") == "ol" else "ul",
    "item": lambda e: "li",
    "quote": lambda e: "blockquote",
    "head": lambda e: e.get("rend") if (e.get("rend") or "") in HEADINGS else "h3",
    "lb": lambda e: "br",
    "graphic": lambda e: "img",
    "ref": lambda e: "a",
    "hi": lambda e: RENDITIONS.get(e.get("rend") or "", "em"),
    "row": lambda e: "tr",
    "cell": lambda e: "th" if e.get("role") == "head" else "td",
}
RENDITIONS = {"#i": "em", "#b": "strong", "#u": "u", "#t": "code", "#sub": "sub", "#sup": "sup"}
KEPT_ATTRIBUTES = {"img": ("src", "alt", "title"), "a": ("href",), "code": ("class",)}


def _is_block_code(element: etree._Element) -> bool:
    parent = element.getparent()
    return (
        parent is None
        or (
            parent.tag in ("body", "quote", "item", "cell", "div")
            and (element.find("code") is not None or "\n" in "".join(element.itertext()))
        )
        or parent.tag in ("body", "quote")
    )


def to_html(tree: etree._Element) -> etree._Element:
    """trafilatura's XML body (``head rend=h2``, ``hi rend=#b``, ``ref target``,
    ``graphic``, ``list rend=ol``...) as an HTML ``<div>``."""
    for element in list(tree.iter()):
        if not isinstance(element.tag, str):
            continue
        if element.tag == "code" and element is not tree and _is_block_code(element):
            inner = element.find("code")
            element.tag = "pre"
            if inner is None or len(element) != 1 or (element.text or "").strip():
                inner = etree.Element("code")
                inner.text, element.text = element.text, None
                for child in list(element):
                    inner.append(child)
                element.append(inner)
            element.attrib.clear()
            continue
        if element.tag == "ref":
            element.set("href", element.get("target", ""))
        convert = ENGINE_TAGS.get(element.tag)
        if convert is not None:
            element.tag = convert(element)
        kept = KEPT_ATTRIBUTES.get(element.tag, ())
        for name in [n for n in element.attrib if n not in kept]:
            del element.attrib[name]
    tree.tag = "div"
    tree.attrib.clear()
    markup = etree.tostring(tree, encoding="unicode", method="html")
    return lxml.html.fragment_fromstring(markup)


def _restore_code(content: etree._Element, document: etree._Element) -> None:
    """Give code blocks back the ``language-*`` class the engine drops."""
    languages = {}
    for code in document.iter("code"):
        language = next(
            (c for c in (code.get("class") or "").split() if c.startswith("language-")), None
        )
        if language:
            languages[normalize_space(code.text_content())] = language
    for pre in content.iter("pre"):
        code = pre.find("code")
        if code is not None and not code.get("class"):
            language = languages.get(normalize_space(code.text_content()))
            if language:
                code.set("class", language)


def _captions(document: etree._Element) -> dict[str, etree._Element]:
    """Image URL -> the figure around it (when it has a caption)."""
    figures: dict[str, etree._Element] = {}
    for figure in document.iter("figure"):
        if figure.find(".//figcaption") is None:
            continue
        for img in figure.iter("img"):
            if img.get("src"):
                figures.setdefault(img.get("src", ""), figure)
    return figures


def _figure_for(img: etree._Element, figure: etree._Element | None) -> etree._Element:
    wrapper = etree.Element("figure")
    wrapper.append(copy.deepcopy(img))
    caption = figure.find(".//figcaption") if figure is not None else None
    if caption is not None:
        new = copy.deepcopy(caption)
        new.tail = None
        for hidden in [e for e in new.iter() if e is not new and e.tag in ("img", "figure")]:
            hidden.drop_tree()
        wrapper.append(new)
    return wrapper


def _restore_figures(content: etree._Element, document: etree._Element) -> None:
    figures = _captions(document)
    for img in list(content.iter("img")):
        figure = figures.get(img.get("src", ""))
        parent = img.getparent()
        if figure is None or parent is None or parent.tag == "figure":
            continue
        caption = normalize_space(figure.find(".//figcaption").text_content())  # type: ignore[union-attr]
        following = img.getnext()
        if caption and following is not None and caption in following.text_content():
            continue  # the engine kept the caption as text after the image
        wrapper = _figure_for(img, figure)
        wrapper.tail = img.tail
        parent.replace(img, wrapper)


def drop_title_heading(content: etree._Element, title: str | None) -> None:
    """The title is shown by the feed or page, not twice: the first heading, or a
    leading block or text that only repeats it, goes."""
    if not title:
        return
    wanted = normalize_space(title).casefold()
    if content.text and content.text.strip():
        if normalize_space(content.text).casefold() == wanted:
            content.text = None
        return
    for element in content.iter(*HEADINGS):
        if heading_text(element).casefold() == wanted:
            element.drop_tree()
            return
        break
    first = content[0] if len(content) else None
    if (
        first is not None
        and first.find(".//img") is None
        and normalize_space(first.text_content()).casefold() == wanted
    ):
        first.drop_tree()


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
    """A table used for page layout, not data: its cells hold headings, paragraphs,
    other tables or long text."""
    for cell in table.iter("td", "th"):
        if cell.find(".//h1") is not None or cell.find(".//h2") is not None:
            return True
        if cell.find(".//table") is not None or cell.find(".//p") is not None:
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


def add_lead_image(content: etree._Element, document: etree._Element, image: str) -> None:
    """Put the metadata's lead image first when the page shows it outside the body."""
    if any(img.get("src") == image for img in content.iter("img")):
        return
    shown = next((img for img in document.iter("img") if img.get("src") == image), None)
    if shown is None:
        return
    figure = next((a for a in shown.iterancestors() if a.tag == "figure"), None)
    lead = _figure_for(shown, figure)
    lead.tail = content.text
    content.text = None
    content.insert(0, lead)


def extract_article(document: etree._Element) -> etree._Element:
    """The article body of a prepared page (hidden content dropped, images and URLs
    fixed) as an element whose children are the body; ``document`` is not changed."""
    content = _engine(document)
    if content is None:
        content = _fallback(document)
    _restore_code(content, document)
    _restore_figures(content, document)
    return content


def first_heading(content: etree._Element) -> str | None:
    """The text of the body's first heading, for a page that names no title."""
    for element in content.iter(*HEADINGS):
        text = heading_text(element)
        if text:
            return text
    return None
