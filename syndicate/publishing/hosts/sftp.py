"""A folder on an SSH server, over SFTP (``type = "sftp"``; needs the ``sftp`` extra).

The server's host key is always checked, against ``known_hosts`` (or the user's
``~/.ssh/known_hosts``): an unknown or changed key is an error, never accepted
silently. Uploads go to a hidden temp name and are moved over the final name with
OpenSSH's ``posix-rename``, which replaces the old file in one step.
"""

from __future__ import annotations

import errno
import io
import socket
import stat
from pathlib import Path
from typing import Any

from syndicate.core.errors import install_hint
from syndicate.publishing.hosts.base import (
    AUTH_HINT,
    DOWN_HINT,
    PERMISSION_HINT,
    HostError,
    LoginMemo,
    join_remote,
    parents,
)


class SftpHost:
    atomic_put = False

    def __init__(
        self,
        name: str,
        *,
        host: str,
        port: int = 22,
        username: str,
        password: str | None = None,
        key_file: str | None = None,
        known_hosts: str | None = None,
        root: str = "",
        timeout: float = 30.0,
    ) -> None:
        try:
            import paramiko  # noqa: F401
        except ImportError:
            raise HostError(
                f"host {name!r}: SFTP needs paramiko",
                temporary=False,
                hint=install_hint("sftp"),
            ) from None
        self.name = name
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.key_file = key_file
        self.known_hosts = known_hosts
        self.root = root
        self.timeout = timeout
        self._client: Any = None
        self._sftp: Any = None
        self._folders: set[str] = set()
        self._login = LoginMemo()

    # -- connection ----------------------------------------------------------------

    def _connect(self) -> Any:
        if self._sftp is not None:
            return self._sftp
        return self._login.open(self._open)

    def _open(self) -> Any:
        import paramiko

        client = paramiko.SSHClient()
        try:
            if self.known_hosts:
                client.load_host_keys(str(Path(self.known_hosts).expanduser()))
            else:
                client.load_system_host_keys()
        except OSError as exc:
            raise HostError(
                f"host {self.name!r}: cannot read known_hosts {self.known_hosts}: "
                f"{exc.strerror or exc}",
                temporary=False,
                hint="fix hosts[].known_hosts",
            ) from None
        # Never trust a key we have not seen: no AutoAddPolicy, ever.
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        where = f"{self.host}:{self.port}"
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.username,
                password=self._password,
                key_filename=str(Path(self.key_file).expanduser()) if self.key_file else None,
                look_for_keys=False,
                allow_agent=False,
                timeout=self.timeout,
                banner_timeout=self.timeout,
                auth_timeout=self.timeout,
            )
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(self.timeout)
        except paramiko.BadHostKeyException:
            client.close()
            raise HostError(
                f"host {self.name!r}: the host key of {where} does not match known_hosts",
                temporary=False,
                hint="if the server's key really changed, update the known_hosts entry",
            ) from None
        except paramiko.AuthenticationException:
            client.close()
            raise HostError(
                f"host {self.name!r}: {where} refused the login of {self.username!r}",
                temporary=False,
                hint=AUTH_HINT,
            ) from None
        except paramiko.SSHException as exc:
            client.close()
            if "known_hosts" in str(exc):
                raise HostError(
                    f"host {self.name!r}: {where} is not in known_hosts",
                    temporary=False,
                    hint=f"check its key, then: ssh-keyscan -p {self.port} {self.host} "
                    f">> {self.known_hosts or '~/.ssh/known_hosts'}",
                ) from None
            raise HostError(
                f"host {self.name!r}: SSH to {where} failed: {exc}", temporary=True
            ) from None
        except (OSError, EOFError) as exc:
            client.close()
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise HostError(
                f"host {self.name!r}: cannot connect to {where}: {reason}",
                temporary=True,
                hint=DOWN_HINT,
            ) from None
        self._client, self._sftp = client, sftp
        return sftp

    def _reset(self) -> None:
        client, self._client, self._sftp = self._client, None, None
        self._folders.clear()
        if client is not None:
            client.close()

    def _failure(self, what: str, exc: BaseException) -> HostError:
        """Classify an error raised mid-session; a dead session is dropped and retried."""
        transport = self._client.get_transport() if self._client is not None else None
        alive = transport is not None and transport.is_active()
        if not alive or isinstance(exc, EOFError | ConnectionError | socket.timeout):
            self._reset()
            return HostError(f"host {self.name!r}: connection lost during {what}", temporary=True)
        code = getattr(exc, "errno", None)
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        hint = PERMISSION_HINT if code in (errno.EACCES, errno.EPERM) else None
        return HostError(f"host {self.name!r}: cannot {what}: {reason}", temporary=False, hint=hint)

    # -- operations ----------------------------------------------------------------

    def _remote(self, path: str) -> str:
        return join_remote(self.root, path)

    def _ensure_folders(self, sftp: Any, path: str) -> None:
        for folder in parents(self._remote(path)):
            if folder in self._folders or folder == "/":
                continue
            try:
                sftp.stat(folder)
            except FileNotFoundError:
                sftp.mkdir(folder)
            self._folders.add(folder)

    def put(self, path: str, data: bytes, content_type: str, cache_control: str) -> None:
        sftp = self._connect()
        try:
            self._ensure_folders(sftp, path)
            sftp.putfo(io.BytesIO(data), self._remote(path), file_size=len(data), confirm=True)
        except (OSError, EOFError, _ssh_error()) as exc:
            raise self._failure(f"upload {path}", exc) from None

    def rename(self, source: str, target: str) -> None:
        sftp = self._connect()
        try:
            sftp.posix_rename(self._remote(source), self._remote(target))
        except (OSError, EOFError, _ssh_error()) as exc:
            raise self._failure(f"rename {source} to {target}", exc) from None

    def delete(self, path: str) -> None:
        sftp = self._connect()
        try:
            sftp.remove(self._remote(path))
        except FileNotFoundError:
            return
        except (OSError, EOFError, _ssh_error()) as exc:
            raise self._failure(f"delete {path}", exc) from None

    def list_files(self, folder: str) -> list[str]:
        sftp = self._connect()
        try:
            entries = sftp.listdir_attr(self._remote(folder) if folder else self.root or ".")
        except FileNotFoundError:
            return []
        except (OSError, EOFError, _ssh_error()) as exc:
            raise self._failure(f"list {folder or '/'}", exc) from None
        return [e.filename for e in entries if e.st_mode is not None and stat.S_ISREG(e.st_mode)]

    def close(self) -> None:
        self._reset()


def _ssh_error() -> type[Exception]:
    import paramiko

    return paramiko.SSHException
