"""Subscribers as CSV: export for the operator, import with a report of rejected rows.

Imports go through ``subscribers.add``, so the same rules hold as for one address:
normalised keys, no duplicates, suppressed addresses stay suppressed unless forced.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from sqlalchemy.engine import Connection

from .errors import SyndicateError
from .subscribers import add, clean_name, list_subscribers, normalise

CSV_COLUMNS = ("email", "name", "status", "digests", "timezone", "created_at", "confirmed_at")


def export_csv(conn: Connection, out: TextIO, *, status: str | None = None) -> int:
    """Write subscribers as CSV (digests separated by spaces); returns the row count."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for s in list_subscribers(conn, status=status):
        writer.writerow(
            [
                _csv_safe(s.email),
                _csv_safe(s.name),
                s.status,
                " ".join(s.digests),
                s.timezone or "",
                s.created_at.isoformat(),
                s.confirmed_at.isoformat() if s.confirmed_at else "",
            ]
        )
        count += 1
    return count


_FORMULA_STARTS = ("=", "+", "-", "@")


def _csv_safe(value: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    return "'" + value if value[:1] in _FORMULA_STARTS else value


def _csv_unsafe(value: str) -> str:
    """Undo ``_csv_safe`` so an exported file imports as the same people."""
    return value[1:] if value[:1] == "'" and value[1:2] in _FORMULA_STARTS else value


@dataclass
class ImportReport:
    added: int = 0
    reactivated: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, email, reason)
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "added": self.added,
            "reactivated": self.reactivated,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"line": ln, "email": e, "reason": r} for ln, e, r in self.rejected],
        }


def import_csv(
    conn: Connection,
    source: TextIO,
    *,
    now: datetime,
    known_digests: Sequence[str],
    default_digests: Sequence[str],
    dry_run: bool = False,
    force: bool = False,
    progress: object = None,
) -> ImportReport:
    """Add the rows of a CSV with an ``email`` column (optional name, digests, timezone).

    Bad rows are reported with their line and reason and do not stop the others; the
    same address twice in the file is a rejected duplicate; suppressed addresses stay
    suppressed unless ``force``. With ``dry_run`` every change is rolled back.
    """
    report = ImportReport(dry_run=dry_run)
    reader = csv.DictReader(source)
    columns = {c.strip().lower() for c in reader.fieldnames or []}
    if "email" not in columns:
        raise SyndicateError("the CSV has no 'email' column", hint="the first line names columns")
    seen: dict[str, int] = {}
    savepoint = conn.begin_nested()
    try:
        for row in reader:
            line = reader.line_num
            row = {(k or "").strip().lower(): (v or "") for k, v in row.items() if k}
            raw = _csv_unsafe(row.get("email", "").strip())
            try:
                address = normalise(raw)
                if address.key in seen:
                    raise SyndicateError(f"duplicate of line {seen[address.key]}")
                named = row.get("digests", "").replace(";", " ").replace(",", " ").split()
                unknown = [d for d in named if d not in known_digests]
                if unknown:
                    raise SyndicateError(f"unknown digest {', '.join(unknown)}")
                _, outcome = add(
                    conn,
                    raw,
                    name=_csv_unsafe(row.get("name", "")),
                    digests=named or default_digests,
                    now=now,
                    force=force,
                    timezone=row.get("timezone", "").strip() or None,
                )
                seen[address.key] = line  # only now: a rejected row leaves the address free
                setattr(report, outcome, getattr(report, outcome) + 1)
            except SyndicateError as exc:
                report.rejected.append((line, clean_name(raw)[:100], exc.message))
            if callable(progress):
                progress(1)
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return report
