"""The feed format registry: one ``FeedFormat`` declaration per format.

A format's facts (name, file name, media type, label) and behaviour (renderer, lint)
used to be spread over six places found only by grep; now the builder, the feed list,
the lint, the feeds-folder layout and the web server all look them up here. This
module is a leaf (it imports no format), so the layout and the model can use it; the
built-in formats are registered by ``syndicate/feeds/registry.py`` when the package
loads. Adding a format is one module with its renderer and lint plus one
``register(...)`` line there (see docs/architecture.md, "Extension points").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # the model imports this module: a runtime import would be a cycle
    from syndicate.feeds.model import Entry, Page

_T = TypeVar("_T")


@dataclass
class RenderInput:
    """One page's entries, plus what several formats of that page share.

    RSS and Atom are both written by one feedgen generator: ``shared`` builds such a
    helper once per page, whichever formats ask for it.
    """

    page: Page
    entries: list[Entry]
    _shared: dict[str, Any] = field(default_factory=dict)

    def shared(self, key: str, make: Callable[[Page, list[Entry]], _T]) -> _T:
        if key not in self._shared:
            self._shared[key] = make(self.page, self.entries)
        value: _T = self._shared[key]
        return value


Renderer = Callable[[RenderInput], bytes]
# (report, document, public URL): the document is the parsed root element for an XML
# format (``xml_root`` set) and the file's bytes otherwise; problems go to the report.
Linter = Callable[[Any, Any, str], None]


@dataclass(frozen=True)
class FeedFormat:
    """Everything the code knows about one feed format."""

    name: str  # the value in ``[[feeds]] formats``
    file_name: str  # <feed path>/<file_name>
    media_type: str  # without parameters: ``application/rss+xml``
    label: str  # shown in index.html
    render: Renderer
    lint: Linter
    xml_root: str | None = None  # Clark-notation root tag of an XML format

    @property
    def content_type(self) -> str:
        """The Content-Type the feed file is served and uploaded with."""
        return f"{self.media_type}; charset=utf-8"


FORMATS: dict[str, FeedFormat] = {}


def register(fmt: FeedFormat) -> FeedFormat:
    """Add ``fmt``; a second format with the same name or file name is a programming error."""
    for other in FORMATS.values():
        if other.name != fmt.name and other.file_name == fmt.file_name:
            raise ValueError(f"feed formats {other.name!r} and {fmt.name!r} share a file name")
    FORMATS[fmt.name] = fmt
    return fmt


def get(name: str) -> FeedFormat:
    return FORMATS[name]


def file_names() -> set[str]:
    """Every feed file name, for telling feed files from the rest of the folder."""
    return {fmt.file_name for fmt in FORMATS.values()}


def for_file(name: str) -> FeedFormat | None:
    """The format of a file called ``name``: by exact file name, else the one non-XML
    format with that suffix (``x.json`` is JSON Feed); XML files are told by their root."""
    for fmt in FORMATS.values():
        if fmt.file_name == name:
            return fmt
    suffix = PurePosixPath(name).suffix.lower()
    matches = [
        f
        for f in FORMATS.values()
        if f.xml_root is None and PurePosixPath(f.file_name).suffix == suffix
    ]
    return matches[0] if len(matches) == 1 else None


def for_root(tag: str) -> FeedFormat | None:
    """The XML format whose documents have root element ``tag``."""
    return next((f for f in FORMATS.values() if f.xml_root == tag), None)
