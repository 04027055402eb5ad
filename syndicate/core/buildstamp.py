"""The feed build's stamp: what the last full build depended on, so that "nothing
changed" is told before anything is rendered, and by ``syndicate feeds build`` before
it loads the app at all (pydantic, SQLAlchemy, feedgen and lxml are a second of CPU
where the answer needs one query).

A full build writes the stamp into its manifest (``feeds/build.py``); it holds while:

- the code and output format are the same versions;
- the settings come from the same config file bytes (``config``; the build also
  compares the feed-relevant settings themselves, ``signature``);
- the templates the feed list uses are the same bytes (``templates``);
- the store's change token is the same (every article writer renews it);
- the clock is inside ``[built_at, until)``: ``until`` is the publication time of the
  next future-dated article, when it joins the feeds without any write to the store;
- every file of the build is still there at its recorded size.

This module is stdlib only (plus ``sqlite3``, or ``psycopg`` for PostgreSQL) so that the
CLI can import it at start-up.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syndicate import __version__
from syndicate.core import dburl
from syndicate.core.jobcounts import counts_of, manual_slot

# Bump when the builder's output changes for the same inputs: every page is rebuilt.
FORMAT_VERSION = "3"  # 3: a podcast item's dc:creator follows its itunes: tags
MANIFEST = ".manifest.json"
STORE_KEY = "(store)"  # the manifest entry holding the stamp of the last full build
REPORT_KEY = "(report)"  # the last full build's per-feed counts, for the unchanged shortcut
META_KEYS = (STORE_KEY, REPORT_KEY)
CHANGE_KEY = "articles_changed"  # the store's change token (``meta`` table)
FEEDS_JOB = "feeds"
DEFAULT_FEEDS_DIR = "feeds"  # [paths] feeds when the config does not set it


@dataclass
class BuildReport:
    """What a build did. ``written``/``unchanged``/``removed`` are paths relative to the
    feeds folder; ``entries``: feed name -> entries in its live feed; the ``files_*``
    numbers are what job history records."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    bytes_written: int = 0
    entries: dict[str, int] = field(default_factory=dict)
    archive_pages: dict[str, int] = field(default_factory=dict)
    files_written: int = 0
    files_unchanged: int = 0
    files_removed: int = 0

    def count(self) -> BuildReport:
        self.files_written = len(self.written)
        self.files_unchanged = len(self.unchanged)
        self.files_removed = len(self.removed)
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "unchanged": len(self.unchanged),
            "removed": self.removed,
            "bytes_written": self.bytes_written,
            "entries": self.entries,
            "archive_pages": self.archive_pages,
        }


def resolve_path(base_dir: Path, configured: str) -> Path:
    """A configured path, relative to the config file's folder (``Settings.resolve``)."""
    path = Path(configured).expanduser()
    return path if path.is_absolute() else base_dir / path


def templates_hash(folders: Iterable[str]) -> str:
    """The bytes of every file the feed list's page can use, hashed: the templates under
    ``web/`` and the operator's catalogs under ``locale/`` (its words are translated) of
    the operator's templates folder and of the packaged one."""
    digest = hashlib.sha256()
    for folder in folders:
        root = Path(folder)
        digest.update(f"\0{root}\0".encode("utf-8", "surrogateescape"))
        try:
            used = sorted(p for p in root.glob("web/*") if p.is_file())
            used += sorted(root.glob("locale/*/LC_MESSAGES/*.po"))
        except OSError:
            continue  # no such folder: nothing of it is used
        for path in used:
            digest.update(f"\0{path.relative_to(root)}\0".encode("utf-8", "surrogateescape"))
            try:
                digest.update(path.read_bytes())
            except OSError:  # unreadable: no stamp holds; rendering reports it
                digest.update(os.urandom(16))
    return digest.hexdigest()


def make(
    *,
    signature: str,
    token: str | None,
    built_at: datetime,
    until: datetime | None,
    config: str,
    base_dir: Path,
    database: str,
    templates: list[str],
) -> dict[str, Any]:
    """The stamp a full build records (JSON-ready)."""
    return {
        "signature": signature,
        "version": __version__,
        "format": FORMAT_VERSION,
        "token": token,
        "built_at": built_at.astimezone(UTC).isoformat(),
        "until": until.astimezone(UTC).isoformat() if until is not None else None,
        "config": config,
        "base_dir": str(base_dir),  # relative paths in the config resolve against it
        # A hash: the URL may hold a password, and the manifest sits in the feeds folder.
        "database": hashlib.sha256(database.encode()).hexdigest(),
        "template_dirs": templates,
        "templates": templates_hash(templates),
    }


def in_window(stamp: dict[str, Any], now: datetime) -> bool:
    """Whether ``now`` is in the stamp's ``[built_at, until)``: no article became visible
    (nor, with a clock set back, hidden) since the build."""
    try:
        if now < datetime.fromisoformat(stamp["built_at"]):
            return False
        until = stamp["until"]
        return until is None or now < datetime.fromisoformat(until)
    except (KeyError, TypeError, ValueError):
        return False


def all_present(root: Path, manifest: dict[str, Any]) -> bool:
    """Every file of the last build is still there at its recorded size."""
    for relpath, recorded in manifest.items():
        if relpath in META_KEYS:
            continue
        try:
            if (root / relpath).stat().st_size != recorded[1]:
                return False
        except (OSError, TypeError, IndexError):
            return False
    return (root / "index.html").is_file() and (root / "feeds.opml").is_file()


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable, or the folder is not a folder
        return {}
    return data if isinstance(data, dict) else {}


def unchanged_report(manifest: dict[str, Any]) -> BuildReport:
    """The report of a build that found nothing to do: every file unchanged."""
    report = BuildReport()
    report.unchanged = sorted(
        [k for k in manifest if k not in META_KEYS] + ["index.html", "feeds.opml"]
    )
    counts = manifest.get(REPORT_KEY)
    if isinstance(counts, dict):
        report.entries = dict(counts.get("entries") or {})
        report.archive_pages = dict(counts.get("archive_pages") or {})
    return report.count()


# -- the CLI's shortcut -------------------------------------------------------------------


@dataclass(frozen=True)
class Unchanged:
    """``feeds build`` found nothing to do: its report and the feeds folder."""

    report: BuildReport
    feeds_dir: Path


def check_unchanged(config_file: Path, *, now: datetime | None = None) -> Unchanged | None:
    """Whether a full build of ``config_file``'s feeds would write nothing, told from the
    stamp, the raw config and one query; the run is recorded in job history as the build
    would be. None (and nothing recorded) when anything differs or cannot be told: then
    the caller builds as usual, which also reports any error properly."""
    now = now or datetime.now(UTC)
    try:
        raw = config_file.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
        configured = data.get("paths", {}).get("feeds", DEFAULT_FEEDS_DIR)
        if not isinstance(configured, str):
            return None
        base_dir = config_file.resolve().parent
        root = resolve_path(base_dir, configured)
    except (OSError, ValueError, AttributeError):  # unreadable, not TOML, not a table
        return None
    manifest = read_manifest(root / MANIFEST)
    stamp = manifest.get(STORE_KEY)
    if not isinstance(stamp, dict) or not _static_inputs_hold(stamp, raw, base_dir, now):
        return None
    if not all_present(root, manifest):
        return None
    database = _database_url(data, base_dir)
    if database is None or hashlib.sha256(database.encode()).hexdigest() != stamp.get("database"):
        return None
    report = unchanged_report(manifest)
    if not _record_if_unchanged(database, stamp.get("token"), report, now):
        return None
    return Unchanged(report, root)


def _database_url(data: dict[str, Any], base_dir: Path) -> str | None:
    """The store the config names, as ``Settings.database_url`` opens it; None when the
    raw config says something the app itself would have to judge."""
    section = data.get("database", {})
    url = section.get("url", dburl.DEFAULT_URL) if isinstance(section, dict) else None
    if not isinstance(url, str):
        return None
    try:
        return dburl.resolved(dburl.normalise(url), base_dir)
    except dburl.DatabaseUrlError:
        return None


def _static_inputs_hold(
    stamp: dict[str, Any], raw_config: bytes, base_dir: Path, now: datetime
) -> bool:
    """Same code, same config bytes read from the same folder (a copied site's stamp
    names the original's database), same templates, and inside the time window."""
    dirs = stamp.get("template_dirs")
    return (
        stamp.get("version") == __version__
        and stamp.get("format") == FORMAT_VERSION
        and stamp.get("config") == hashlib.sha256(raw_config).hexdigest()
        and stamp.get("base_dir") == str(base_dir)
        and isinstance(dirs, list)
        and in_window(stamp, now)
        and stamp.get("templates") == templates_hash(str(d) for d in dirs)
    )


def _record_if_unchanged(database: str, token: object, report: BuildReport, now: datetime) -> bool:
    """Read the change token and, when it is the stamp's, record the run (a finished
    ``feeds`` job in a manual slot, as ``service.manualruns.recorded`` records a build),
    in one transaction."""
    counts = {f"build_{k}": v for k, v in counts_of(report).items()}  # as manualruns
    slot = manual_slot(now)
    holder = f"{_host()}:{os.getpid()}:{os.urandom(3).hex()}"  # as service.leader.holder_id
    scheme, _, rest = database.partition("://")
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return _sqlite(rest, token, (FEEDS_JOB, slot, now, json.dumps(counts), holder))
    if scheme == "postgresql+psycopg":
        return _postgres(f"postgresql://{rest}", token, (FEEDS_JOB, slot, now, counts, holder))
    return False


def _host() -> str:
    if hasattr(os, "uname"):
        return os.uname().nodename  # what socket.gethostname() says, without socket
    import socket

    return socket.gethostname()


_INSERT = (
    "INSERT INTO job_runs (job, slot, status, started_at, finished_at, counts, holder) "
    "VALUES ({p}, {p}, 'ok', {p}, {p}, {json}, {p})"
)


def _sqlite(rest: str, token: object, row: tuple[Any, ...]) -> bool:
    import sqlite3  # local: only a SQLite store needs it

    path = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel, sqlite:////abs
    path = path.split("?", 1)[0]
    if not path or path.startswith(":memory:") or not Path(path).is_file():
        return False
    job, slot, now, counts, holder = row
    at = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores it
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        conn.execute("BEGIN IMMEDIATE")
        found = conn.execute("SELECT value FROM meta WHERE key = ?", (CHANGE_KEY,)).fetchone()
        if found is None or found[0] != token:
            conn.execute("ROLLBACK")
            return False
        conn.execute(_INSERT.format(p="?", json="?"), (job, slot, at, at, counts, holder))
        conn.execute("COMMIT")
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _postgres(url: str, token: object, row: tuple[Any, ...]) -> bool:
    import psycopg  # local: only a PostgreSQL store needs it
    from psycopg.types.json import Json

    job, slot, now, counts, holder = row
    try:
        with psycopg.connect(url, connect_timeout=10) as conn, conn.transaction():
            found = conn.execute("SELECT value FROM meta WHERE key = %s", (CHANGE_KEY,)).fetchone()
            if found is None or found[0] != token:
                return False
            conn.execute(
                _INSERT.format(p="%s", json="%s"), (job, slot, now, now, Json(counts), holder)
            )
            return True
    except psycopg.Error:
        return False
