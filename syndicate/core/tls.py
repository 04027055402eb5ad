"""Client TLS for the mail servers syndicate talks to (SMTP relay, IMAP bounce box).

One place decides how a certificate is checked: the system's trust store, plus an
operator's own CA (``ca_file``) for a relay with a private certificate authority, so
that the only other choice is not switching verification off (``verify_tls = false``).
"""

from __future__ import annotations

import ssl
from pathlib import Path

from syndicate.core import oserrors
from syndicate.core.errors import ConfigError


def client_context(*, verify: bool, ca_file: Path | None, key: str) -> ssl.SSLContext:
    """A context that verifies the server against the system's CAs and ``ca_file``;
    ``key`` names the config key in the error when the file cannot be used."""
    context = ssl.create_default_context()
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except ssl.SSLError as exc:
            raise ConfigError(
                f"{key}: {ca_file} holds no usable PEM certificate ({exc.reason or exc})",
                hint=f"point {key} at a PEM file of CA certificates",
            ) from None
        except OSError as exc:  # after SSLError, a subclass of it
            raise ConfigError(
                f"{key}: cannot read {ca_file}: {oserrors.reason(exc)}",
                hint=f"point {key} at a PEM file of CA certificates",
            ) from None
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
