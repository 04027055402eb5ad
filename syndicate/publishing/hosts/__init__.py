"""Feed hosts: where built feeds are pushed (folder, S3, SFTP, FTP, WebDAV).

``build_host`` turns one ``[[hosts]]`` entry into a ``Host`` (see ``base.py``) through
the host type registry (``registry.py``: one line per type); the
publisher (``syndicate/publishing/publish.py``) decides what to send to it.
"""

from __future__ import annotations

from pathlib import Path

from syndicate.core.config import HostSettings
from syndicate.publishing.hosts.base import Host, HostError
from syndicate.publishing.hosts.registry import host_type

__all__ = ["Host", "HostError", "build_host"]


def build_host(
    settings: HostSettings, *, base_dir: Path | None = None, key: str | None = None
) -> Host:
    """A connected-on-first-use host for one ``[[hosts]]`` entry.

    ``base_dir`` resolves a relative directory path (the config file's folder);
    ``key`` is the entry's key path (``hosts[0]``) for messages about missing secrets.
    """
    key = key or f"hosts[{settings.name}]"
    return host_type(settings).factory(settings, base_dir=base_dir, key=key)
