"""A folder on an FTP server (``type = "ftp"``), with explicit FTPS when ``tls = true``.

Uploads go to a hidden temp name (STOR) and are renamed over the final name with
RNFR/RNTO. FTPS verifies the server certificate against the system trust store
(``SSL_CERT_FILE`` adds one) and protects the data connections too (PROT P).
"""

from __future__ import annotations

import contextlib
import ftplib
import io
import ssl
from pathlib import PurePosixPath
from typing import Any

from syndicate.publishing.hosts.base import (
    AUTH_HINT,
    DOWN_HINT,
    PERMISSION_HINT,
    SPACE_HINT,
    HostError,
    LoginMemo,
    join_remote,
    parents,
)

# 421 closing, 425/426 data connection trouble, 450/451 busy or local error: try again.
_RETRY_CODES = {"421", "425", "426", "450", "451"}
_SPACE_CODES = {"452", "552"}


class FtpHost:
    atomic_put = False

    def __init__(
        self,
        name: str,
        *,
        host: str,
        port: int = 21,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        root: str = "",
        timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.username = username or "anonymous"
        self._password = password or ""
        self.tls = tls
        self.root = root
        self.timeout = timeout
        self._ftp: ftplib.FTP | None = None
        self._folders: set[str] = set()
        self._login = LoginMemo()

    # -- connection ----------------------------------------------------------------

    def _connect(self) -> ftplib.FTP:
        if self._ftp is not None:
            return self._ftp
        return self._login.open(self._open)

    def _open(self) -> ftplib.FTP:
        where = f"{self.host}:{self.port}"
        ftp: ftplib.FTP = (
            # FTP is what the operator's host speaks; FTPS when tls = true.
            ftplib.FTP_TLS(context=ssl.create_default_context(), timeout=self.timeout)  # noqa: S321
            if self.tls
            else ftplib.FTP(timeout=self.timeout)  # noqa: S321
        )
        try:
            ftp.connect(self.host, self.port, timeout=self.timeout)
            ftp.login(self.username, self._password)
            if isinstance(ftp, ftplib.FTP_TLS):
                ftp.prot_p()
            ftp.voidcmd("TYPE I")
        except ssl.SSLCertVerificationError as exc:
            _quietly_close(ftp)
            raise HostError(
                f"host {self.name!r}: the TLS certificate of {where} is not trusted: "
                f"{exc.verify_message}",
                temporary=False,
                hint="install the server's CA certificate (or set SSL_CERT_FILE)",
            ) from None
        except ftplib.error_perm as exc:
            _quietly_close(ftp)
            code = _code(exc)
            if code in ("530", "331", "332"):
                raise HostError(
                    f"host {self.name!r}: {where} refused the login of {self.username!r}",
                    temporary=False,
                    hint=AUTH_HINT,
                ) from None
            raise HostError(
                f"host {self.name!r}: {where} refused the session: {exc}", temporary=False
            ) from None
        except (OSError, EOFError, ftplib.Error) as exc:
            _quietly_close(ftp)
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise HostError(
                f"host {self.name!r}: cannot connect to {where}: {reason}",
                temporary=True,
                hint=DOWN_HINT,
            ) from None
        self._ftp = ftp
        return ftp

    def _reset(self) -> None:
        ftp, self._ftp = self._ftp, None
        self._folders.clear()
        if ftp is not None:
            _quietly_close(ftp)

    def _failure(self, what: str, exc: BaseException) -> HostError:
        """Classify an error raised mid-session."""
        prefix = f"host {self.name!r}: cannot {what}"
        if isinstance(exc, ftplib.error_temp | ftplib.error_perm):
            code = _code(exc)
            reply = str(exc).strip()
            if code in _SPACE_CODES:
                return HostError(
                    f"{prefix}: out of space ({reply})", temporary=False, hint=SPACE_HINT
                )
            if code in _RETRY_CODES:
                self._reset()
                return HostError(f"{prefix}: {reply}", temporary=True)
            if code in ("550", "553", "532"):
                return HostError(
                    f"{prefix}: refused ({reply})", temporary=False, hint=PERMISSION_HINT
                )
            return HostError(f"{prefix}: {reply}", temporary=False)
        # A dropped connection, a timeout or a garbled reply: reconnect and try again.
        self._reset()
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return HostError(f"{prefix}: connection lost ({reason})", temporary=True)

    # -- operations ----------------------------------------------------------------

    def _remote(self, path: str) -> str:
        return join_remote(self.root, path)

    def _ensure_folders(self, ftp: ftplib.FTP, path: str) -> None:
        for folder in parents(self._remote(path)):
            if folder in self._folders or folder == "/":
                continue
            # It may exist already (or may not be made: then STOR says why).
            with contextlib.suppress(ftplib.error_perm):
                ftp.mkd(folder)
            self._folders.add(folder)

    def put(self, path: str, data: bytes, content_type: str, cache_control: str) -> None:
        ftp = self._connect()
        try:
            self._ensure_folders(ftp, path)
            ftp.storbinary(f"STOR {self._remote(path)}", io.BytesIO(data))
        except (OSError, EOFError, ftplib.Error) as exc:
            raise self._failure(f"upload {path}", exc) from None

    def rename(self, source: str, target: str) -> None:
        ftp = self._connect()
        try:
            ftp.rename(self._remote(source), self._remote(target))
        except (OSError, EOFError, ftplib.Error) as exc:
            raise self._failure(f"rename {source} to {target}", exc) from None

    def delete(self, path: str) -> None:
        ftp = self._connect()
        try:
            ftp.delete(self._remote(path))
        except ftplib.error_perm as exc:
            # 550 means "no such file" or "not allowed": only the first is fine.
            if not self._exists(ftp, path):
                return
            raise self._failure(f"delete {path}", exc) from None
        except (OSError, EOFError, ftplib.Error) as exc:
            raise self._failure(f"delete {path}", exc) from None

    def list_files(self, folder: str) -> list[str]:
        ftp = self._connect()
        where = self._remote(folder) if folder else self.root or "."
        try:
            return [
                name for name, facts in ftp.mlsd(where, ["type"]) if facts.get("type") == "file"
            ]
        except ftplib.error_perm as exc:
            if _code(exc) == "550":  # no such folder (yet)
                return []
            if _code(exc) not in ("500", "501", "502", "504"):
                raise self._failure(f"list {folder or '/'}", exc) from None
        except (OSError, EOFError, ftplib.Error) as exc:
            raise self._failure(f"list {folder or '/'}", exc) from None
        try:  # a server without MLSD: NLST names files and folders alike
            return [PurePosixPath(name).name for name in ftp.nlst(where)]
        except ftplib.error_perm:
            return []
        except (OSError, EOFError, ftplib.Error) as exc:
            raise self._failure(f"list {folder or '/'}", exc) from None

    def _exists(self, ftp: ftplib.FTP, path: str) -> bool:
        """Whether ``path`` is on the server (SIZE answers 550 for a missing file)."""
        try:
            ftp.size(self._remote(path))
        except ftplib.error_perm:
            return False
        except (OSError, EOFError, ftplib.Error) as exc:
            # Busy, closing, dropped: the same classification as the other operations.
            raise self._failure(f"delete {path}", exc) from None
        return True

    def close(self) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is not None:
            try:
                ftp.quit()
            except (OSError, EOFError, ftplib.Error):
                ftp.close()


def _code(exc: BaseException) -> str:
    return str(exc)[:3]


def _quietly_close(ftp: Any) -> None:
    with contextlib.suppress(OSError):
        ftp.close()
