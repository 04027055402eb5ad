"""A folder on this machine that a web server serves (``type = "directory"``)."""

from __future__ import annotations

import os
from pathlib import Path

from syndicate.core import oserrors
from syndicate.core.fileio import write_atomic
from syndicate.publishing.hosts.base import HostError


class DirectoryHost:
    """Writes with ``fileio.write_atomic`` (temp file, fsync, rename): atomic by itself."""

    atomic_put = True

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root

    def _local(self, path: str) -> Path:
        return self.root / path

    def put(self, path: str, data: bytes, content_type: str, cache_control: str) -> None:
        try:
            write_atomic(self._local(path), data)
        except OSError as exc:
            raise _error(self.name, f"cannot write {path}", exc) from None

    def delete(self, path: str) -> None:
        local = self._local(path)
        try:
            local.unlink(missing_ok=True)
        except OSError as exc:
            raise _error(self.name, f"cannot delete {path}", exc) from None
        # Drop folders the deletion left empty (an old feed's archive/), never the root.
        folder = local.parent
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent

    def list_files(self, folder: str) -> list[str]:
        try:
            with os.scandir(self._local(folder) if folder else self.root) as entries:
                return [entry.name for entry in entries if entry.is_file(follow_symlinks=False)]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise _error(self.name, f"list {folder or '/'}", exc) from None

    def close(self) -> None:
        return None


def _error(host: str, what: str, exc: OSError) -> HostError:
    return HostError(
        f"host {host!r}: {what}: {oserrors.reason(exc)}",
        temporary=False,
        hint=oserrors.hint(exc, f"the folder of host {host!r} (hosts[].path)"),
    )
