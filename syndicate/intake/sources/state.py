"""What the store remembers per source (the ``sources`` row) and per entry (``source_entries``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from syndicate.core import events
from syndicate.core.db import source_entries, sources, tuples

STATES = ("new", "ok", "unchanged", "failed", "deferred", "gone")


@dataclass
class SourceState:
    name: str
    config_url: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    state: str = "new"
    detail: str | None = None
    pulled_at: datetime | None = None
    succeeded_at: datetime | None = None
    not_before: datetime | None = None
    counts: dict[str, Any] | None = None
    stored: bool = False


def load(conn: Connection, name: str, config_url: str) -> SourceState:
    """The stored state; a source whose configured URL changed starts afresh."""
    row = conn.execute(select(sources).where(sources.c.name == name)).mappings().first()
    if row is None:
        return SourceState(name, config_url, config_url)
    state = SourceState(**dict(row), stored=True)
    if state.config_url != config_url:
        return SourceState(name, config_url, config_url, stored=True)
    return state


def load_all(conn: Connection) -> dict[str, SourceState]:
    rows = conn.execute(select(sources)).mappings()
    return {row["name"]: SourceState(**dict(row), stored=True) for row in rows}


def save(conn: Connection, state: SourceState) -> None:
    """Store the state; a source that has just started failing (or is gone) is
    announced as ``source.failed`` in the same transaction (once per failing spell)."""
    if state.state in ("failed", "gone"):
        before = conn.execute(select(sources.c.state).where(sources.c.name == state.name)).first()
        if before is None or before.state not in ("failed", "gone"):
            data = {"source": state.name, "url": state.url, "state": state.state,
                    "detail": state.detail}  # fmt: skip
            events.record(conn, "source.failed", data, state.pulled_at or _now())
    values = {
        "config_url": state.config_url,
        "url": state.url,
        "etag": state.etag,
        "last_modified": state.last_modified,
        "state": state.state,
        "detail": state.detail,
        "pulled_at": state.pulled_at,
        "succeeded_at": state.succeeded_at,
        "not_before": state.not_before,
        "counts": state.counts,
    }
    if state.stored:
        conn.execute(update(sources).where(sources.c.name == state.name).values(**values))
    else:
        conn.execute(insert(sources).values(name=state.name, **values))
        state.stored = True


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EntryRow:
    article_id: int | None
    entry_hash: str
    complete: bool
    first_seen: datetime


def entries(conn: Connection, source: str, keys: list[str]) -> dict[str, EntryRow]:
    """The stored rows of these entries (one query per 500 keys, not one per entry)."""
    found: dict[str, EntryRow] = {}
    for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
        rows = conn.execute(
            select(
                source_entries.c.entry_key,
                source_entries.c.article_id,
                source_entries.c.entry_hash,
                source_entries.c.complete,
                source_entries.c.first_seen,
            ).where(
                source_entries.c.source == source,
                source_entries.c.entry_key.in_(keys[start : start + 500]),
            )
        )
        for key, *values in tuples(rows):
            found[key] = EntryRow(*values)
    return found


def record_entry(
    conn: Connection,
    *,
    source: str,
    key: str,
    guid: str,
    link: str | None,
    article_id: int,
    entry_hash: str,
    complete: bool,
    now: datetime,
    known: bool,
) -> None:
    values = {
        "guid": guid,
        "link": link,
        "article_id": article_id,
        "entry_hash": entry_hash,
        "complete": complete,
        "last_seen": now,
    }
    if known:
        conn.execute(
            update(source_entries)
            .where(source_entries.c.source == source, source_entries.c.entry_key == key)
            .values(**values)
        )
    else:
        conn.execute(
            insert(source_entries).values(source=source, entry_key=key, first_seen=now, **values)
        )


def mark_seen(conn: Connection, source: str, keys: list[str], now: datetime) -> None:
    for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
        conn.execute(
            update(source_entries)
            .where(
                source_entries.c.source == source,
                source_entries.c.entry_key.in_(keys[start : start + 500]),
            )
            .values(last_seen=now)
        )
