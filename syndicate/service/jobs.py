"""The idempotent jobs that the scheduler and the CLI both call.

APScheduler decides *when*; the database decides *whether*: a scheduled run first
claims its (job, slot) row with INSERT ... ON CONFLICT DO NOTHING and runs only if
the claim is new. Running a job twice is therefore harmless, whoever runs it.
Every run leaves one row of history (start, end, outcome, counts, error) and one
log line.
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from syndicate import digest as digests
from syndicate.articles import newest_import
from syndicate.core import counts
from syndicate.core.config import DigestSettings, Settings
from syndicate.core.db import snapshot, webhook_events
from syndicate.core.errors import SyndicateError
from syndicate.core.jobcounts import MANUAL_FORMAT, MANUAL_SLOT, manual_slot
from syndicate.core.jobcounts import counts_of as counts_of
from syndicate.core.schedules import latest_fire_time, slot_key, slot_time
from syndicate.delivery import workers
from syndicate.delivery.bounces.mailbox import poll as poll_mailbox
from syndicate.delivery.drain import drain
from syndicate.delivery.hooks import queue as hooks_queue
from syndicate.delivery.messages import message_domain
from syndicate.delivery.outbox import hold_until_local_hour
from syndicate.digest.variants import queue as queue_variants
from syndicate.feeds import build_feeds
from syndicate.intake.sources import pull_source as pull
from syndicate.publishing.publish import publish
from syndicate.readers import growth
from syndicate.readers.audience import prune as prune_audience
from syndicate.service import claims
from syndicate.service.context import App

log = logging.getLogger(__name__)


@dataclass
class JobOutcome:
    job: str
    slot: str
    status: str  # ok | failed | skipped | not-claimed
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def run_claimed(app: App, job: str, slot: str, work: Callable[[], Any]) -> JobOutcome:
    """Run ``work`` once for (job, slot); a second call for the same slot does nothing."""
    held = claims.claim(app, job, slot)
    if held is None:
        log.debug("job %s slot %s already claimed; not running it again", job, slot)
        return JobOutcome(job, slot, "not-claimed")
    try:
        with claims.heartbeat(app, held):
            result = work()
        outcome = JobOutcome(job, slot, "ok", counts_of(result))
        if isinstance(result, JobOutcome):
            outcome = dataclasses.replace(result, job=job, slot=slot)
    except SyndicateError as exc:
        outcome = JobOutcome(job, slot, "failed", error=exc.message)
    except Exception as exc:  # a job must never take the service down
        log.debug("job %s failed:\n%s", job, traceback.format_exc())
        outcome = JobOutcome(job, slot, "failed", error=f"{type(exc).__name__}: {exc}")
    claims.finish(app, held, status=outcome.status, counts=outcome.counts, error=outcome.error)
    _log_outcome(outcome)
    return outcome


def _log_outcome(outcome: JobOutcome) -> None:
    counts = " ".join(f"{k}={v}" for k, v in sorted(outcome.counts.items()))
    level = logging.ERROR if outcome.status == "failed" else logging.INFO
    log.log(
        level,
        "job %s slot %s %s %s%s",
        outcome.job,
        outcome.slot,
        outcome.status,
        counts,
        f" error={outcome.error}" if outcome.error else "",
        extra={
            "fields": {
                "job": outcome.job,
                "slot": outcome.slot,
                "status": outcome.status,
                "counts": outcome.counts,
                "error": outcome.error,
            }
        },
    )


MANUAL = MANUAL_SLOT  # the CLI's unchanged-feeds shortcut writes it too


def now_slot(app: App) -> str:
    """A slot for an unscheduled (manual) run: unique to the microsecond."""
    return manual_slot(app.clock.now())


# -- the jobs ---------------------------------------------------------------------------


def publish_feeds(app: App) -> Any:
    if not app.settings.hosts:
        return None
    return publish(app.engine, app.settings, clock=app.clock)


def build_and_publish(app: App, *, only_if_changed: bool = False) -> dict[str, Any]:
    """Build every feed, then publish when there are hosts.

    Publishing diffs against each host's manifest, so an unchanged build uploads
    nothing; with ``only_if_changed`` (publish has its own schedule) it is skipped
    unless the build wrote or removed a file.
    """
    built = build_feeds(app.engine, app.settings, clock=app.clock)
    counts = {f"build_{k}": v for k, v in counts_of(built).items()}
    changed = counts.get("build_files_written", 0) or counts.get("build_files_removed", 0)
    if changed or not only_if_changed:
        pushed = publish_feeds(app)
        counts.update({f"push_{k}": v for k, v in counts_of(pushed).items()})
    return counts


@dataclass
class DigestRun:
    digest: str
    slot: datetime
    edition_id: int | None
    status: str  # composed | empty | skipped | existing
    queued: int = 0


def send_digest(app: App, name: str, *, slot: datetime | None = None) -> DigestRun:
    """Compose the edition of ``slot`` (default: the current period) and queue it.

    Both steps are idempotent: a second call finds the edition and queues nobody twice.
    """
    return _send(app, app.settings.digest(name), slot=slot)


def _send(app: App, digest: DigestSettings, *, slot: datetime | None = None) -> DigestRun:
    queued: list[int] = []  # filled when compose queues the edition in its transaction

    def queue(conn: Connection, edition: Any) -> None:
        queued.append(queue_edition(app, conn, edition, digest))

    edition = digests.compose(
        app.engine, app.settings, digest, clock=app.clock, slot=slot, queue=queue
    )
    if edition.status == "composed" and not queued:
        # Queued before: add only the subscribers who joined since.
        with app.engine.begin() as conn:
            queue(conn, edition)
    return DigestRun(digest.name, edition.slot, edition.id, edition.status, sum(queued))


def queue_edition(app: App, conn: Connection, edition: Any, digest: DigestSettings) -> int:
    """Queue a composed edition for every current subscriber (idempotent) and hold
    the new rows for ``send_at_local``; returns the rows added."""
    now = app.clock.now()  # one instant: the hold finds the rows enqueue added by it
    queued = queue_variants(
        app.settings, app.clock, conn, edition, now=now, domain=message_domain(app.settings)
    )
    if digest.send_at_local is not None:
        hold_until_local_hour(
            conn,
            edition_id=edition.id,
            hour=digest.send_at_local,
            default_zone=str(app.settings.digest_timezone(digest)),
            now=now,
        )
    return queued


def digest_slot_job(app: App, name: str, fire_time: datetime) -> JobOutcome:
    """The scheduled run of one digest slot: compose and queue, or skip when too late."""
    key = slot_key(fire_time, app.settings.digest_timezone(app.settings.digest(name)))
    return run_claimed(
        app, f"digest:{name}", key, lambda: digest_slot_job_work(app, name, fire_time)
    )


def digest_slot_job_work(app: App, name: str, fire_time: datetime) -> Any:
    """Compose and queue the slot's edition, finish one whose queueing was cut short,
    or record the slot skipped when it is too late to send."""
    settings = app.settings.digest(name)
    key = slot_key(fire_time, app.settings.digest_timezone(settings))
    with app.engine.connect() as conn:
        existing = digests.find_edition(conn, digest=name, period=digests.period_key(fire_time))
    if existing is not None and existing.status == "composed" and existing.queued_at is None:
        return _send(app, settings, slot=fire_time)  # finish its queueing
    if existing is not None:  # composed already, e.g. by `syndicate digest send`
        return JobOutcome(name, key, "ok", {"edition": existing.id, "existing": 1})
    if has_edition(app, name) and digests.is_expired(settings, fire_time, app.clock.now()):
        edition = digests.record_skipped(
            app.engine,
            settings,
            fire_time,
            f"missed by more than {settings.expires_after}",
            clock=app.clock,
        )
        return JobOutcome(name, key, "skipped", {"edition": edition.id or 0})
    return _send(app, settings, slot=fire_time)


def has_edition(app: App, name: str) -> bool:
    with app.engine.connect() as conn:
        return digests.has_edition(conn, name)


def catch_up(app: App) -> list[JobOutcome]:
    """On start: each digest's latest slot without an edition is composed now if it is
    within ``expires_after`` (or the digest never had an edition), else recorded as
    skipped. Nothing is sent hours late; nothing is composed twice."""
    outcomes = []
    now = app.clock.now()
    for settings in app.settings.digests:
        tz = app.settings.digest_timezone(settings)
        fire = latest_fire_time(settings.schedule, tz, now)
        if fire is not None:
            outcomes.append(digest_slot_job(app, settings.name, fire))
    return outcomes


def deliver(app: App) -> Any:
    return drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True)


def poll_bounces(app: App) -> dict[str, int]:
    """Apply the bounce and complaint reports waiting in ``[mail.bounces]``."""
    return dict(poll_mailbox(app))


def housekeeping(app: App) -> dict[str, int]:
    """Prune job history, webhook replay records, stale worker rows, old feed audience and
    finished outbound webhook events; fold the count tables' rows of gone connections;
    keep the subscriber counts of the days that are over (the dashboard's chart)."""
    now = app.clock.now()
    keep = timedelta(days=app.settings.schedule.keep_history_days)
    with app.engine.begin() as conn:
        runs = claims.prune(conn, before=now - keep)
        events = conn.execute(
            delete(webhook_events).where(webhook_events.c.received_at < now - keep)
        ).rowcount
        stale = workers.prune(conn, before=now - timedelta(days=1))
        audience_rows = prune_audience(conn, now.date())
        outbound = hooks_queue.prune(conn, now - keep)
        count_rows = counts.fold(conn)
    with snapshot(app.engine) as conn:  # the counts and the changes of one moment
        days_kept = growth.keep_days(conn, now)
    abandoned = claims.stale(app)
    for row in abandoned:
        log.warning(
            "job %s slot %s: claimed by %s at %s and not renewed since; "
            "the scheduler leader resumes it",
            row.job,
            row.slot,
            row.holder or "an older version",
            row.started_at.isoformat(timespec="seconds"),
        )
    return {
        "job_runs_pruned": runs,
        "webhook_events_pruned": events,
        "outbound_events_pruned": outbound,
        "workers_pruned": stale,
        "stale_claims": len(abandoned),
        "audience_rows_pruned": audience_rows,
        "count_rows_folded": count_rows,
        "subscriber_days_kept": days_kept,
    }


NARROWED_BY_THE_CLI = frozenset({"feeds", "publish"})


def resumable_work(app: App, job: str, slot: str) -> Callable[[], Any] | None:
    """The work a (job, slot) claim stands for, to finish a run whose process died."""
    if job.startswith("source:"):
        source = job.removeprefix("source:")
        if not any(s.name == source for s in app.settings.sources):
            return None
        return lambda: pull_source(app, source)
    if job.startswith("digest:"):
        name = job.removeprefix("digest:")
        if not any(d.name == name for d in app.settings.digests):
            return None
        return lambda: digest_slot_job_work(app, name, _fire_time(app, name, slot))
    if slot.startswith(MANUAL) and job in NARROWED_BY_THE_CLI:
        # `feeds build NAME` and `feeds publish --target T` record under the scheduled
        # job's name but may have done less: resuming as the whole job would build or push
        # what nobody asked for. Nothing is lost: the next scheduled run covers it.
        return None
    works: dict[str, Callable[[], Any]] = {
        "feeds": lambda: build_and_publish(app),
        "publish": lambda: publish_feeds(app),
        "housekeeping": lambda: housekeeping(app),
        "deliver": lambda: deliver(app),
        "bounces": lambda: poll_bounces(app),
    }
    return works.get(job)


def _fire_time(app: App, name: str, slot: str) -> datetime:
    """The slot time a digest claim stands for; a manual run (``digest send``) stands
    for the schedule's slot in force when it started."""
    settings = app.settings.digest(name)
    tz = app.settings.digest_timezone(settings)
    if slot.startswith(MANUAL):
        started = datetime.strptime(slot.removeprefix(MANUAL), MANUAL_FORMAT).replace(tzinfo=UTC)
        return digests.latest_slot(settings, tz, started) or started
    return slot_time(slot, tz)


def resume_stale(app: App) -> list[JobOutcome]:
    """Take over every claim whose lease expired and finish its work (the leader runs
    this on start and every few seconds); a claim nothing can resume is closed as failed."""
    outcomes = []
    for row in claims.stale(app):
        work = resumable_work(app, row.job, row.slot)
        if work is None:
            work = partial(_not_resumable, row.job, row.slot)
        outcomes.append(run_claimed(app, row.job, row.slot, work))
    return outcomes


def _not_resumable(job: str, slot: str) -> Any:
    if slot.startswith(MANUAL) and job in NARROWED_BY_THE_CLI:
        raise SyndicateError(
            f"job {job!r} (a command-line run) was interrupted; the next scheduled run "
            "covers it, or run the command again"
        )
    raise SyndicateError(f"job {job!r} died midway and is no longer in the config")


def pull_source(app: App, name: str) -> JobOutcome:
    """Pull one ``[[sources]]`` entry; its articles trigger the feed build like an import."""
    result = pull(app.engine, app.settings, name, clock=app.clock)
    status = "skipped" if result.skipped else ("ok" if result.ok else "failed")
    error = None if status == "ok" else result.detail
    return JobOutcome(f"source:{name}", "", status, result.counts, error)


def pull_now(app: App, name: str) -> JobOutcome:
    """An unscheduled pull of one source (the CLI, ``run --once``, a folder change)."""
    return run_claimed(app, f"source:{name}", now_slot(app), partial(pull_source, app, name))


def run_once(app: App) -> list[JobOutcome]:
    """Every job once, now: finish runs whose process died, pull every source, build
    and publish feeds, digests' due slots, one drain."""
    outcomes = resume_stale(app)
    outcomes += [pull_now(app, source.name) for source in app.settings.sources]
    outcomes.append(run_claimed(app, "feeds", now_slot(app), lambda: build_and_publish(app)))
    outcomes += catch_up(app)
    outcomes.append(run_claimed(app, "deliver", now_slot(app), lambda: deliver(app)))
    if app.settings.mail.bounces is not None:
        outcomes.append(run_claimed(app, "bounces", now_slot(app), lambda: poll_bounces(app)))
    return outcomes


def rebuild_if_articles_changed(app: App) -> JobOutcome | None:
    """Build and publish right after an import changed something (any process's import)."""
    with app.engine.connect() as conn:
        newest = newest_import(conn)
    if newest is None:
        return None
    return run_claimed(
        app,
        "feeds",
        "change:" + newest.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        lambda: build_and_publish(app),
    )


# -- the schedule ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledJob:
    """A job the service fires on a cron: ``run(app, fire_time)`` claims its slot."""

    name: str
    expression: str
    zone: ZoneInfo
    run: Callable[[App, datetime], JobOutcome]


def _claimed(name: str, zone: ZoneInfo, work: Callable[[App], Any]) -> Callable[..., JobOutcome]:
    return lambda app, fire: run_claimed(app, name, slot_key(fire, zone), lambda: work(app))


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    """Every cron job the config describes: one list for the service and ``status``."""
    utc = ZoneInfo("UTC")
    schedule = settings.schedule
    entries = []
    if schedule.publish and settings.hosts:
        build = partial(build_and_publish, only_if_changed=True)
        entries.append(ScheduledJob("feeds", schedule.feeds, utc, _claimed("feeds", utc, build)))
        entries.append(
            ScheduledJob("publish", schedule.publish, utc, _claimed("publish", utc, publish_feeds))
        )
    else:
        entries.append(
            ScheduledJob("feeds", schedule.feeds, utc, _claimed("feeds", utc, build_and_publish))
        )
    entries.append(
        ScheduledJob(
            "housekeeping", schedule.housekeeping, utc, _claimed("housekeeping", utc, housekeeping)
        )
    )
    bounces = settings.mail.bounces
    if bounces is not None and bounces.schedule:
        poll = _claimed("bounces", utc, poll_bounces)
        entries.append(ScheduledJob("bounces", bounces.schedule, utc, poll))
    for source in settings.sources:
        job = f"source:{source.name}"
        pull = partial(pull_source, name=source.name)
        entries.append(ScheduledJob(job, source.schedule, utc, _claimed(job, utc, pull)))
    for digest in settings.digests:
        entries.append(
            ScheduledJob(
                f"digest:{digest.name}",
                digest.schedule,
                settings.digest_timezone(digest),
                partial(_digest_run, name=digest.name),
            )
        )
    return entries


def _digest_run(app: App, fire: datetime, *, name: str) -> JobOutcome:
    return digest_slot_job(app, name, fire)
