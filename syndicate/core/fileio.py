"""Atomic file writes: temp name in the same folder, fsync, rename.

A reader (a web server, a feed host sync, a crash) never sees half a file.
``BatchWriter`` does the same for many files with one data sync per filesystem.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import tempfile
from pathlib import Path
from types import TracebackType

TEMP_SUFFIX = ".tmp"  # temp files are ".<name>.<random>.tmp" next to their target


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that the old or the new bytes are seen, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write atomically only when the bytes differ; returns whether it wrote."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data)
    return True


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Ours only: ``hosts.base.temp_name`` (12 hex) and ``mkstemp`` below (8 characters).
_OUR_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8,12}" + re.escape(TEMP_SUFFIX) + "$")


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temp file syndicate itself writes (left behind only by a
    crash, so safe to sweep); an operator's ``.htaccess`` or ``notes.tmp`` is not."""
    return _OUR_TEMP.match(name) is not None


def _unchanged(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except FileNotFoundError:
        return False


def _syncfs() -> object | None:
    """libc's ``syncfs`` (Linux): flush one filesystem's dirty data in one call."""
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


_SYNCFS = _syncfs()


def _fsync(path: Path) -> None:
    """fsync a file or a folder (a folder's fsync makes the renames in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_filesystems(folders: set[Path], files: list[Path]) -> None:
    """Make the data of ``files`` (all inside ``folders``) durable: one ``syncfs`` per
    filesystem, or an fsync per file where there is none."""
    if _SYNCFS is None:
        for path in files:
            _fsync(path)
        return
    done: set[int] = set()
    for folder in sorted(folders):
        fd = os.open(folder, os.O_RDONLY)
        try:
            device = os.fstat(fd).st_dev
            if device not in done:
                if _SYNCFS(fd) != 0:  # type: ignore[operator]
                    error = ctypes.get_errno()
                    raise OSError(error, os.strerror(error), str(folder))
                done.add(device)
        finally:
            os.close(fd)


class BatchWriter:
    """Atomic writes of many files with batched durability.

    ``write`` puts each changed file under a temp name next to its target; ``commit``
    makes all their data durable at once, renames them into place, and syncs again so
    the renames are durable. Readers see every file old or new, never half written; a
    crash before the renames leaves only temp files (``is_temp_name``) to sweep.
    Used as a context manager it commits on success and discards on error.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._folders: set[Path] = set()  # made or seen: one mkdir per folder, not per file

    def write(self, path: Path, data: bytes, mtime: float | None = None) -> bool:
        """Stage ``data`` for ``path`` unless it already holds those bytes; ``mtime``
        stamps the file either way. Returns whether the file will change."""
        if _unchanged(path, data):
            if mtime is not None and path.stat().st_mtime != mtime:
                os.utime(path, (mtime, mtime))
            return False
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        tmp = Path(name)
        self._staged.append((tmp, path))
        try:  # by descriptor throughout: no file object, no second path lookup
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, 0o644)
            if mtime is not None:
                os.utime(fd, (mtime, mtime))
        finally:
            os.close(fd)
        return True

    def commit(self) -> None:
        if not self._staged:
            return
        folders = {target.parent for _, target in self._staged}
        try:
            _sync_filesystems(folders, [tmp for tmp, _ in self._staged])
            for tmp, target in self._staged:
                os.replace(tmp, target)
        finally:
            self.discard()  # whatever was not renamed (nothing, on success)
        _sync_filesystems(folders, [])  # the renames (fsync of each folder without syncfs)
        if _SYNCFS is None:
            for folder in folders:
                _fsync(folder)

    def discard(self) -> None:
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged.clear()

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()
