"""Which config file a command uses: ``--config``, then ``$SYNDICATE_CONFIG``, then the
nearest ``config.toml`` in the current folder or its parents (as git finds its
repository), so a command works from any folder of a site.

A config found in a parent folder is named on stderr, so a stray ``/tmp/config.toml``
cannot be used unnoticed; and a found file owned by another user (not you, not root)
is skipped with a line saying so, as git's ``safe.directory`` does: a config says which
database to open and which commands to run, so it must not come from someone who
can merely write to a folder above yours.

Kept free of pydantic and the rest of ``config.py``: the CLI calls it on every start,
``--version`` and ``--help`` included.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from syndicate.core.errors import ConfigError

CONFIG_ENV = "SYNDICATE_CONFIG"
DEFAULT_CONFIG = "config.toml"


@dataclass(frozen=True)
class FoundConfig:
    """The file to read; ``searched`` lists the folders looked in when none was found."""

    path: Path
    searched: tuple[Path, ...] = ()

    @property
    def found(self) -> bool:
        return not self.searched

    def missing(self) -> ConfigError:
        """The error for a search that found nothing, saying where it looked."""
        shown = ", ".join(str(folder) for folder in self.searched[:6])
        more = f" and {len(self.searched) - 6} more" if len(self.searched) > 6 else ""
        return ConfigError(
            f"no {DEFAULT_CONFIG} found: looked in {shown}{more}; --config and "
            f"${CONFIG_ENV} were not given",
            hint="run `syndicate init` to create one, cd into your site's folder, "
            f"or pass --config PATH (or set {CONFIG_ENV})",
        )


def _stderr(line: str) -> None:
    print(f"syndicate: {line}", file=sys.stderr)


def untrusted_owner(path: Path, uid: int) -> int | None:
    """The owner of ``path`` (or of the link at it) when neither ``uid`` nor root."""
    for info in (path.lstat(), path.stat()):
        if info.st_uid not in (uid, 0):
            return info.st_uid
    return None


def find_config(
    explicit: str | os.PathLike[str] | None,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    uid: int | None = None,
    say: Callable[[str], None] = _stderr,
) -> FoundConfig:
    """The config to use; ``say`` is told which file is used when it was found in a
    parent folder, and each file skipped for its owner (``uid``: the current user)."""
    if explicit:
        return FoundConfig(Path(explicit))
    if environ.get(CONFIG_ENV):
        return FoundConfig(Path(environ[CONFIG_ENV]))
    getuid = getattr(os, "getuid", None)  # no file owners to check on Windows
    if uid is None and getuid is not None:
        uid = getuid()
    start = (cwd or Path.cwd()).absolute()
    folders = (start, *start.parents)
    for folder in folders:
        candidate = folder / DEFAULT_CONFIG
        if not candidate.is_file():
            continue
        owner = untrusted_owner(candidate, uid) if uid is not None else None
        if owner is not None:
            say(f"skipped {candidate}: owned by user id {owner}, not by you or root")
            continue
        if folder == start:
            return FoundConfig(Path(DEFAULT_CONFIG))
        say(f"using {candidate} (found in a parent folder)")
        return FoundConfig(candidate)
    return FoundConfig(Path(DEFAULT_CONFIG), searched=folders)
