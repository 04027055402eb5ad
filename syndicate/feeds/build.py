"""Build the configured feeds into the feeds folder: the only code that writes there.

Pages are planned from light article rows; a page whose inputs' fingerprint matches
the build manifest (``.manifest.json``, with the file still present at the recorded
size) is skipped without rendering, so a rebuild with nothing new costs a query and
a few stats. Everything else is rendered, written only when its bytes changed
(atomically, with one data sync for the whole build), and stamped with its newest entry's time as mtime (Last-Modified).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine

from syndicate import __version__
from syndicate.articles import Article, bodies, change_token, next_visible, published
from syndicate.core import buildstamp, oserrors
from syndicate.core.buildstamp import MANIFEST, REPORT_KEY, STORE_KEY
from syndicate.core.buildstamp import BuildReport as BuildReport
from syndicate.core.clock import Clock
from syndicate.core.config import Settings
from syndicate.core.db import reading
from syndicate.core.errors import FeedError
from syndicate.core.fileio import BatchWriter, is_temp_name, sha256_hex, write_if_changed
from syndicate.core.render import packaged_templates_dir
from syndicate.feeds import formats as feed_formats
from syndicate.feeds import model
from syndicate.feeds.archive import plan_pages
from syndicate.feeds.index import render_index, render_opml
from syndicate.feeds.lock import exclusive
from syndicate.feeds.model import EPOCH, Entry, FeedSpec, Page, feed_spec, make_entry, tag_slug

log = logging.getLogger(__name__)

# The W3C validator refuses feeds over 5,000,000 bytes; keep a margin.
MAX_FEED_BYTES = 4_900_000

Progress = Callable[[int, int], None]
LOAD_BATCH = 40  # pages whose article bodies are loaded together


@dataclass
class _Plan:
    feeds: list[FeedSpec]
    tag_feeds: list[FeedSpec]
    pages: list[Page]
    stamps: model.Stamps = field(default_factory=model.Stamps)


def _plan(conn: Connection, settings: Settings, clock: Clock, only: str | None) -> _Plan:
    configured = [settings.feed(only)] if only is not None else list(settings.feeds)
    now = clock.now()
    plan = _Plan([], [], [])
    for feed in configured:
        spec = feed_spec(settings, feed)
        rows = published(conn, now=now, flt=spec.filter, oldest_first=True, bodies=False)
        plan.feeds.append(spec)
        times = model.distinct_times(rows)
        plan.pages += plan_pages(spec, rows, times)
        if feed.per_tag:
            for tag in sorted({tag for row in rows for tag in row.tags}):
                tag_spec = spec.for_tag(tag, tag_slug(tag))
                plan.tag_feeds.append(tag_spec)
                tagged = [row for row in rows if tag in row.tags]
                plan.pages += plan_pages(tag_spec, tagged, times)
    folders: dict[str, str] = {}
    for page in plan.pages:
        other = folders.setdefault(page.folder, page.spec.name)
        if other != page.spec.name:
            raise FeedError(
                f"feeds {other!r} and {page.spec.name!r} both write to {page.folder}/",
                hint="give each [[feeds]] its own path; only one feed may set per_tag",
            )
    return plan


def store_signature(conn: Connection, settings: Settings, clock: Clock) -> str:
    """What every built byte depends on besides time: the articles' change token (every
    writer calls ``mark_changed``, so it covers edits, imports and removals), the site,
    feed, digest and web settings (the feed list links the digests), the templates the
    feed list uses, and this code's and the output format's versions."""
    inputs = [
        __version__,
        model.FORMAT_VERSION,
        change_token(conn),
        [settings.site.model_dump(mode="json"), settings.web.model_dump(mode="json")],
        [feed.model_dump(mode="json") for feed in settings.feeds],
        [digest.model_dump(mode="json") for digest in settings.digests],
        buildstamp.templates_hash(_template_dirs(settings)),
    ]
    return sha256_hex(json.dumps(inputs, sort_keys=True, default=str).encode())


def _template_dirs(settings: Settings) -> list[str]:
    return [str(settings.templates_dir), str(packaged_templates_dir())]


def store_stamp(conn: Connection, settings: Settings, clock: Clock) -> dict[str, Any]:
    """The stamp of a full build at ``clock.now()`` (see ``core/buildstamp.py``)."""
    now = clock.now()
    return buildstamp.make(
        signature=store_signature(conn, settings, clock),
        token=change_token(conn),
        built_at=now,
        until=next_visible(conn, now),
        config=settings.config_sha256,
        base_dir=settings.base_dir,
        database=settings.database_url,
        templates=_template_dirs(settings),
    )


def _stamp_holds(recorded: object, stamp: dict[str, Any], now: datetime) -> bool:
    return (
        isinstance(recorded, dict)
        and recorded.get("signature") == stamp["signature"]
        and buildstamp.in_window(recorded, now)
    )


def _is_current(root: Path, relpath: str, fingerprint: str, manifest: dict[str, Any]) -> bool:
    recorded = manifest.get(relpath)
    if not isinstance(recorded, list) or len(recorded) != 2 or recorded[0] != fingerprint:
        return False
    try:
        return bool((root / relpath).stat().st_size == recorded[1])
    except FileNotFoundError:
        return False


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, indent=0).encode()


def _record(report: BuildReport, relpath: str, data: bytes, written: bool) -> None:
    if written:
        report.written.append(relpath)
        report.bytes_written += len(data)
    else:
        report.unchanged.append(relpath)


class _Entries:
    """Entries made once per build, shared by pages, formats and feeds."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cache: dict[tuple[int, str], Entry] = {}

    def load(self, pages: list[Page]) -> None:
        missing = {
            a.id: a
            for page in pages
            for a in page.articles
            if (a.id, page.spec.content) not in self.cache
        }
        # The pages hold light rows: only the bodies are read (no columns or tags twice);
        # they are dropped once entries are made, so memory stays bounded by a batch.
        found = bodies(self.conn, sorted(missing))
        for page in pages:
            for article in page.articles:
                key = (article.id, page.spec.content)
                if key not in self.cache and article.id in found:
                    html, text = found[article.id]
                    full = _with(article, content_html=html, content_text=text)
                    self.cache[key] = make_entry(full, page.spec)

    def of(self, page: Page) -> list[Entry]:
        """The page's entries, each with its distinct ``updated`` time (``page.times``)."""
        return [
            _with_updated(self.cache[(a.id, page.spec.content)], moment)
            for a, moment in zip(page.articles, page.times, strict=True)
        ]


def _with_updated(entry: Entry, moment: datetime) -> Entry:
    return entry if entry.updated == moment else _with(entry, updated=moment)


_T = TypeVar("_T", Article, Entry)


def _with(value: _T, **changes: object) -> _T:
    """``dataclasses.replace`` for the frozen rows and entries, without re-running their
    ``__init__``: once per article and per entry of every page, it showed in profiles."""
    copy = object.__new__(type(value))
    copy.__dict__.update(value.__dict__, **changes)
    return copy


def _render(page: Page, entries: list[Entry], names: list[str]) -> dict[str, bytes]:
    """Each named format's bytes, by its registered renderer; what formats share (the
    feedgen generator of RSS and Atom) is built once per page."""
    source = feed_formats.RenderInput(page, entries)
    registry = feed_formats.FORMATS
    return {name: registry[name].render(source) for name in registry if name in names}


def _shrink(entries: list[Entry], excess: int) -> list[Entry]:
    """Entries with the largest bodies cut to their summary until ``excess`` is saved."""
    order = sorted(
        (i for i, e in enumerate(entries) if e.content_html is not None),
        key=lambda i: (
            -(len(entries[i].content_html or "") + len(entries[i].content_text or "")),
            i,
        ),
    )
    result = list(entries)
    saved = 0
    for index in order:
        if saved > excess:
            break
        entry = result[index]
        saved += 2 * (len(entry.content_html or "") + len(entry.content_text or ""))
        result[index] = replace(entry, content_html=None, content_text=None)
    return result


def render_page(page: Page, entries: list[Entry], formats: list[str]) -> dict[str, bytes]:
    """Render ``page``; a format over the size limit gets its largest bodies cut."""
    out = _render(page, entries, formats)
    for _ in range(len(entries) + 1):  # bounded: each pass cuts at least one body
        too_big = [fmt for fmt, data in out.items() if len(data) > MAX_FEED_BYTES]
        if not too_big or all(e.content_html is None for e in entries):
            break
        excess = max(len(out[fmt]) for fmt in too_big) - MAX_FEED_BYTES
        entries = _shrink(entries, excess)
        log.warning("feed %s over %d bytes: cut bodies to summaries", page.folder, MAX_FEED_BYTES)
        out.update(_render(page, entries, too_big))
    return out


def _remove_stale(root: Path, built: set[str], report: BuildReport) -> None:
    """Delete feed files no feed produces any more (a shrunk archive, a gone tag), and
    the folders that leaves empty; nothing else in the folder is touched."""
    names = feed_formats.file_names()
    emptied: set[Path] = set()
    for path in sorted(root.rglob("*")):
        relpath = path.relative_to(root).as_posix()
        if path.is_file() and path.name in names and relpath not in built:
            path.unlink()
            report.removed.append(relpath)
            emptied.update(p for p in path.parents if p != root and root in p.parents)
    for directory in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def build_feeds(
    engine: Engine,
    settings: Settings,
    *,
    clock: Clock,
    only: str | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Write every configured feed (or only the one named) under ``paths.feeds``.

    A filesystem failure (the path is a file, a folder cannot be written) is a
    ``FeedError`` naming the path, not a traceback.
    """
    root = settings.feeds_dir
    try:
        root.mkdir(parents=True, exist_ok=True)
        with exclusive(engine, root):  # never alongside a publish reading the files
            sweep_local(root)
            return _build(engine, settings, clock, root, only, progress)
    except OSError as exc:
        where = exc.filename or root
        raise FeedError(
            f"cannot write the feeds folder: {where}: {oserrors.reason(exc)}",
            hint=oserrors.hint(exc, f"paths.feeds ({root})")
            or f"paths.feeds ({root}) must be a folder syndicate can create and write to",
        ) from None


def sweep_local(root: Path) -> int:
    """Remove the temp files a killed build left in the feeds folder."""
    removed = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if is_temp_name(name):
                Path(folder, name).unlink(missing_ok=True)
                removed += 1
    if removed:
        log.info("feeds: removed %d leftover temp file(s) of an interrupted build", removed)
    return removed


def _build(
    engine: Engine,
    settings: Settings,
    clock: Clock,
    root: Path,
    only: str | None,
    progress: Progress | None,
) -> BuildReport:
    report = BuildReport()
    manifest_path = root / MANIFEST
    manifest = buildstamp.read_manifest(manifest_path)
    built: set[str] = set()
    # Read from one snapshot without holding SQLite's write lock while it renders and
    # writes the files: deliveries and sign-ups are stored meanwhile.
    with reading(engine) as conn:
        stamp = store_stamp(conn, settings, clock)
        if (
            only is None
            and _stamp_holds(manifest.get(STORE_KEY), stamp, clock.now())
            and buildstamp.all_present(root, manifest)
        ):
            # Nothing the feeds depend on changed since the last full build.
            report = buildstamp.unchanged_report(manifest)
            log.info("feeds unchanged: %d files up to date", len(report.unchanged))
            return report
        if manifest.pop(STORE_KEY, None) is not None:
            # Until this build finishes, the next one must not take the shortcut: a crash
            # mid-build leaves temp files that only a full build sweeps.
            write_if_changed(manifest_path, _manifest_bytes(manifest))
        plan = _plan(conn, settings, clock, only)
        todo: list[tuple[Page, list[str]]] = []
        for page in plan.pages:
            if page.is_live:
                report.entries[page.spec.name] = len(page.articles)
            else:
                report.archive_pages[page.spec.name] = page.number
            stale = []
            for fmt in page.spec.formats:
                relpath = f"{page.folder}/{feed_formats.get(fmt).file_name}"
                built.add(relpath)
                if _is_current(root, relpath, page.fingerprint(fmt, plan.stamps), manifest):
                    report.unchanged.append(relpath)
                else:
                    stale.append(fmt)
            if stale:
                todo.append((page, stale))
        entries = _Entries(conn)
        total = len(todo)
        # Every file is written beside its target first; one data sync, then the renames
        # (an fsync per file cost more than rendering it). The manifest comes after.
        with BatchWriter() as writer:
            for done, (page, formats) in enumerate(todo, start=1):
                if done % LOAD_BATCH == 1:  # bodies for the next pages, in a few queries
                    entries.load([p for p, _ in todo[done - 1 : done - 1 + LOAD_BATCH]])
                for fmt, data in render_page(page, entries.of(page), formats).items():
                    relpath = f"{page.folder}/{feed_formats.get(fmt).file_name}"
                    _record(
                        report,
                        relpath,
                        data,
                        writer.write(root / relpath, data, page.updated.timestamp()),
                    )
                    manifest[relpath] = [page.fingerprint(fmt, plan.stamps), len(data)]
                if progress is not None:
                    progress(done, total)
            if only is None:
                newest = max(
                    (p.updated for p in plan.pages if p.is_live), default=EPOCH
                ).timestamp()
                for relpath, data in (
                    ("index.html", render_index(settings, plan.feeds, plan.tag_feeds)),
                    ("feeds.opml", render_opml(settings, plan.feeds + plan.tag_feeds)),
                ):
                    built.add(relpath)
                    _record(report, relpath, data, writer.write(root / relpath, data, newest))
    if only is None:
        _remove_stale(root, built, report)
        manifest = {key: value for key, value in manifest.items() if key in built}
        manifest[STORE_KEY] = stamp
        manifest[REPORT_KEY] = {"entries": report.entries, "archive_pages": report.archive_pages}
    else:
        for key in buildstamp.META_KEYS:  # a partial build does not vouch for every feed
            manifest.pop(key, None)
    write_if_changed(manifest_path, _manifest_bytes(manifest))
    log.info(
        "feeds built: %d written (%d bytes), %d unchanged, %d removed",
        len(report.written),
        report.bytes_written,
        len(report.unchanged),
        len(report.removed),
    )
    return report.count()
