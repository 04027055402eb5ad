"""The host type registry: one ``HostType`` declaration per ``[[hosts]] type``.

``build_host`` used to be an if-chain over type names reading one flat settings bag;
each host module now owns its factory (``build``), taking its own settings model (one
member of the ``type``-keyed union in ``syndicate/core/config.py``). Adding a host type
is one module plus one line here and its model in that union (see
docs/architecture.md, "Extension points").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from syndicate.core.config import (
    DirectoryHostSettings,
    FtpHostSettings,
    HostSettings,
    S3HostSettings,
    SftpHostSettings,
    WebDavHostSettings,
)
from syndicate.publishing.hosts import directory, ftp, s3, sftp, webdav
from syndicate.publishing.hosts.base import Host

# (settings, *, base_dir, key) -> a host that connects on first use
HostFactory = Callable[..., Host]


@dataclass(frozen=True)
class HostType:
    """Everything the code knows about one host type."""

    name: str  # the value of ``[[hosts]] type``
    settings_model: type[HostSettings]
    factory: HostFactory


HOST_TYPES: dict[str, HostType] = {}


def register(host_type: HostType) -> HostType:
    HOST_TYPES[host_type.name] = host_type
    return host_type


def host_type(settings: Any) -> HostType:
    """The declaration of the type ``settings`` (one ``[[hosts]]`` entry) names."""
    return HOST_TYPES[settings.type]


register(HostType("directory", DirectoryHostSettings, directory.build))
register(HostType("s3", S3HostSettings, s3.build))
register(HostType("sftp", SftpHostSettings, sftp.build))
register(HostType("ftp", FtpHostSettings, ftp.build))
register(HostType("webdav", WebDavHostSettings, webdav.build))
