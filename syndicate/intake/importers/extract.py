"""The article inside a prepared web page: trafilatura finds it, our rules after it.

trafilatura (2.x) decides what is the article and what is navigation, share bars,
related lists, newsletter boxes, comments or ads: it scores far better on real pages
than "the first <article>". Its XML body is converted to HTML here (``to_html``:
its own HTML output turns every list into ``<ul>`` and inline code into ``<pre>``).
After it: figure captions and code-block languages it drops come back, the heading
that repeats the title goes, and a lead image outside the body is put first when
the metadata names it. When it finds nothing (a short fragment), the largest
``<article>``/``<main>`` (or the body) with chrome removed is the body.
"""

from __future__ import annotations

import copy
import logging
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import use_config

from syndicate.core.sanitize import normalize_space
from syndicate.intake.importers.metadata import heading_text
from syndicate.intake.importers.prepare import HEADINGS, text_length

CHROME_TAGS = (
    "nav", "header", "footer", "aside", "script", "style", "form", "noscript",
    "template", "button", "input", "select", "textarea", "link", "meta",
)  # fmt: skip
CHROME_ROLES = ("navigation", "banner", "contentinfo", "search", "complementary")
LEAD_IMAGE_MIN_PIXELS = 200


def _engine_config() -> object:
    """trafilatura's defaults, except that a short article is still an article: below
    MIN_EXTRACTED_SIZE characters it would swap in a baseline that keeps the menus."""
    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    return config


ENGINE_CONFIG = _engine_config()
# "discarding data: None" for a page the engine finds no article in is not news to an
# operator: the import reports what happened to each file itself.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


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
    """Images the engine kept bare go back into their figure; a gallery's one caption
    follows its last image, not every image."""
    figures = _captions(document)
    last = {
        id(figures[img.get("src", "")]): img
        for img in content.iter("img")
        if img.get("src") in figures
    }
    for img in list(content.iter("img")):
        figure = figures.get(img.get("src", ""))
        parent = img.getparent()
        if figure is None or parent is None or parent.tag == "figure":
            continue
        caption = normalize_space(figure.find(".//figcaption").text_content())  # type: ignore[union-attr]
        following = img.getnext()
        if caption and following is not None and caption in following.text_content():
            continue  # the engine kept the caption as text after the image
        wrapper = _figure_for(img, figure if last[id(figure)] is img else None)
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


def _links_home(link: etree._Element) -> bool:
    try:
        parts = urlsplit(link.get("href") or "")
    except ValueError:
        return False
    return parts.path in ("", "/") and not parts.query and not parts.fragment


def _is_site_chrome(img: etree._Element) -> bool:
    """A logo, icon or avatar: in the site's header, menus, sidebar or footer, in a
    link to the home page, or drawn small."""
    for ancestor in img.iterancestors():
        if ancestor.tag in ("nav", "footer", "aside"):
            return True
        if (ancestor.get("role") or "").lower() in ("banner", "navigation", "contentinfo"):
            return True
        if ancestor.tag == "header" and not any(
            outer.tag in ("article", "main") for outer in ancestor.iterancestors()
        ):
            return True
        if ancestor.tag == "a" and _links_home(ancestor):
            return True
    sizes = [img.get(name, "") for name in ("width", "height")]
    return any(size.isdigit() and int(size) < LEAD_IMAGE_MIN_PIXELS for size in sizes)


def add_lead_image(content: etree._Element, document: etree._Element, image: str) -> None:
    """Put the metadata's lead image first when the page shows it outside the body
    (a hero image above the article), unless it is site chrome such as the logo."""
    if any(img.get("src") == image for img in content.iter("img")):
        return
    shown = next((img for img in document.iter("img") if img.get("src") == image), None)
    if shown is None or _is_site_chrome(shown):
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
