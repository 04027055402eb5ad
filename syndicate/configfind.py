"""Which config file a command uses: ``--config``, then ``$SYNDICATE_CONFIG``, then the
nearest ``config.toml`` in the current folder or its parents (as git finds its
repository), so a command works from any folder of a site.

Kept free of pydantic and the rest of ``config.py``: the CLI calls it on every start,
``--version`` and ``--help`` included.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

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


def find_config(
    explicit: str | os.PathLike[str] | None,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> FoundConfig:
    if explicit:
        return FoundConfig(Path(explicit))
    if environ.get(CONFIG_ENV):
        return FoundConfig(Path(environ[CONFIG_ENV]))
    start = (cwd or Path.cwd()).absolute()
    folders = (start, *start.parents)
    for folder in folders:
        candidate = folder / DEFAULT_CONFIG
        if candidate.is_file():
            return FoundConfig(candidate if folder != start else Path(DEFAULT_CONFIG))
    return FoundConfig(Path(DEFAULT_CONFIG), searched=folders)
