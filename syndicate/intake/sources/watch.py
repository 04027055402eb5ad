"""Folder sources: import soon after their files change, besides the schedule.

watchfiles (inotify on Linux, a Rust notify backend elsewhere) reports changes after a
short debounce; the watcher re-reads the configured folders every few seconds so a
reloaded config (SIGHUP) or a folder created later is picked up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from syndicate.core.config import Settings
from syndicate.intake.importers import EXTENSIONS

log = logging.getLogger(__name__)
logging.getLogger("watchfiles").setLevel(logging.WARNING)  # it logs every change at INFO

RECHECK_MS = 2000
RETRY_FIRST_S = 1.0  # a broken watch is retried after this, doubling up to RETRY_MAX_S
RETRY_MAX_S = 60.0


def watched_folders(settings: Settings) -> dict[Path, str]:
    """Each existing folder of a folder source -> the source's name."""
    folders = {}
    for source in settings.sources:
        if source.path is not None:
            folder = settings.resolve(source.path).resolve()
            if folder.is_dir():
                folders[folder] = source.name
    return folders


def _article_file(path: str) -> bool:
    return Path(path).suffix.lower() in EXTENSIONS and not Path(path).name.startswith(".")


def _touched(changes: set[tuple[watchfiles.Change, str]], folders: dict[Path, str]) -> list[str]:
    """The sources whose folders hold a changed article file."""
    return sorted(
        {
            name
            for _change, path in changes
            if _article_file(path)
            for folder, name in folders.items()
            if Path(path).is_relative_to(folder)
        }
    )


def watch_folders(
    settings: Callable[[], Settings],
    stop: threading.Event,
    on_change: Callable[[str], object],
) -> None:
    """Call ``on_change(source name)`` after article files in a folder source change.

    A watch that cannot start or breaks (the inotify watch limit, a folder removed
    under it) is logged in one line and retried with a growing wait until ``stop``:
    the watcher never dies silently, and the scheduled imports go on meanwhile."""
    delay = RETRY_FIRST_S
    while not stop.is_set():
        try:
            _watch_once(settings, stop, on_change)
        except Exception as exc:  # whatever watchfiles raises: log, wait, retry
            log.warning(
                "watching the source folders failed (%s: %s); retrying in %g s",
                type(exc).__name__, exc, delay,
            )  # fmt: skip
            stop.wait(delay)
            delay = min(delay * 2, RETRY_MAX_S)
        else:
            delay = RETRY_FIRST_S


def _watch_once(
    settings: Callable[[], Settings],
    stop: threading.Event,
    on_change: Callable[[str], object],
) -> None:
    """Watch the current set of folders until the config changes it or ``stop``."""
    folders = watched_folders(settings())
    if not folders:
        stop.wait(RECHECK_MS / 1000)
        return
    log.debug("watching %s", ", ".join(str(f) for f in folders))
    primed = False
    for changes in watchfiles.watch(
        *folders, stop_event=stop, rust_timeout=RECHECK_MS, yield_on_timeout=True
    ):
        if watched_folders(settings()) != folders:
            return  # the config changed: watch the new set
        touched = _touched(changes, folders)
        if not primed:
            # The watch is live from its first answer on: import every folder once
            # then, so a file written while the watcher was starting is not missed.
            primed = True
            touched = sorted(set(folders.values()))
        for name in touched:
            try:
                on_change(name)
            except Exception:  # the watcher must outlive one failed import
                log.exception("importing the folder of source %s failed", name)
