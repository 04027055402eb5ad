"""Subscribers as CSV: export for the operator, import with a report of rejected rows.

Imports read syndicate's own export and those of Mailchimp, Substack, Ghost, Buttondown
and listmonk (``subscriber_presets``, chosen by the header). Active rows go through
``subscribers.add``, so the same rules hold as for one address: normalised keys, no
duplicates, suppressed addresses stay suppressed unless forced; unsubscribed, cleaned
and bounced rows come in suppressed through ``subscribers.add_inactive``.
"""

from __future__ import annotations

import csv
import lzma
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Connection

from syndicate.core.errors import SyndicateError
from syndicate.readers.presets import ACTIVE, detect, tool_names
from syndicate.readers.subscribers import add, add_inactive, clean_name, list_subscribers, normalise

CSV_COLUMNS = ("email", "name", "status", "digests", "timezone", "created_at", "confirmed_at")
MAX_ZIP_BYTES = 256 * 1024 * 1024  # uncompressed; a list is text, this is generous


def read_lists(path: Path) -> list[tuple[str, str]]:
    """(name, text) of the subscriber CSV at ``path``, or of every CSV in a zip (the
    way Mailchimp hands out an audience: subscribed, unsubscribed and cleaned files)."""
    try:
        if not zipfile.is_zipfile(path):
            return [(str(path), path.read_text(encoding="utf-8-sig"))]
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                (m for m in archive.infolist() if m.filename.lower().endswith(".csv")),
                key=lambda m: m.filename,
            )
            if not members:
                raise SyndicateError(f"{path}: the zip holds no .csv file")
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise SyndicateError(f"{path}: the CSV files in the zip are larger than 256 MB")
            return [(f"{path}:{m.filename}", _member_text(path, archive, m)) for m in members]
    except (UnicodeDecodeError, OSError, zipfile.BadZipFile) as exc:
        raise SyndicateError(
            f"{path}: cannot read as UTF-8 text or a zip of CSVs ({exc})"
        ) from None


# What reading one zip member raises: an encrypted member
# (RuntimeError), a compression method Python lacks (NotImplementedError), damaged
# compressed data (zlib and lzma errors, OSError from bz2, EOFError) or a bad CRC
# (BadZipFile).
_ZIP_MEMBER_ERRORS = (
    RuntimeError, NotImplementedError, zlib.error, lzma.LZMAError, EOFError, OSError,
    zipfile.BadZipFile,
)  # fmt: skip


def _member_text(path: Path, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> str:
    """One CSV of the zip as text; anything the zip module cannot read is one line."""
    where = f"{path}:{member.filename}"
    if member.flag_bits & 0x1:
        raise SyndicateError(f"{where}: the file is encrypted", hint="unzip it, then import")
    try:
        data = archive.read(member)
    except _ZIP_MEMBER_ERRORS as exc:
        raise SyndicateError(
            f"{where}: cannot be read from the zip ({exc or type(exc).__name__})",
            hint="unzip it with another tool, then import the CSV files",
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SyndicateError(f"{where}: not UTF-8 text ({exc})") from None


def _broken_csv(name: str, reader: csv.DictReader, exc: csv.Error) -> SyndicateError:
    """A CSV the csv module gives up on (a field over its 128 KiB limit, a NUL): the
    file and the line where the broken record starts."""
    return SyndicateError(
        f"{name}:{reader.line_num + 1}: broken CSV ({exc})",
        hint="fix that line (or split the file) and import again; nothing was imported",
    )


def _records(reader: csv.DictReader, name: str) -> Iterator[dict[str | None, str | None]]:
    try:
        yield from reader
    except csv.Error as exc:
        raise _broken_csv(name, reader, exc) from None


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


def _delimiter(source: TextIO) -> str:
    """Commas, or the semicolons and tabs spreadsheets in many locales write (read off
    the header line; quoting stays the standard one)."""
    try:
        header = source.readline()
        source.seek(0)
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except (OSError, ValueError, csv.Error):
        return ","


@dataclass
class ImportReport:
    added: int = 0
    reactivated: int = 0
    updated: int = 0
    unchanged: int = 0
    pending: int = 0
    suppressed: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, email, reason)
    dry_run: bool = False
    source: str = "syndicate"  # whose export the file is
    warnings: list[str] = field(default_factory=list)

    def merge(self, other: ImportReport, label: str) -> None:
        """Add ``other`` (one file of several) to this report; its rows name ``label``."""
        for counter in ("added", "reactivated", "updated", "unchanged", "pending", "suppressed"):
            setattr(self, counter, getattr(self, counter) + getattr(other, counter))
        self.rejected += [(line, email, f"{label}: {why}") for line, email, why in other.rejected]
        self.warnings += other.warnings
        if self.source != other.source:
            self.source = "mixed"

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "source": self.source,
            "added": self.added,
            "reactivated": self.reactivated,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "pending": self.pending,
            "suppressed": self.suppressed,
            "rejected": [{"line": ln, "email": e, "reason": r} for ln, e, r in self.rejected],
            "warnings": list(self.warnings),
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
    name: str = "the CSV",
) -> ImportReport:
    """Add the rows of a subscriber CSV: syndicate's own columns (email, and optionally
    name, status, digests, timezone) or another tool's export, told by its header.

    Bad rows are reported with their line and reason and do not stop the others; the
    same address twice in the file is a rejected duplicate; suppressed addresses stay
    suppressed unless ``force``, and rows the export marks unsubscribed, cleaned or
    bounced come in suppressed. Columns the format does not know are reported as a
    warning. With ``dry_run`` every change is rolled back. ``name`` (the file) is named
    in errors.
    """
    report = ImportReport(dry_run=dry_run)
    reader = csv.DictReader(source, delimiter=_delimiter(source))
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise _broken_csv(name, reader, exc) from None
    header = [(c or "").strip() for c in fieldnames or []]
    columns = {c.lower() for c in header}
    preset = detect(columns)
    if preset is None:
        found = ", ".join(h for h in header if h)[:200] or "no header line"
        raise SyndicateError(
            f"{name}: no email column (found: {found})",
            hint=f"use the columns email, name, digests, timezone, or an export of {tool_names()}",
        )
    report.source = preset.name
    unknown = [h for h in header if h and h.lower() not in preset.known]
    if unknown:
        report.warnings.append(
            f"{name}: read as a {preset.name} export; ignored unknown column(s) "
            + ", ".join(unknown)[:300]
        )
    seen: dict[str, int] = {}
    savepoint = conn.begin_nested()
    try:
        for row in _records(reader, name):
            line = reader.line_num
            row = {(k or "").strip().lower(): (v or "") for k, v in row.items() if k}
            raw = ""
            try:
                person = preset.read(row)
                raw = _csv_unsafe(person.email.strip())
                address = normalise(raw)
                if address.key in seen:
                    raise SyndicateError(f"duplicate of line {seen[address.key]}")
                named = person.digests.replace(";", " ").replace(",", " ").split()
                unknown_digests = [d for d in named if d not in known_digests]
                if unknown_digests:
                    raise SyndicateError(f"unknown digest {', '.join(unknown_digests)}")
                if person.status == ACTIVE:
                    _, outcome = add(
                        conn,
                        raw,
                        name=_csv_unsafe(person.name),
                        digests=named or default_digests,
                        now=now,
                        force=force,
                        timezone=person.timezone,
                    )
                else:
                    _, outcome = add_inactive(
                        conn,
                        raw,
                        name=_csv_unsafe(person.name),
                        status=person.status,
                        digests=named or default_digests,
                        now=now,
                        reason=f"imported from {preset.name}: {person.source_status}",
                        timezone=person.timezone,
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
