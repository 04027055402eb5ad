"""CMS exports: one file or folder that holds many articles (WordPress, Ghost, Substack).

Each reader recognises its export by content (``sniff``) and yields one ``ExportItem``
per entry: an article to store, an entry that is not a published article (skipped,
with the reason), or an entry that cannot be read (failed, with the reason). A problem
with the whole file (cut short, wrong shape) is an ImportFailure raised after the
entries read so far, so those are still imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree
from lxml import html as lxml_html

from syndicate.core.sanitize import html_to_text, summarize
from syndicate.intake.importers.model import ParsedArticle

UNTITLED_WORDS = 60  # characters of the body an untitled entry is named by


@dataclass
class ExportItem:
    """One entry of an export. ``key`` is its stable identity in the source system (the
    stored article's ``source``), so a later export of the same site updates it."""

    key: str
    label: str
    article: ParsedArticle | None = None
    skip: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Reader:
    """A registry entry: a name for the report, a content sniffer and the reader."""

    name: str
    sniff: Callable[[Path], bool]
    read: Callable[[Path, ZoneInfo], Iterator[ExportItem]]


HEAD_BYTES = 8192


def head(path: Path) -> str:
    """The first bytes of a file as text (for sniffing); empty when unreadable."""
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES).decode("utf-8", "replace").lstrip("\ufeff")
    except OSError:
        return ""


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, links followed, is in ``folder``: an export's own files (a
    listing, a post body, a bundle's image) must never lead out of it."""
    return path.resolve().is_relative_to(folder.resolve())


def absolutize(fragment: str, base: str | None) -> str:
    """Resolve the fragment's relative links against the page it was published on, so
    the sanitiser (which resolves against ``site.url``) does not move them."""
    if not base or not fragment.strip():
        return fragment
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return fragment
    root.make_links_absolute(base, resolve_base_href=False, handle_failures="ignore")
    return escape(root.text or "", quote=False) + "".join(
        etree.tostring(child, encoding="unicode", method="html") for child in root
    )


def ensure_title(article: ParsedArticle, fallback: str) -> None:
    """An untitled entry (a WordPress aside, a status post) is named by the start of its
    text, else ``fallback``, with a warning rather than failing."""
    if any(ch.isalnum() for ch in article.title):
        return
    text = " ".join(html_to_text(article.body_html).split())
    named = any(ch.isalnum() for ch in text)
    article.title = summarize(text, UNTITLED_WORDS) if named else fallback
    article.warnings.append(f"no title; named {article.title!r} after its text")
