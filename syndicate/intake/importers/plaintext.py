"""Plain-text articles, as copied or scraped from a web page, -> structured HTML.

The rules, in the order they apply:

- Lines holding only whitespace (NO-BREAK SPACE included) are blank; blank lines
  separate blocks. Trailing site chrome ("Share This Article", "Leave a Reply", ...)
  is cut from the end.
- The first line is the title. A short capitalised line of two to four words near the
  top is the byline; any paragraph between the title and the byline is an epigraph
  (a blockquote). A line that is only a date near the top is the publication date.
- A short line without closing punctuation followed by more text is a section
  heading (``<h2>``), including lines ending in ":". A short heading-like first line
  of a block followed by body lines is a lead-in (``<h3>``), e.g. "✅ Pros of X:".
- Lines starting with "•", "-", "*" (or "1." / "1)") are list items; consecutive
  list blocks form one list.
- A paragraph that is entirely one quotation is a blockquote; a quotation followed by
  its attribution in the same paragraph stays a paragraph.

Characters are never changed: curly quotes, dashes, ellipses and emoji come out as
they went in (only ``&``, ``<`` and ``>`` are escaped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from zoneinfo import ZoneInfo

from syndicate.core.errors import ImportFailure
from syndicate.intake.importers.dates import parse_date_line
from syndicate.intake.importers.frontmatter import apply_front_matter, split_front_matter
from syndicate.intake.importers.model import ParsedArticle

TITLE_MAX = 200
HEADING_MAX_CHARS = 80
HEADING_MAX_WORDS = 12
_BLANK_EXTRA = "\u200b\u200c\u200d\u2060\ufeff"
_BULLET = re.compile(r"^\s*[•‣◦▪●\-\*–]\s+(?=\S)")
_NUMBERED = re.compile(r"^\s*(\d{1,3})[.)]\s+(?=\S)")
_CHROME = re.compile(
    r"^(?:share this(?: article| post| story)?:?|share on \w+|leave a (?:comment|reply)|"
    r"(?:\d+\s+)?comments?:?|your email address will not be published\b.*|"
    r"required fields are marked.*|related (?:posts|articles|stories):?|like this:?|"
    r"tags?:.*|filed under:.*|click to share.*|print this (?:article|page))$",
    re.IGNORECASE,
)
_CLOSING = (".", ",", ";", "!", "…", '"', "”", "'", "’", ")")
_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "in",
        "into",
        "nor",
        "of",
        "on",
        "onto",
        "or",
        "over",
        "per",
        "the",
        "to",
        "up",
        "via",
        "vs",
        "with",
        "is",
        "it",
        "its",
    ]
)
_NAME_PARTICLES = frozenset(
    ["de", "da", "di", "van", "von", "der", "den", "le", "la", "bin", "al", "du"]
)
# Words that make a short capitalised line a heading ("Key Facts"), not a name.
_NOT_NAMES = frozenset(
    [
        "the",
        "and",
        "of",
        "what",
        "why",
        "how",
        "key",
        "new",
        "news",
        "update",
        "updates",
        "facts",
        "takeaways",
        "background",
        "summary",
        "introduction",
        "overview",
        "contents",
        "notes",
        "more",
        "our",
        "your",
        "this",
        "that",
        "for",
        "with",
        "about",
        "read",
        "live",
        "latest",
        "analysis",
        "timeline",
        "explainer",
    ]
)
_OPEN_QUOTES = ("“", '"', "„", "«")
_CLOSE_QUOTES = ("”", '"', "“", "»")
_URL = re.compile(r"https?://[^\s<>\"”’)]+[^\s<>\"”’).,;:!?]")


@dataclass
class _Block:
    line: int  # 1-based file line of the first line
    lines: list[str]


def _is_blank(line: str) -> bool:
    return not line.strip().strip(_BLANK_EXTRA).strip()


def _blocks(lines: list[str], first_line: int) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    for offset, line in enumerate(lines):
        if _is_blank(line):
            current = None
            continue
        if current is None:
            current = _Block(first_line + offset, [])
            blocks.append(current)
        current.lines.append(line.rstrip())
    return blocks


def _drop_trailing_chrome(blocks: list[_Block]) -> None:
    while blocks:
        last = blocks[-1]
        if _CHROME.match(" ".join(last.lines[-1].split())):
            last.lines.pop()
            if not last.lines:
                blocks.pop()
        else:
            return


def _words(line: str) -> list[str]:
    return line.split()


def _title_case(line: str) -> bool:
    """Most significant words start with a capital letter (or are numbers)."""
    significant = 0
    capital = 0
    for word in _words(line):
        core = word.lstrip("“\"‘'(«[¿¡")
        if not core or not core[0].isalpha():
            continue
        if core.lower().rstrip(":,;?!") in _SMALL_WORDS:
            continue
        significant += 1
        capital += core[0].isupper()
    return significant > 0 and capital / significant >= 0.6


def _is_list_item(line: str) -> bool:
    return bool(_BULLET.match(line) or _NUMBERED.match(line))


def _heading_like(line: str) -> bool:
    """Short, no closing punctuation, with letters, not a list item, mostly capitalised
    (or at most five words)."""
    text = " ".join(line.split())
    words = text.split(" ")
    if not text or len(text) > HEADING_MAX_CHARS or len(words) > HEADING_MAX_WORDS:
        return False
    if text.endswith(_CLOSING) or _is_list_item(line) or not any(c.isalpha() for c in text):
        return False
    if text.startswith(_OPEN_QUOTES):
        return False
    return len(words) <= 5 or _title_case(text)


def _lead_in(line: str, body_length: int) -> bool:
    """A short first line that introduces the lines below it ("✅ Pros of X:")."""
    head = " ".join(line.split())
    if not head or len(head) > HEADING_MAX_CHARS or len(head.split()) > HEADING_MAX_WORDS:
        return False
    if head.endswith(_CLOSING) or _is_list_item(line) or head.startswith(_OPEN_QUOTES):
        return False
    if head.endswith(":") or not head[0].isalnum():
        return True
    return _heading_like(head) and len(head) * 2 < body_length


def _byline(line: str) -> str | None:
    """The author's name when ``line`` is a short capitalised name ("By " allowed)."""
    text = " ".join(line.split())
    if text.lower().startswith("by "):
        text = text[3:].strip()
    words = text.split(" ")
    if not 2 <= len(words) <= 4 or len(text) > 60 or text.endswith((*_CLOSING, ":", "?")):
        return None
    for word in words:
        if word.lower() in _NAME_PARTICLES:
            continue
        if word.lower() in _NOT_NAMES:
            return None
        if not word[0].isupper() or not all(c.isalpha() or c in ".-’'" for c in word):
            return None
    return text


def _inline(text: str) -> str:
    """Escape text for HTML and link bare http(s) URLs."""
    out: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        out.append(escape(text[position : match.start()], quote=False))
        url = escape(match[0])
        out.append(f'<a href="{url}">{url}</a>')
        position = match.end()
    out.append(escape(text[position:], quote=False))
    return "".join(out)


def _is_quotation(text: str) -> bool:
    """The whole paragraph is one quotation: opens and closes with a double quote and
    has no closing quote in between (that would mean an attribution follows)."""
    if len(text) < 3 or not text.startswith(_OPEN_QUOTES) or not text.endswith(_CLOSE_QUOTES):
        return False
    inner = text[1:-1]
    if text[0] == '"':
        return '"' not in inner
    return not any(q in inner for q in ("”", "»")) and "“" not in inner


def _paragraphs(lines: list[str]) -> list[str]:
    """Hard-wrapped lines join into one paragraph; long lines are each a paragraph."""
    stripped = [" ".join(line.split()) for line in lines]
    if any(len(line) > 120 for line in stripped):
        return stripped
    return [" ".join(stripped)]


def _paragraph_html(text: str) -> str:
    if _is_quotation(text):
        return f"<blockquote><p>{_inline(text)}</p></blockquote>"
    return f"<p>{_inline(text)}</p>"


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.list_kind: str | None = None
        self.items: list[list[str]] = []

    def close_list(self) -> None:
        if self.list_kind and self.items:
            body = "".join(f"<li>{_inline(' '.join(item))}</li>" for item in self.items)
            self.parts.append(f"<{self.list_kind}>{body}</{self.list_kind}>")
        self.list_kind, self.items = None, []

    def item(self, line: str) -> None:
        numbered = _NUMBERED.match(line)
        kind = "ol" if numbered and not _BULLET.match(line) else "ul"
        if self.list_kind != kind:
            self.close_list()
            self.list_kind = kind
        marker = numbered if kind == "ol" else _BULLET.match(line)
        assert marker is not None
        self.items.append([line[marker.end() :].strip()])

    def text_run(self, lines: list[str], *, more_follows: bool) -> None:
        self.close_list()
        if len(lines) == 1 and more_follows and _heading_like(lines[0]):
            self.parts.append(f"<h2>{_inline(' '.join(lines[0].split()))}</h2>")
            return
        first, rest = lines[0], lines[1:]
        if rest and _lead_in(first, len(" ".join(rest))):
            self.parts.append(f"<h3>{_inline(' '.join(first.split()))}</h3>")
            lines = rest
        self.parts.extend(_paragraph_html(p) for p in _paragraphs(lines))

    def block(self, block: _Block, *, more_follows: bool) -> None:
        run: list[str] = []
        for line in block.lines:
            if _is_list_item(line):
                if run:
                    self.text_run(run, more_follows=True)
                    run = []
                self.item(line)
            elif self.list_kind and not run and line[:1].isspace():
                self.items[-1].append(line.strip())  # an indented continuation line
            else:
                run.append(line)
        if run:
            self.text_run(run, more_follows=more_follows)


def _header(blocks: list[_Block], tz: ZoneInfo, article: ParsedArticle) -> tuple[list[str], int]:
    """Date lines, epigraph and byline right after the title.

    Returns the epigraph's HTML parts and how many blocks the header used.
    """

    def date_line(index: int) -> bool:
        if index >= len(blocks) or len(blocks[index].lines) != 1:
            return False
        when = parse_date_line(blocks[index].lines[0], tz)
        if when is not None and article.published is None:
            article.published = when
        return when is not None

    consumed = 0
    while date_line(consumed):
        consumed += 1
    byline_at = None
    for index in range(consumed, min(consumed + 3, len(blocks))):
        block = blocks[index]
        next_is_list = index + 1 < len(blocks) and _is_list_item(blocks[index + 1].lines[0])
        if len(block.lines) == 1 and _byline(block.lines[0]) and not next_is_list:
            byline_at = index
            break
        if _is_list_item(block.lines[0]) or (
            len(block.lines) == 1 and _heading_like(block.lines[0])
        ):
            break
    if byline_at is None:
        return [], consumed
    article.author_name = article.author_name or _byline(blocks[byline_at].lines[0])
    epigraph = [p for block in blocks[consumed:byline_at] for p in _paragraphs(block.lines)]
    consumed = byline_at + 1
    while date_line(consumed):
        consumed += 1
    if not epigraph:
        return [], consumed
    return [
        f"<blockquote>{''.join(f'<p>{_inline(p)}</p>' for p in epigraph)}</blockquote>"
    ], consumed


def parse_text(text: str, name: str, tz: ZoneInfo) -> ParsedArticle:
    """Parse a plain-text article (optionally with YAML/TOML front matter)."""
    front, body, offset = split_front_matter(text, name)
    lines = body.split("\n")
    blocks = _blocks(lines, offset + 1)
    _drop_trailing_chrome(blocks)
    article = ParsedArticle(title="", body_html="", fmt="text")
    if front is not None:
        apply_front_matter(article, front, name, tz)
    if not article.title:
        if not blocks:
            raise ImportFailure(name, "no title: the file has no text")
        first = blocks[0]
        title = " ".join(first.lines[0].split())
        if len(title) > TITLE_MAX or not any(c.isalnum() for c in title):
            raise ImportFailure(
                name,
                "no title: the first line must be the title (a short line of its own)",
                line=first.line,
            )
        article.title = title
        first.lines.pop(0)
        first.line += 1
        if not first.lines:
            blocks.pop(0)
    epigraph, consumed = _header(blocks, tz, article)
    writer = _Writer()
    writer.parts.extend(epigraph)
    body_blocks = blocks[consumed:]
    for index, block in enumerate(body_blocks):
        writer.block(block, more_follows=index + 1 < len(body_blocks))
    writer.close_list()
    article.body_html = "\n".join(writer.parts)
    return article
