"""What an import did, file by file: for the CLI's table, ``--json`` and the jobs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from syndicate.core.errors import ImportFailure

STATUSES = (
    "imported",
    "updated",
    "unchanged",
    "skipped",  # left out on purpose (a link out of the folder, ignored): reported, not an error
    "failed",
    "would-import",
    "would-update",
)


@dataclass
class FileOutcome:
    """One file's (or export entry's) result: a status, the article's slug, the error,
    or why it was skipped (``note``)."""

    path: str
    status: str
    slug: str | None = None
    error: ImportFailure | None = None
    warnings: list[str] = field(default_factory=list)
    note: str | None = None

    @property
    def reason(self) -> str:
        return self.error.reason if self.error else (self.note or "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "slug": self.slug,
            "error": self.error.message if self.error else None,
            "line": self.error.line if self.error else None,
            "warnings": list(self.warnings),
            "note": self.note,
        }


@dataclass
class ImportReport:
    dry_run: bool = False
    outcomes: list[FileOutcome] = field(default_factory=list)

    def add(self, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)

    @property
    def counts(self) -> dict[str, int]:
        """How many files ended in each status (every status listed, zeros included)."""
        tally = Counter(outcome.status for outcome in self.outcomes)
        return {status: tally.get(status, 0) for status in STATUSES}

    @property
    def failed(self) -> list[FileOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "counts": self.counts,
            "files": [outcome.to_dict() for outcome in self.outcomes],
        }
