"""The export readers, tried in order; one line per export format."""

from __future__ import annotations

from pathlib import Path

from syndicate.intake.importers import ghost, substack, wxr
from syndicate.intake.importers.exports import Reader

READERS: tuple[Reader, ...] = (wxr.READER, ghost.READER, substack.READER)


def reader_for(path: Path) -> Reader | None:
    """The reader whose export ``path`` is (by content, whatever its name), if any."""
    for reader in READERS:
        if reader.sniff(path):
            return reader
    return None
