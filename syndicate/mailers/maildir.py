"""The embedded default: each message becomes a file in a Maildir any mail client opens.

Maildir delivery is atomic by design: write under ``tmp/``, then rename into ``new/``.
The file name carries the delivery id, so a resend after a crash replaces the same
file instead of adding a second copy.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path

from .base import OutgoingMessage, SendResult


class MaildirMailer:
    name = "maildir"
    max_batch = 100

    def __init__(self, path: Path) -> None:
        self.path = path
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        self.host = socket.gethostname().replace("/", "_").replace(":", "_")

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
                tmp.write_bytes(message.raw().replace(b"\r\n", b"\n"))
                os.replace(tmp, self.path / "new" / name)
            except OSError as exc:
                results.append(SendResult("temporary", error=f"cannot write {tmp}: {exc}"))
                continue
            results.append(SendResult("sent", provider_id=name))
        return results

    def close(self) -> None:
        pass
