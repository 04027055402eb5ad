"""The feed host interface: what the publisher needs from a place that serves files.

A host knows nothing about manifests, feeds or retries: the publisher (``publish.py``)
decides what to send and in which order, and calls these few methods. Paths are
POSIX paths relative to the host's root (``all/rss.xml``).

Atomicity: a host whose ``put`` is atomic at the public path (S3, a local folder
written with a temp file and rename) says ``atomic_put = True`` and is given the final
path; any other host (a ``StagedHost``) is given a temporary name in the same folder and
then asked to ``rename`` it over the final one, so a reader never sees half a file.

Errors: every failure is a ``HostError``; ``temporary`` says whether trying again
(after reconnecting) may succeed, so only those are retried.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Protocol, TypeVar

from syndicate.core.errors import PublishError

T = TypeVar("T")


class HostError(PublishError):
    """A host refused or failed an operation.

    ``temporary``: a dropped connection, a timeout, a busy server: retry after a pause.
    Anything else (wrong password, permission denied, disk full) needs the operator.
    """

    def __init__(self, message: str, *, temporary: bool, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.temporary = temporary


class Host(Protocol):
    name: str
    atomic_put: bool

    def put(self, path: str, data: bytes, content_type: str, cache_control: str) -> None:
        """Store ``data`` at ``path``, creating folders as needed."""
        ...

    def delete(self, path: str) -> None:
        """Remove ``path``; a file that is already gone is not an error."""
        ...

    def list_files(self, folder: str) -> list[str]:
        """Names of the files directly in ``folder`` ("" is the root); [] if it is missing.

        The publisher lists the folders it publishes to and removes its own leftover
        temp files (``fileio.is_temp_name``) that a killed publish left behind.
        """
        ...

    def close(self) -> None: ...


class StagedHost(Host, Protocol):
    """A host whose ``put`` is not atomic (``atomic_put = False``): SFTP, FTP, WebDAV."""

    def rename(self, source: str, target: str) -> None:
        """Move ``source`` over ``target`` (replacing it) in one step."""
        ...


TEMP_SUFFIX = ".tmp"

# Hints shared by the network hosts.
AUTH_HINT = "check hosts[].username and the password or key the host entry names"
SPACE_HINT = "the host is out of space: free some, then publish again"
DOWN_HINT = "check that the host is reachable (hosts[].host/port/endpoint_url)"
PERMISSION_HINT = "check that the login may write to hosts[].path on the host"


class LoginMemo:
    """Remembers a refused login for the life of the host object (one push).

    The publisher stops at the first refused login, but before it does, its clean-up
    of the upload's temp file (``publish._discard``) calls the host again. That call
    must be able to reconnect (after a dropped connection it removes a partial temp
    file), so it cannot simply skip connecting; the memo makes it fail at once
    instead of trying the same refused password or key a second time, which would
    count twice against a server's lockout limit.
    """

    def __init__(self) -> None:
        self.refused: HostError | None = None

    def open(self, opener: Callable[[], T]) -> T:
        if self.refused is not None:
            raise self.refused
        try:
            return opener()
        except HostError as exc:
            if not exc.temporary:
                self.refused = exc
            raise


def temp_name(path: str) -> str:
    """A hidden name next to ``path`` (same folder, so a rename stays on one file system)."""
    target = PurePosixPath(path)
    return str(target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}"))


def is_unpublishable(name: str) -> bool:
    """Never uploaded: dotfiles (our own temp names among them) and the usual
    editor/partial-download leftovers. What a sweep may delete is narrower:
    ``fileio.is_temp_name``."""
    return name.startswith(".") or name.endswith((TEMP_SUFFIX, "~", ".part", ".swp"))


def parents(path: str) -> list[str]:
    """The folders above ``path``, outermost first (``a/b/c.xml`` -> ``a``, ``a/b``)."""
    folders = [str(parent) for parent in PurePosixPath(path).parents if str(parent) != "."]
    return list(reversed(folders))


def join_remote(root: str, path: str) -> str:
    """``root`` + ``path`` as a POSIX path, without doubled or trailing slashes."""
    root = root.rstrip("/")
    return f"{root}/{path}" if root else path
