"""What ``syndicate status`` reports: next runs, last outcomes, queue, pushes, workers."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select

from syndicate.core.db import leases, pushes
from syndicate.core.schedules import next_fire_time
from syndicate.delivery import workers
from syndicate.delivery.outbox import status as edition_status
from syndicate.intake.sources.report import source_rows
from syndicate.service import claims
from syndicate.service.context import App
from syndicate.service.jobs import scheduled_jobs

RECENT_EDITIONS = 5
DELIVER_JOB = "deliver"
MANUAL_SLOT = "manual:"  # jobs.now_slot: a run started by hand, not by the scheduler
# The numbers `status` shows per job (the rest are in --json), each with the count
# names the jobs record it under.
HEADLINE = (
    ("written", ("build_files_written", "files_written")),
    ("uploaded", ("push_uploaded", "uploaded")),
    ("queued", ("queued",)),
    ("sent", ("sent",)),
    ("failed", ("failed", "push_failed")),
)
UNFINISHED = ("queued", "sending", "deferred")


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def collect(app: App) -> dict[str, Any]:
    now = app.clock.now()
    report: dict[str, Any] = {"now": now, "jobs": [], "queue": {}, "editions": [], "pushes": []}
    with app.engine.connect() as conn:
        for job in scheduled_jobs(app.settings):
            last = claims.last_run(conn, job.name)
            report["jobs"].append(
                {
                    "job": job.name,
                    "schedule": job.expression,
                    "timezone": str(job.zone),
                    "next_run": next_fire_time(job.expression, job.zone, now),
                    "last": _row(last) if last else None,
                }
            )
        # Delivery runs continuously in the service; its one-off drains (`deliver --once`,
        # `run --once`) are job runs worth showing once there is one.
        last_drain = claims.last_run(conn, DELIVER_JOB)
        if last_drain is not None:
            report["jobs"].append(
                {
                    "job": DELIVER_JOB,
                    "schedule": f"every {app.settings.schedule.deliver_every_seconds}s",
                    "timezone": "UTC",
                    "next_run": None,
                    "last": _row(last_drain),
                }
            )
        report["recent_failures"] = [_row(r) for r in claims.recent_failures(conn, 5)]
        for host in app.settings.hosts:
            last_push = conn.execute(
                select(pushes)
                .where(pushes.c.host == host.name)
                .order_by(pushes.c.started_at.desc())
                .limit(1)
            ).first()
            report["pushes"].append(
                {"host": host.name, "last": _row(last_push) if last_push else None}
            )
        report["workers"] = [
            {**_row(r), "per_second": _throughput(r.sent, r.started_at, r.heartbeat_at)}
            for r in workers.listing(conn)
        ]
        report["sources"] = source_rows(conn, app.settings, now)
        leader = conn.execute(select(leases).where(leases.c.name == "scheduler")).first()
        report["leader"] = _row(leader) if leader else None
        every_edition = edition_status(conn)
    queue: Counter[str] = Counter()
    for edition in every_edition:
        queue.update(edition.counts)
    report["queue"] = {state: n for state, n in queue.items() if n}
    report["stale_claims"] = [_row(row) for row in claims.stale(app)]
    # The newest editions, and any older one still sending: not years of history.
    report["editions"] = [
        dataclasses.asdict(e)
        for index, e in enumerate(every_edition)
        if index < RECENT_EDITIONS or any(e.counts.get(s) for s in UNFINISHED)
    ]
    return report


def headline(counts: dict[str, Any] | None) -> str:
    """The few numbers that matter from a job's counts: ``3 written, 1 uploaded``."""
    counts = counts or {}
    shown = []
    for label, keys in HEADLINE:
        value = next((counts[k] for k in keys if k in counts), None)
        if value:
            shown.append(f"{value} {label}")
    return ", ".join(shown)


def last_result(last: dict[str, Any] | None) -> str:
    """``ok: 3 written`` / ``failed: reason`` / ``ok`` for a job's last run."""
    if last is None:
        return ""
    detail = last["error"] or headline(last["counts"])
    return f"{last['status']}: {detail}" if detail else last["status"]


def last_when(last: dict[str, Any] | None, now: datetime) -> str:
    if last is None:
        return "never"
    manual = " (manual)" if str(last["slot"]).startswith(MANUAL_SLOT) else ""
    return ago(last["started_at"], now) + manual


def _throughput(sent: int, started: datetime, last: datetime) -> float:
    """Messages per second over the worker's life so far."""
    seconds = (last - started).total_seconds()
    return round(sent / seconds, 1) if seconds > 0 else 0.0


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = int((now - moment).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{seconds // size}{unit}"
            break
    else:
        text = f"{seconds}s"
    return f"in {text}" if future else f"{text} ago"
