"""The importer registry: one declaration per importer, of either kind.

File importers turn one article file into a ``ParsedArticle``; they are chosen by
extension (``--format`` names them by an alias) and, for other names, by what the
content looks like (``reading.detect_format``). Export readers turn a CMS export (one
file or folder holding many articles) into items; they are tried in order by content.
Both kinds used to be declared in three places (``reading.EXTENSIONS``,
``pipeline.PARSERS``, ``model.FORMAT_ALIASES``) besides this list of exports; adding an
importer is now one module plus one ``register_*`` line here (see docs/architecture.md,
"Extension points").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate.intake.importers import ghost, substack, wxr
from syndicate.intake.importers.exports import Reader
from syndicate.intake.importers.html import parse_html
from syndicate.intake.importers.markdown import parse_markdown
from syndicate.intake.importers.model import ParsedArticle
from syndicate.intake.importers.plaintext import parse_text


@dataclass(frozen=True)
class FileImporter:
    """One article file format."""

    name: str  # the stored format name (``text``, ``markdown``, ``html``)
    extensions: tuple[str, ...]  # lower case, with the dot
    aliases: tuple[str, ...]  # what ``--format`` accepts besides the name
    parse: Callable[[str, str, ZoneInfo], ParsedArticle]  # (text, file name, zone)


FILE_IMPORTERS: dict[str, FileImporter] = {}
# Extension -> format name, kept in step by ``register_file`` (the folder walk and the
# folder watcher ask it which files are articles).
EXTENSIONS: dict[str, str] = {}
READERS: list[Reader] = []


def register_file(importer: FileImporter) -> FileImporter:
    FILE_IMPORTERS[importer.name] = importer
    EXTENSIONS.update(dict.fromkeys(importer.extensions, importer.name))
    return importer


def register_export(reader: Reader) -> Reader:
    READERS.append(reader)
    return reader


def format_for(path: Path) -> str | None:
    """The format a file's extension names, if any."""
    return EXTENSIONS.get(path.suffix.lower())


def file_format(alias: str) -> str | None:
    """The format ``--format`` value ``alias`` names (``md`` -> ``markdown``), if any."""
    alias = alias.lower()
    for importer in FILE_IMPORTERS.values():
        if alias == importer.name or alias in importer.aliases:
            return importer.name
    return None


def reader_for(path: Path) -> Reader | None:
    """The reader whose export ``path`` is (by content, whatever its name), if any."""
    for reader in READERS:
        if reader.sniff(path):
            return reader
    return None


register_file(FileImporter("text", (".txt", ".text"), ("txt",), parse_text))
register_file(
    FileImporter("markdown", (".md", ".markdown", ".mdown", ".mkd"), ("md",), parse_markdown)
)
register_file(FileImporter("html", (".html", ".htm", ".xhtml"), ("htm",), parse_html))
register_export(wxr.READER)
register_export(ghost.READER)
register_export(substack.READER)
