"""Untrusted article HTML -> safe, self-contained HTML and plain text.

Everything an article carries passes through here before it reaches a feed, a web
page or an email (DESIGN rule 6):

- ``strip_control_chars``: drop characters XML 1.0 forbids, so feeds stay parseable.
- ``sanitize_html``: nh3 with a fixed allow-list (no script, no event handlers, no
  ``style``, no ``javascript:``/``data:`` URLs, iframes only from configured hosts),
  every relative URL made absolute, because feed readers and mail clients have no
  base URL to resolve against.
- ``html_to_text``: a readable plain-text rendering for text/plain email parts and
  JSON Feed ``content_text``.
- ``summarize`` / ``summary_from_html``: a short summary cut at a word boundary.

Feeds and emails import these functions; they are deliberately pure and side-effect free.
"""

from __future__ import annotations

import hashlib
import html as html_module
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

import lxml.html
import nh3
from lxml import etree

__all__ = [
    "SUMMARY_LENGTH",
    "absolute_url",
    "html_to_text",
    "normalize_space",
    "sanitize_html",
    "strip_control_chars",
    "summarize",
    "summary_from_html",
]

# XML 1.0 allows TAB, LF and CR below 0x20, and forbids U+FFFE/U+FFFF outright.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

SUMMARY_LENGTH = 280

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col",
        "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
        "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
        "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp",
        "section", "small", "span", "strong", "sub", "summary", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var",
    }
)  # fmt: skip

# Removed together with everything inside them (the rest keep their text).
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "svg", "math", "noscript", "template", "object", "embed",
     "applet", "textarea", "select", "title", "head", "iframe", "frame", "frameset"}
)  # fmt: skip

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "id"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "code": {"class"},
    "col": {"span"},
    "colgroup": {"span"},
    "del": {"cite", "datetime"},
    "img": {"src", "alt", "title", "width", "height"},
    "ins": {"cite", "datetime"},
    "li": {"id", "value"},
    "ol": {"start", "reversed"},
    "q": {"cite"},
    "sup": {"id"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}
IFRAME_ATTRIBUTES = {"src", "width", "height", "allowfullscreen", "title"}

URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_SAFE_ID = re.compile(r"^[A-Za-z][\w:.-]{0,63}$")
_SAFE_CLASS = re.compile(r"^language-[\w+#.-]{1,40}$")
_DIGITS = re.compile(r"^\d{1,5}$")
_IFRAME = re.compile(r"<iframe(\s[^>]*)?>.*?</iframe>", re.DOTALL)


def strip_control_chars(text: str) -> str:
    """Remove characters that XML 1.0 forbids (C0 controls except TAB/LF/CR, U+FFFE/F).

    Feeds, emails and the importers call this on every piece of untrusted text:
    one such character makes a whole RSS or Atom document unreadable.
    """
    return XML_ILLEGAL.sub("", text)


def normalize_space(text: str) -> str:
    """Collapse runs of ASCII whitespace to one space; NO-BREAK SPACEs are kept."""
    return re.sub(r"[ \t\n\r\f\v]+", " ", text).strip(" ")


def absolute_url(url: str, base_url: str, *, page_url: str | None = None) -> str | None:
    """``url`` made absolute, or None when it is not a safe http(s)/mailto URL.

    Relative paths resolve against ``base_url`` (the site); a bare ``#fragment``
    against ``page_url`` (the article's own page) so footnote links keep working.
    Characters that could end an HTML attribute are percent-encoded.
    """
    url = strip_control_chars(url).strip()
    if not url:
        return None
    fragment_only = url.startswith("#")
    resolved = (page_url or base_url) + url if fragment_only else urljoin(base_url, url)
    parts = urlsplit(resolved)
    if parts.scheme.lower() not in URL_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return quote(resolved, safe="/:?#[]@!$&'()*+,;=%~-._")


def _host_allowed(url: str, hosts: Iterable[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    for allowed in hosts:
        allowed = allowed.lower().strip(".")
        if host == allowed or host.endswith("." + allowed):
            return True
    return False


def iframe_host_list(hosts: Iterable[str]) -> tuple[str, ...]:
    """``site.iframe_hosts`` trimmed, lower-cased and sorted: the key of ``policy``."""
    return tuple(sorted({h.strip().lower() for h in hosts if h.strip()}))


@lru_cache(maxsize=32)
def policy(iframe_hosts: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str], dict]:
    """The allow-list: (tags kept, tags dropped with their content, attributes per tag).

    Shared by ``sanitize_html`` and the feeds' native containment pass; callers must
    not modify the returned attribute sets.
    """
    tags = set(ALLOWED_TAGS)
    dropped = set(DROPPED_WITH_CONTENT)
    attributes = {tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}
    if iframe_hosts:
        tags.add("iframe")
        dropped.discard("iframe")
        attributes["iframe"] = set(IFRAME_ATTRIBUTES)
    return frozenset(tags), frozenset(dropped), attributes


_IFRAME_SRC = re.compile(r'\ssrc="([^"]*)"')


# Bump when the allow-list or the cleaning changes what sanitize_html returns: stored
# articles cleaned under another version are cleaned again (import and feed build).
POLICY_VERSION = "1"


def policy_key(base_url: str, iframe_hosts: Iterable[str]) -> str:
    """Names everything that shapes ``sanitize_html``'s output besides the input and the
    page URL: stored with the article so readers can trust HTML cleaned under it."""
    data = "\n".join([POLICY_VERSION, base_url, *iframe_host_list(iframe_hosts)])
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


def _keep_iframe(match: re.Match[str], hosts: tuple[str, ...]) -> str:
    src = _IFRAME_SRC.search(match[1] or "")
    if src is None or not _host_allowed(html_module.unescape(src[1]), hosts):
        return ""
    return f"<iframe{match[1]}></iframe>"


def finish_html(cleaned: str, iframe_hosts: tuple[str, ...]) -> str:
    """The tail of every nh3 pass over article HTML: iframes only from ``iframe_hosts``
    (without inner text), ``&nbsp;`` as a character, control characters stripped."""
    if iframe_hosts:
        # An iframe whose src was refused or is from another host is dropped.
        cleaned = _IFRAME.sub(lambda m: _keep_iframe(m, iframe_hosts), cleaned)
    # html5ever writes U+00A0 as &nbsp;, an entity XML does not define: keep the character.
    # Strip again: nh3 decodes character references (``&#1;``) into control characters.
    return strip_control_chars(cleaned.replace("&nbsp;", "\u00a0")).strip()


def sanitize_html(
    html: str,
    *,
    base_url: str,
    page_url: str | None = None,
    iframe_hosts: Sequence[str] = (),
) -> str:
    """Clean untrusted HTML to the allow-list and make every URL absolute.

    ``base_url`` is ``site.url``; ``page_url`` the article's page (for ``#fragment``
    links); ``iframe_hosts`` the hosts (and their subdomains) whose iframes survive.
    A URL that is not http(s)/mailto after resolving is removed with its attribute.
    """
    hosts = iframe_host_list(iframe_hosts)
    tags, dropped, attributes = policy(hosts)

    def keep_attribute(tag: str, name: str, value: str) -> str | None:
        if name in URL_ATTRIBUTES:
            url = absolute_url(value, base_url, page_url=page_url)
            if url is None or (tag == "iframe" and not _host_allowed(url, hosts)):
                return None
            return url
        if name == "id":
            return value if _SAFE_ID.match(value) else None
        if name == "class":
            return value if _SAFE_CLASS.match(value) else None
        if name in ("width", "height", "colspan", "rowspan", "span", "start", "value"):
            return value if _DIGITS.match(value.strip()) else None
        if name == "allowfullscreen":
            return ""
        return strip_control_chars(value)

    cleaned = nh3.clean(
        strip_control_chars(html),
        tags=set(tags),
        clean_content_tags=set(dropped),
        attributes={tag: set(names) for tag, names in attributes.items()},
        attribute_filter=keep_attribute,
        strip_comments=True,
        link_rel=None,
        url_schemes=set(URL_SCHEMES),
    )
    return finish_html(cleaned, hosts)


# -- plain text ---------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav",
     "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "li",
     "table", "thead", "tbody", "tfoot", "tr", "figure", "figcaption", "hr", "dl",
     "dt", "dd", "details", "summary", "caption", "iframe"}
)  # fmt: skip


class _TextWriter:
    """Walks an element tree and collects paragraphs of plain text."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.line: list[str] = []

    def flush(self) -> None:
        # <br> is recorded as NUL (never in sanitised text); source newlines are spaces.
        text = normalize_space("".join(self.line))
        text = "\n".join(part.strip(" ") for part in text.split("\x00"))
        self.line = []
        if text.strip():
            self.blocks.append(text.strip("\n"))

    def inline(self, text: str | None) -> None:
        if text:
            self.line.append(text)

    def children(self, element: etree._Element) -> None:
        self.inline(element.text)
        for child in element:
            self.element(child)
            self.inline(child.tail)

    def nested(
        self, element: etree._Element, *, prefix: str, first: str | None = None, joiner: str
    ) -> None:
        """Render ``element`` on its own and add it as one block with a line prefix."""
        inner = _TextWriter()
        inner.children(element)
        inner.flush()
        body = joiner.join(inner.blocks)
        if not body:
            return
        lines = body.split("\n")
        head = first if first is not None else prefix
        rendered = [head + lines[0]] + [
            (prefix + line if line else prefix.rstrip()) for line in lines[1:]
        ]
        self.blocks.append("\n".join(rendered))

    def element(self, el: etree._Element) -> None:
        if not isinstance(el.tag, str):
            return  # comments and processing instructions
        tag = el.tag.lower()
        if tag == "br":
            self.line.append("\x00")
        elif tag == "img":
            alt = normalize_space(el.get("alt") or "")
            if alt:
                self.inline(f"[{alt}]")
        elif tag == "a":
            before = len(self.line)
            self.children(el)
            label = normalize_space("".join(self.line[before:]))
            href = el.get("href") or ""
            fragment = urlsplit(href).fragment
            if href and label and href != label and not fragment.startswith("fn"):
                self.inline(f" ({href})")
        elif tag in ("ul", "ol"):
            self.flush()
            start = int(el.get("start", "1")) if (el.get("start") or "").isdigit() else 1
            items = [child for child in el if isinstance(child.tag, str)]
            rendered: list[str] = []
            for number, item in enumerate(items, start):
                marker = f"{number}. " if tag == "ol" else "- "
                sub = _TextWriter()
                sub.nested(item, prefix=" " * len(marker), first=marker, joiner="\n")
                rendered.extend(sub.blocks)
            if rendered:
                self.blocks.append("\n".join(rendered))
        elif tag == "blockquote":
            self.flush()
            self.nested(el, prefix="> ", joiner="\n\n")
        elif tag == "pre":
            self.flush()
            text = el.text_content().strip("\n")
            if text.strip():
                self.blocks.append(text)
        elif tag == "hr":
            self.flush()
            self.blocks.append("----")
        elif tag == "tr":
            self.flush()
            cells = [
                normalize_space(cell.text_content()) for cell in el if cell.tag in ("td", "th")
            ]
            self.blocks.append(" | ".join(cells))
        elif tag == "table":
            self.flush()
            sub = _TextWriter()
            sub.children(el)
            sub.flush()
            if sub.blocks:
                self.blocks.append("\n".join(sub.blocks))
        elif tag in _BLOCK_TAGS:
            self.flush()
            self.children(el)
            self.flush()
        else:
            self.children(el)


def _fragment(html: str) -> etree._Element:
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


def html_to_text(html: str) -> str:
    """A readable plain-text rendering of (sanitised) HTML.

    Paragraphs and headings are separated by blank lines, list items start with
    ``- `` or ``1. ``, quotations with ``> ``, links show their URL in brackets and
    images their alt text. Characters are kept as they are (no typographic changes).
    """
    if not html or not html.strip():
        return ""
    writer = _TextWriter()
    writer.children(_fragment(strip_control_chars(html)))
    writer.flush()
    return "\n\n".join(writer.blocks)


def summarize(text: str, limit: int = SUMMARY_LENGTH) -> str:
    """``text`` on one line, cut at a word boundary near ``limit`` characters with "…"."""
    text = normalize_space(strip_control_chars(text).replace("\n", " "))
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space >= limit * 0.6 else text[:limit]
    return cut.rstrip(" ,;:–—-(\u00a0") + "…"


_NOT_SUMMARY_ANCESTORS = frozenset({"blockquote", "li", "table", "figure", "aside"})


def summary_from_html(html: str, limit: int = SUMMARY_LENGTH) -> str:
    """The first real paragraph of ``html`` (skipping quotations, lists, captions and
    one-line fragments), summarised; falls back to the whole text."""
    if not html or not html.strip():
        return ""
    root = _fragment(html)
    candidates: list[str] = []
    for paragraph in root.iter("p"):
        if any(a.tag in _NOT_SUMMARY_ANCESTORS for a in paragraph.iterancestors()):
            continue
        for br in paragraph.iter("br"):
            br.tail = " " + (br.tail or "")
        text = normalize_space(paragraph.text_content())
        if text:
            candidates.append(text)
            if len(text.split()) >= 8:
                return summarize(text, limit)
    if candidates:
        return summarize(candidates[0], limit)
    return summarize(html_to_text(html), limit)
