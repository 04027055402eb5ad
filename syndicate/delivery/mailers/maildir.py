"""The embedded default: each message becomes a file in a Maildir any mail client opens.

Maildir delivery is atomic by design: write under ``tmp/``, fsync, then rename into
``new/`` (fsync first: a crash after the outbox recorded the row as sent must not
leave an empty file). The file name carries the delivery id, so a resend after a
crash replaces the same file instead of adding a second copy.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path

from syndicate.core import oserrors
from syndicate.core.errors import ConfigError
from syndicate.delivery.mailers.base import OutgoingMessage, SendResult

TMP_STALE_SECONDS = 3600


class MaildirMailer:
    name = "maildir"
    max_batch = 100

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            for sub in ("tmp", "new", "cur"):
                (path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"mail.maildir: cannot create the Maildir {path}: {oserrors.reason(exc)}",
                hint=oserrors.hint(exc, f"mail.maildir ({path})")
                or "point mail.maildir at a folder this user can write",
            ) from None
        self.host = socket.gethostname().replace("/", "_").replace(":", "_")
        self._sweep_tmp()

    def _sweep_tmp(self) -> None:
        """Remove our own files a killed worker left in ``tmp/`` (the Maildir rule: a
        reader may delete tmp/ files older than 36 hours; ours are minutes old at most
        when a worker is alive, so one hour is safe against a live writer)."""
        cutoff = time.time() - TMP_STALE_SECONDS
        with contextlib.suppress(OSError), os.scandir(self.path / "tmp") as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    mine = entry.name.endswith(f".{self.host}") and entry.is_file()
                    if mine and entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)

    def _name(self, message: OutgoingMessage) -> str:
        stable = message.message_id.strip("<>").replace("/", "_").replace(":", "_")
        return f"{message.delivery_id or 0}.{stable}.{self.host}"

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        results = []
        for message in batch:
            name = self._name(message)
            tmp = self.path / "tmp" / name
            try:
                # Mail stores keep messages with local line ends.
                _write_synced(tmp, message.raw().replace(b"\r\n", b"\n"))
                os.replace(tmp, self.path / "new" / name)
            except OSError as exc:
                with contextlib.suppress(OSError):  # a partial file must not stay in tmp/
                    tmp.unlink(missing_ok=True)
                where = f"mail.maildir ({self.path})"
                why = "; ".join(filter(None, [oserrors.reason(exc), oserrors.hint(exc, where)]))
                results.append(SendResult("temporary", error=f"cannot write {tmp}: {why}"))
                continue
            results.append(SendResult("sent", provider_id=name))
        return results

    def close(self) -> None:
        pass


def _write_synced(path: Path, data: bytes) -> None:
    """Write and fsync under ``tmp/``. Not ``fileio.write_atomic``: its temporary file
    sits next to the target, and a Maildir reader must never see one in ``new/``."""
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
