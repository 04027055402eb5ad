"""``import_paths``: files and exports -> parsed articles -> the store, one transaction
per article (a file, or one entry of an export)."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from syndicate.core.clock import Clock
from syndicate.core.config import Settings
from syndicate.core.db import transaction
from syndicate.core.errors import ImportFailure
from syndicate.core.sanitize import normalize_space, strip_control_chars
from syndicate.intake.importers.exports import ExportItem, Reader
from syndicate.intake.importers.model import ParsedArticle
from syndicate.intake.importers.reading import detect_format, read_text
from syndicate.intake.importers.registry import FILE_IMPORTERS, file_format, format_for, reader_for
from syndicate.intake.importers.report import FileOutcome, ImportReport
from syndicate.intake.importers.sitegen import apply_site_conventions, expand_site_syntax
from syndicate.intake.importers.store import save
from syndicate.intake.importers.walk import EXPORT_SUFFIXES, collect

log = logging.getLogger(__name__)

TITLE_MAX = 300
SOURCE_MAX = 1000


def format_name(fmt: str | None) -> str | None:
    """``txt``/``md``/``html`` (or the long names) -> the stored format name."""
    if fmt is None:
        return None
    name = file_format(fmt)
    if name is None:
        raise ValueError(f"unknown format {fmt!r}: use txt, md or html")
    return name


def _clean_fields(article: ParsedArticle, name: str) -> None:
    """One-line, control-free header fields (they end up in XML and email headers)."""
    article.title = normalize_space(strip_control_chars(article.title).replace("\n", " "))
    if not any(ch.isalnum() for ch in article.title):
        raise ImportFailure(name, "no title: the title has no letters or digits")
    if len(article.title) > TITLE_MAX:
        raise ImportFailure(
            name, f"title is {len(article.title)} characters long; at most {TITLE_MAX}"
        )
    for field in ("author_name", "author_email", "summary"):
        value = getattr(article, field)
        if value is not None:
            setattr(article, field, normalize_space(strip_control_chars(value)) or None)


def parse_file(path: Path, *, fmt: str | None, tz: ZoneInfo) -> ParsedArticle:
    """Read and parse one file; every problem is an ImportFailure naming it."""
    name = str(path)
    text, warnings = read_text(path)
    kind = fmt or format_for(path) or detect_format(path, text)
    if kind == "markdown":
        text, site_warnings = expand_site_syntax(path, text)
        warnings.extend(site_warnings)
    try:
        article = FILE_IMPORTERS[kind].parse(text, name, tz)
    except RecursionError:
        raise ImportFailure(name, "the document is nested too deeply to read") from None
    article.warnings[:0] = warnings
    if kind == "markdown":
        apply_site_conventions(path, article, tz)
    _clean_fields(article, name)
    return article


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)


class _Into(NamedTuple):
    """Where and when an import stores: the parts of the caller's that it uses."""

    engine: Engine
    settings: Settings
    clock: Clock


def _store(
    into: _Into,
    parsed: ParsedArticle,
    *,
    source: str,
    name: str,
    file_time: datetime,
    dry_run: bool,
) -> FileOutcome:
    """Save one parsed article in its own transaction."""
    settings = into.settings
    if len(source) > SOURCE_MAX:
        raise ImportFailure(name, f"the source path or id is longer than {SOURCE_MAX} characters")
    try:
        with transaction(into.engine) as conn:
            saved = save(
                conn,
                settings,
                parsed,
                source=source,
                name=name,
                file_time=file_time,
                now=into.clock.now(),
                dry_run=dry_run,
            )
    except IntegrityError:
        raise ImportFailure(
            name, "another article took its slug or id at the same moment; import it again"
        ) from None
    return FileOutcome(name, saved.status, saved.slug, warnings=parsed.warnings)


def _import_one(into: _Into, path: Path, fmt: str | None, dry_run: bool) -> FileOutcome:
    name = str(path)
    if fmt is None and path.suffix.lower() in EXPORT_SUFFIXES:
        raise ImportFailure(
            name, "not an article file, nor a WordPress (WXR), Ghost (JSON) or Substack export"
        )
    parsed = parse_file(path, fmt=fmt, tz=ZoneInfo(into.settings.site.timezone))
    return _store(
        into, parsed, source=str(path.resolve()), name=name, file_time=_modified(path),
        dry_run=dry_run,
    )  # fmt: skip


def import_text(
    engine: Engine, settings: Settings, text: str, *, clock: Clock, fmt: str, name: str
) -> FileOutcome:
    """One article given as text (the HTTP API): the parser and store a file of that
    format goes through; ``name`` stands in for the file name, so the same name
    updates the same article. Raises ImportFailure naming ``name``."""
    try:
        parsed = FILE_IMPORTERS[fmt].parse(text, name, ZoneInfo(settings.site.timezone))
    except RecursionError:
        raise ImportFailure(name, "the document is nested too deeply to read") from None
    _clean_fields(parsed, name)
    return _store(
        _Into(engine, settings, clock),
        parsed,
        source=f"api:{name}",
        name=name,
        file_time=clock.now(),
        dry_run=False,
    )


def _import_item(into: _Into, item: ExportItem, file_time: datetime, dry_run: bool) -> FileOutcome:
    """One entry of an export: skipped, failed, or stored under its stable key."""
    if item.skip is not None:
        return FileOutcome(item.label, "skipped", note=item.skip)
    if item.error is not None or item.article is None:
        raise ImportFailure(item.label, item.error or "no article")
    _clean_fields(item.article, item.label)
    return _store(
        into, item.article, source=item.key, name=item.label, file_time=file_time,
        dry_run=dry_run,
    )  # fmt: skip


def _guarded(name: str, work: Callable[[], FileOutcome]) -> FileOutcome:
    """Run ``work``; any failure becomes a failed outcome, so the other items carry on."""
    try:
        return work()
    except ImportFailure as failure:
        return FileOutcome(name, "failed", error=failure)
    except csv.Error as exc:  # a reader that let a CSV error through: still one line
        return FileOutcome(name, "failed", error=ImportFailure(name, f"broken CSV: {exc}"))
    except OSError as exc:  # a file vanished or became unreadable while being read
        unreadable = ImportFailure(name, f"cannot be read: {exc.strerror or exc}")
        return FileOutcome(name, "failed", error=unreadable)
    except (ValueError, LookupError, TypeError, OverflowError, RecursionError) as exc:
        # A parser bug must not stop the other files; keep the traceback for debugging.
        log.debug("unexpected error importing %s", name, exc_info=True)
        bug = ImportFailure(name, f"unexpected error ({type(exc).__name__}: {exc})")
        return FileOutcome(name, "failed", error=bug)


def _export_outcomes(into: _Into, path: Path, reader: Reader, dry_run: bool) -> list[FileOutcome]:
    """Every entry of one export; a broken file keeps the entries read before the break."""
    outcomes: list[FileOutcome] = []

    def run() -> FileOutcome:
        file_time = _modified(path)
        for item in reader.read(path, ZoneInfo(into.settings.site.timezone)):
            outcomes.append(
                _guarded(item.label, partial(_import_item, into, item, file_time, dry_run))
            )
        return FileOutcome(str(path), "done")

    final = _guarded(str(path), run)
    if final.status == "failed":
        outcomes.append(final)
    return outcomes


def own_folders(settings: Settings) -> list[Path]:
    """The project's folders that never hold articles: templates, feeds, the outbox."""
    return [
        settings.resolve(settings.paths.templates),
        settings.resolve(settings.paths.feeds),
        settings.resolve(settings.mail.maildir),
    ]


def import_paths(
    engine: Engine,
    settings: Settings,
    paths: Sequence[Path],
    *,
    clock: Clock,
    fmt: str | None = None,
    dry_run: bool = False,
    progress: Callable[[Path], None] | None = None,
    started: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import files, folders (recursively) and exports; each article in its own transaction.

    An article that fails is reported with its reason and leaves nothing stored; the
    others carry on. ``fmt`` (txt, md or html) overrides detection; ``dry_run``
    reports what would change without writing; ``started`` is told how many files and
    exports were found, ``progress`` is called after each.
    """
    into = _Into(engine, settings, clock)
    kind = format_name(fmt)
    report = ImportReport(dry_run=dry_run)
    walk = collect(paths, own_folders(settings))
    for path, reason in walk.skipped:
        report.add(FileOutcome(str(path), "skipped", note=reason))
    if started is not None:
        started(len(walk.units))
    for path in walk.units:
        reader = reader_for(path) if kind is None else None
        if reader is not None:
            outcomes = _export_outcomes(into, path, reader, dry_run)
        else:
            outcomes = [_guarded(str(path), partial(_import_one, into, path, kind, dry_run))]
        for outcome in outcomes:
            if outcome.status == "failed":
                log.warning("%s", outcome.error.message if outcome.error else outcome.path)
            for warning in outcome.warnings:
                log.warning("%s: %s", outcome.path, warning)
            report.add(outcome)
        if progress is not None:
            progress(path)
    return report
