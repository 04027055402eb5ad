"""Each configured source with its last pull, result and next run (`sources list`, `status`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from syndicate.core.config import Settings
from syndicate.core.schedules import next_fire_time
from syndicate.intake.sources import state as states


def source_rows(conn: Connection, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    stored = states.load_all(conn)
    rows = []
    for source in settings.sources:
        row = stored.get(source.name)
        configured = source.url or str(settings.resolve(str(source.path)))
        fresh = row is None or (source.url is not None and row.config_url != source.url)
        next_run = next_fire_time(source.schedule, ZoneInfo("UTC"), now)
        if not fresh and row is not None and row.state == "gone":
            next_run = None
        elif not fresh and row is not None and row.not_before and row.not_before > now:
            next_run = next_fire_time(source.schedule, ZoneInfo("UTC"), row.not_before)
        rows.append(
            {
                "name": source.name,
                "kind": source.kind,
                "url": configured if fresh or row is None else row.url,
                "schedule": source.schedule,
                "state": "new" if fresh or row is None else row.state,
                "detail": None if fresh or row is None else row.detail,
                "last_pull": None if fresh or row is None else row.pulled_at,
                "last_success": None if fresh or row is None else row.succeeded_at,
                "next_run": next_run,
                "counts": None if fresh or row is None else row.counts,
            }
        )
    return rows
