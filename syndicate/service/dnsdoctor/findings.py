"""One finding of the deliverability doctor: a severity, what is wrong, the record to publish."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SEVERITIES = ("error", "warning", "info", "ok")
TXT_CHUNK = 255  # longest character-string in a TXT record (RFC 1035 3.3)


@dataclass(frozen=True)
class Finding:
    """``record`` is the exact DNS record (zone-file syntax) that fixes the finding."""

    severity: str  # ok | info | warning | error
    check: str  # spf | dkim | dmarc | mx | unsubscribe | dns
    subject: str  # the domain (or URL) looked at
    message: str
    record: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def txt_record(name: str, value: str) -> str:
    """``name. TXT "value"``, split into 255-character strings as DNS requires."""
    chunks = [value[i : i + TXT_CHUNK] for i in range(0, len(value), TXT_CHUNK)] or [""]
    quoted = " ".join(
        '"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks
    )
    return f"{name.rstrip('.')}. TXT {quoted}"
