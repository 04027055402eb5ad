"""``import_paths``: files -> parsed articles -> the store, one transaction per file."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from ..context import App
from ..db import transaction
from ..errors import ImportFailure
from ..sanitize import normalize_space, strip_control_chars
from .html import parse_html
from .markdown import parse_markdown
from .model import FORMAT_ALIASES, ParsedArticle
from .plaintext import parse_text
from .reading import collect, detect_format, read_text
from .report import FileOutcome, ImportReport
from .store import save

log = logging.getLogger(__name__)

PARSERS: dict[str, Callable[[str, str, ZoneInfo], ParsedArticle]] = {
    "text": parse_text,
    "markdown": parse_markdown,
    "html": parse_html,
}
TITLE_MAX = 300
SOURCE_MAX = 1000


def format_name(fmt: str | None) -> str | None:
    """``txt``/``md``/``html`` (or the long names) -> the stored format name."""
    if fmt is None:
        return None
    try:
        return FORMAT_ALIASES[fmt.lower()]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}: use txt, md or html") from None


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
    kind = fmt or detect_format(path, text)
    try:
        article = PARSERS[kind](text, name, tz)
    except RecursionError:
        raise ImportFailure(name, "the document is nested too deeply to read") from None
    article.warnings[:0] = warnings
    _clean_fields(article, name)
    return article


def _import_one(app: App, path: Path, fmt: str | None, dry_run: bool) -> FileOutcome:
    settings = app.settings
    name = str(path)
    parsed = parse_file(path, fmt=fmt, tz=ZoneInfo(settings.site.timezone))
    source = str(path.resolve())
    if len(source) > SOURCE_MAX:
        raise ImportFailure(name, f"the file's path is longer than {SOURCE_MAX} characters")
    file_time = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    try:
        with transaction(app.engine) as conn:
            saved = save(
                conn,
                settings,
                parsed,
                source=source,
                name=name,
                file_time=file_time,
                now=app.clock.now(),
                dry_run=dry_run,
            )
    except IntegrityError:
        raise ImportFailure(
            name, "another article took its slug or id at the same moment; import it again"
        ) from None
    return FileOutcome(name, saved.status, saved.slug, warnings=parsed.warnings)


def import_paths(
    app: App,
    paths: Sequence[Path],
    *,
    fmt: str | None = None,
    dry_run: bool = False,
    progress: Callable[[Path], None] | None = None,
) -> ImportReport:
    """Import files and folders (recursively); each file in its own transaction.

    A file that fails is reported with its reason and leaves nothing stored; the
    others carry on. ``fmt`` (txt, md or html) overrides detection; ``dry_run``
    reports what would change without writing; ``progress`` is called after each file.
    """
    kind = format_name(fmt)
    report = ImportReport(dry_run=dry_run)
    files, skipped = collect(paths)
    for left_out in skipped:
        log.warning("%s %s", left_out.path, left_out.reason)
        failure = ImportFailure(str(left_out.path), left_out.reason)
        report.add(FileOutcome(str(left_out.path), "skipped", error=failure))
    for path in files:
        try:
            outcome = _import_one(app, path, kind, dry_run)
        except ImportFailure as failure:
            outcome = FileOutcome(str(path), "failed", error=failure)
        except (ValueError, LookupError, TypeError, OverflowError, RecursionError) as exc:
            # A parser bug must not stop the other files; keep the traceback for debugging.
            log.debug("unexpected error importing %s", path, exc_info=True)
            failure = ImportFailure(str(path), f"unexpected error ({type(exc).__name__}: {exc})")
            outcome = FileOutcome(str(path), "failed", error=failure)
        if outcome.status == "failed":
            log.warning("%s", outcome.error.message if outcome.error else path)
        for warning in outcome.warnings:
            log.warning("%s: %s", path, warning)
        report.add(outcome)
        if progress is not None:
            progress(path)
    return report
