"""Feed hosts: where built feeds are pushed (folder, S3, SFTP, FTP, WebDAV).

``build_host`` turns one ``[[hosts]]`` entry into a ``Host`` (see ``base.py``); the
publisher (``syndicate/publishing/publish.py``) decides what to send to it.
"""

from __future__ import annotations

from pathlib import Path

from syndicate.core.config import HostSettings, secret
from syndicate.publishing.hosts.base import Host, HostError

__all__ = ["Host", "HostError", "build_host"]


def build_host(
    settings: HostSettings, *, base_dir: Path | None = None, key: str | None = None
) -> Host:
    """A connected-on-first-use host for one ``[[hosts]]`` entry.

    ``base_dir`` resolves a relative directory path (the config file's folder);
    ``key`` is the entry's key path (``hosts[0]``) for messages about missing secrets.
    """
    key = key or f"hosts[{settings.name}]"
    password = secret(settings.password_env, key=f"{key}.password_env")
    if settings.type == "directory":
        from syndicate.publishing.hosts.directory import DirectoryHost

        root = Path(settings.path).expanduser()
        if not root.is_absolute() and base_dir is not None:
            root = base_dir / root
        return DirectoryHost(settings.name, root)
    if settings.type == "s3":
        from syndicate.publishing.hosts.s3 import S3Host

        return S3Host(
            settings.name,
            bucket=settings.bucket or "",
            prefix=settings.prefix,
            region=settings.region,
            endpoint_url=settings.endpoint_url,
            access_key=secret(settings.access_key_env, key=f"{key}.access_key_env"),
            secret_key=secret(settings.secret_key_env, key=f"{key}.secret_key_env"),
            timeout=settings.timeout,
        )
    if settings.type == "sftp":
        from syndicate.publishing.hosts.sftp import SftpHost

        return SftpHost(
            settings.name,
            host=settings.host or "",
            port=settings.port or 22,
            username=settings.username or "",
            password=password,
            key_file=settings.key_file,
            known_hosts=settings.known_hosts,
            root=settings.path,
            timeout=settings.timeout,
        )
    if settings.type == "ftp":
        from syndicate.publishing.hosts.ftp import FtpHost

        return FtpHost(
            settings.name,
            host=settings.host or "",
            port=settings.port or 21,
            username=settings.username,
            password=password,
            tls=settings.tls,
            root=settings.path,
            timeout=settings.timeout,
        )
    from syndicate.publishing.hosts.webdav import WebDavHost

    return WebDavHost(
        settings.name,
        url=settings.endpoint_url or "",
        root=settings.path,
        username=settings.username,
        password=password,
        timeout=settings.timeout,
    )
