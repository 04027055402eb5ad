"""Leftovers of a killed publish: found and removed at the start of the next one.

A publish killed between writing a temp file and renaming it (or a directory host's
``write_atomic`` killed mid-write) leaves a hidden ``.name.XXXX.tmp`` on the host.
Each publish first lists the folders it publishes to and removes syndicate's own
temp files there; anything else (an ``.htaccess``, another tool's files) is left.

Publishes are serialised (``exclusive``) so that one never sweeps the temp file
another is about to rename into place.
"""

from __future__ import annotations

import fcntl
import logging
import os
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from syndicate.core.db import is_sqlite
from syndicate.core.fileio import is_temp_name
from syndicate.publishing.hosts.base import Host, join_remote, parents

log = logging.getLogger(__name__)


def folders_of(paths: Iterable[str]) -> list[str]:
    """The root ("") and every folder holding one of ``paths``, outermost first."""
    found = {""}
    for path in paths:
        found.update(parents(path))
    return sorted(found, key=lambda folder: (folder.count("/"), folder))


def sweep(host: Host, folders: Iterable[str]) -> list[str]:
    """Remove syndicate's leftover temp files in ``folders``; returns their paths."""
    removed = []
    for folder in folders:
        for name in host.list_files(folder):
            if is_temp_name(name):
                path = join_remote(folder, name)
                host.delete(path)
                removed.append(path)
    if removed:
        log.info("host %s: removed %d leftover temp file(s)", host.name, len(removed))
    return removed


@contextmanager
def exclusive(engine: Engine, feeds_dir: Path) -> Iterator[None]:
    """One publish at a time: a PostgreSQL advisory lock, or (SQLite, one machine) an
    flock on the feeds folder itself (no lock file to leave behind)."""
    if not is_sqlite(engine):
        key = zlib.crc32(b"syndicate:publish")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        return
    fd = os.open(feeds_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
