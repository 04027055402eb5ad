"""``syndicate run``: scheduler + delivery workers + web server in one process.

The scheduler runs only while this process holds the leader lock; a second copy
waits as a standby and takes over within one lease period after the leader dies.
SIGTERM/SIGINT stop claiming work, let the batch in hand finish, and exit 0 within
``SHUTDOWN_SECONDS``. SIGHUP reloads config.toml after validating it; a bad file
keeps the old settings and logs why; a reload restarts the delivery drain with the
new settings (rate, burst, concurrency, lease, batch size), after the batch in hand.

The web server is built by a factory the caller (the CLI) passes in, so this module
does not import the web stage: the import graph stays one-way (service <- web <- cli).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syndicate.core.config import Settings, load_settings
from syndicate.core.errors import ConfigError, SyndicateError
from syndicate.core.schedules import cron_trigger, latest_fire_time
from syndicate.delivery.drain import drain
from syndicate.intake.sources.watch import watch_folders
from syndicate.service import jobs
from syndicate.service.context import App
from syndicate.service.leader import LeaderLock, leader_lock

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 30.0


class WebServer(Protocol):
    """What the service needs of a web server (a waitress server is one)."""

    effective_port: int | str

    def run(self) -> None:
        """Serve until ``close`` is called (from any thread)."""

    def close(self) -> None:
        """Finish the requests in hand and make ``run`` return."""


# (app, host, port, surface) -> bound server; surface: "all", "public" or "console"
# (what that listener serves, see web/app.py's create_app).
WebServerFactory = Callable[[App, str, int, str], WebServer]


@dataclass
class Parts:
    scheduler: bool = True
    delivery: bool = True
    web: bool = True


class Service:
    def __init__(
        self,
        app: App,
        *,
        config_path: Path | None = None,
        parts: Parts | None = None,
        web_server: WebServerFactory | None = None,
    ):
        self.app = app
        self.config_path = config_path
        self.parts = parts or Parts()
        if self.parts.web and web_server is None:
            raise ValueError("the web part needs a web_server factory")
        self.web_server = web_server
        self.stop = threading.Event()
        # Set to end the running drain: by a reload (a new drain starts with the new
        # settings) or a shutdown. Replaced, never cleared, so a drain never misses it.
        self._drain_stop = threading.Event()
        self.reload_requested = threading.Event()
        self.is_leader = False
        self._scheduler: BackgroundScheduler | None = None
        self._lock: LeaderLock | None = None
        self._threads: list[threading.Thread] = []
        self._web_server: WebServer | None = None
        self._admin_server: WebServer | None = None

    # -- scheduler -----------------------------------------------------------------

    def _schedule_jobs(self, scheduler: BackgroundScheduler, settings: Settings) -> None:
        app = self.app
        for job in jobs.scheduled_jobs(settings):

            def fire(job: jobs.ScheduledJob = job) -> None:
                # APScheduler does not say which fire time this is: the latest one is.
                slot = latest_fire_time(job.expression, job.zone, app.clock.now())
                if slot is not None:
                    job.run(app, slot)

            scheduler.add_job(fire, cron_trigger(job.expression, job.zone), id=job.name)
        scheduler.add_job(
            lambda: jobs.rebuild_if_articles_changed(app),
            IntervalTrigger(seconds=settings.schedule.deliver_every_seconds),
            id="watch-articles",
        )
        # Claims whose process died: taken over as soon as their lease expires.
        scheduler.add_job(
            lambda: jobs.resume_stale(app),
            IntervalTrigger(seconds=max(1.0, settings.schedule.job_lease_seconds / 2)),
            id="resume-stale-claims",
            next_run_time=datetime.now(UTC),
        )

    def _make_scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._schedule_jobs(scheduler, self.app.settings)
        return scheduler

    def _lead(self) -> None:
        """Elector loop: become leader when possible, start or pause the scheduler."""
        settings = self.app.settings.schedule
        self._lock = leader_lock(self.app.engine, self.app.clock, settings.leader_lease_seconds)
        interval = max(1.0, settings.leader_lease_seconds / 3)
        while not self.stop.is_set():
            leading = self._lock.try_acquire()
            if leading and not self.is_leader:
                log.info("became the scheduler leader (%s)", self._lock.holder)
                self.is_leader = True
                jobs.catch_up(self.app)
                self._scheduler = self._make_scheduler()
                self._scheduler.start()
            elif not leading and self.is_leader:
                log.warning("lost the scheduler lock; standing by")
                self._stop_scheduler()
            elif not leading:
                log.debug("standing by: another process holds the scheduler lock")
            self.stop.wait(interval)
        self._stop_scheduler()
        self._lock.release()

    def _stop_scheduler(self) -> None:
        self.is_leader = False
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None

    def _watch_folders(self) -> None:
        """Folder sources: import right after a file changes (the leader only)."""

        def changed(name: str) -> None:
            if self.is_leader:
                jobs.pull_now(self.app, name)
                jobs.rebuild_if_articles_changed(self.app)

        watch_folders(lambda: self.app.settings, self.stop, changed)

    # -- delivery and web ----------------------------------------------------------

    def _deliver(self) -> None:
        while not self.stop.is_set():
            app, ended = self.app, self._drain_stop
            settings = app.settings  # this drain's settings: a reload starts another drain
            mail, delivery = settings.mail, settings.delivery
            log.info(
                "delivery: %s at %s/s (burst %s), concurrency %s, batch %s, lease %ss",
                mail.provider,
                mail.rate_per_second,
                mail.burst,
                mail.concurrency,
                delivery.batch_size,
                delivery.lease_seconds,
            )
            try:
                drain(
                    app.engine,
                    settings,
                    clock=app.clock,
                    mailer=app.mailer_for(settings),
                    once=False,
                    stop=ended,
                )
            except SyndicateError as exc:
                log.error("delivery: %s", exc.message)
                self.stop.wait(self.app.settings.schedule.deliver_every_seconds)
            except Exception:  # the worker must outlive a bug in one batch
                log.exception("delivery loop failed; retrying")
                self.stop.wait(self.app.settings.schedule.deliver_every_seconds)

    def _webhooks(self) -> None:
        """Outbound webhooks, beside the mail drain (``hooks/drain.py``)."""
        from syndicate.delivery.hooks import drain as webhook_drain

        webhook_drain.run(self.app, self.stop)

    def _bind_web(self) -> None:
        """Bind the web port (and the console's, with ``web.admin_listen``) before
        anything starts: a port in use is fatal, one line.

        Running on without the web app would lead the scheduler with the one-click
        unsubscribe endpoint down.
        """
        web = self.app.settings.web
        if web.admin_listen is None:
            self._web_server = self._bind("web.listen", web.listen, "all")
            return
        self._web_server = self._bind("web.listen", web.listen, "public")
        self._admin_server = self._bind("web.admin_listen", web.admin_listen, "console")

    def _bind(self, key: str, listen: str, surface: str) -> WebServer:
        assert self.web_server is not None  # checked in __init__
        host, _, port = listen.rpartition(":")
        try:
            server = self.web_server(self.app, host.strip("[]"), int(port), surface)
        except OSError as exc:
            if self._web_server is not None:  # the first address was bound: free it
                self._web_server.close()
            reason = exc.strerror or str(exc)
            raise ConfigError(
                f"{key} {listen}: cannot listen there ({reason.lower()}); stop the "
                f"process using that port (another `syndicate run`?) or set {key} to a "
                "free address",
                hint="",
            ) from None
        shown = "console" if surface == "console" else "web app"
        path = "admin/" if surface == "console" else ""
        log.info("%s on http://%s:%s/%s", shown, host, server.effective_port, path)
        return server

    def _serve_web(self, server: WebServer) -> None:
        try:
            server.run()
        except (OSError, ValueError):
            if not self.stop.is_set():
                raise
            log.debug("web server loop ended during shutdown", exc_info=True)

    @property
    def web_port(self) -> int | None:
        return None if self._web_server is None else int(self._web_server.effective_port)

    # -- lifecycle -----------------------------------------------------------------

    def reload(self) -> bool:
        """Validate the config again; apply it, or keep the old one and say why."""
        try:
            settings = load_settings(self.config_path)
        except ConfigError as exc:
            log.error(
                "config not reloaded, keeping the running one: %s; %s",
                exc.message,
                "; ".join(exc.problems),
            )
            return False
        if settings.database_url != self.app.settings.database_url:
            log.warning("database.url changed: restart syndicate to use the new database")
        self.app.settings = settings
        # The running drain keeps the settings it started with: end it (after the
        # batch in hand); the delivery loop starts a new one with these.
        ended, self._drain_stop = self._drain_stop, threading.Event()
        ended.set()
        if self._scheduler is not None:
            self._scheduler.remove_all_jobs()
            self._schedule_jobs(self._scheduler, settings)
        log.info("config reloaded from %s", self.config_path)
        return True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())

    def start(self) -> None:
        self.app.engine  # noqa: B018 - migrate before any thread starts
        if self.parts.web:
            self._bind_web()  # before any thread: a taken port starts nothing
        targets: list[tuple[str, Callable[[], None]]] = []
        if self.parts.scheduler:
            targets.append(("leader", self._lead))
            targets.append(("watch", self._watch_folders))
        if self.parts.delivery:
            targets.append(("delivery", self._deliver))
            targets.append(("webhooks", self._webhooks))
        for name, server in (("web", self._web_server), ("admin", self._admin_server)):
            if server is not None:
                targets.append((name, partial(self._serve_web, server)))
        for name, target in targets:
            thread = threading.Thread(target=target, name=f"syndicate-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wait(self) -> int:
        """Block until asked to stop; then shut down within a bounded time."""
        while not self.stop.wait(0.2):
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
        return self.shutdown()

    def shutdown(self) -> int:
        self.stop.set()
        self._drain_stop.set()
        for server in (self._web_server, self._admin_server):
            if server is not None:
                server.close()
        deadline = time.monotonic() + SHUTDOWN_SECONDS  # one budget for all threads
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            log.warning("still busy after %ss: %s", SHUTDOWN_SECONDS, ", ".join(alive))
        log.info("stopped")
        return 0
