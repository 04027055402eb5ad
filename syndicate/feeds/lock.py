"""One writer of the feeds folder at a time: a build and a publish never overlap.

A publish sweeps leftover temp files and reads the built files; a build renames new
ones into place. Serialising them means a sweep never removes a file another process
is about to rename, and a publish never reads a half-replaced set.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from syndicate.core.db import is_sqlite


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
