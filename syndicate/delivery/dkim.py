"""DKIM signing (dkimpy), relaxed/relaxed, covering the list headers.

dkimpy's default header list omits ``List-Unsubscribe-Post``; Gmail's one-click
rules need it signed, so the list is given explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.core.errors import ConfigError, install_hint

if TYPE_CHECKING:
    from syndicate.core.config import DkimSettings, Settings

SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"List-Id",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"MIME-Version",
    b"Content-Type",
)


class DkimSigner:
    """Signs complete messages; the key is read and checked once, here.

    A key dkimpy cannot parse is a configuration error at start-up, not a failure of
    every message at send time.
    """

    def __init__(self, *, domain: str, selector: str, private_key: bytes) -> None:
        try:  # local: dkimpy is an optional extra ([dkim]); its absence is a config error
            from dkim.crypto import parse_pem_private_key
        except ImportError:
            raise ConfigError(
                "mail.dkim is set but dkimpy is not installed",
                hint=install_hint("dkim"),
            ) from None
        try:
            parse_pem_private_key(private_key)
        except Exception as exc:  # dkimpy raises several kinds for a bad key
            raise ConfigError(
                f"mail.dkim.private_key_file: not a usable RSA private key ({exc})",
                hint="a PEM file: openssl genrsa -out dkim.pem 2048",
            ) from None
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")
        self.private_key = private_key

    @classmethod
    def from_settings(cls, dkim: DkimSettings, settings: Settings) -> DkimSigner:
        path = settings.resolve(dkim.private_key_file)
        try:
            key = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"mail.dkim.private_key_file: cannot read {path}: {exc.strerror}"
            ) from None
        return cls(domain=dkim.domain, selector=dkim.selector, private_key=key)

    def sign(self, message: bytes) -> bytes:
        """The message with a DKIM-Signature header in front."""
        import dkim  # local: the optional extra, present once __init__ succeeded

        present = {line.split(b":", 1)[0].lower() for line in _header_lines(message)}
        include = [h for h in SIGNED_HEADERS if h.lower() in present]
        signature = dkim.sign(
            message,
            self.selector,
            self.domain,
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=include,
            linesep=b"\r\n",
        )
        return bytes(signature) + message


def _header_lines(message: bytes) -> list[bytes]:
    head = message.split(b"\r\n\r\n", 1)[0]
    return [line for line in head.split(b"\r\n") if line and line[:1] not in (b" ", b"\t")]
