"""Push the built feeds folder to each feed host, then ping WebSub hubs.

For each host: compare the feeds folder with the host's manifest in the store
(``host_files``: what is really on the host), upload new and changed files (archive
pages first, other files next, live feeds last, so a live feed never links to a page
that is not there yet), then delete files no longer built when ``delete = true``
(never more than ``max_deletes``). The manifest is updated as each file lands, so a
run that fails part-way leaves it equal to the host and the next run sends only the
rest. Transient failures are retried with backoff. Every push is recorded in
``pushes``. Once every host has been pushed to, the WebSub hubs hear once of each
live feed that landed on any of them.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Engine

from syndicate.core.clock import Clock
from syndicate.core.config import HostSettings, Settings
from syndicate.core.errors import PublishError, SyndicateError
from syndicate.core.fileio import sha256_hex
from syndicate.feeds import files as feedfiles
from syndicate.feeds.lint import lint_file
from syndicate.feeds.lock import exclusive
from syndicate.publishing import websub
from syndicate.publishing.hosts import Host, HostError, build_host
from syndicate.publishing.hosts import manifest as store
from syndicate.publishing.hosts import sweep as sweeping
from syndicate.publishing.hosts.base import StagedHost, is_unpublishable, temp_name

log = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[str, int, int], None]  # (host, steps done, steps in all)


@dataclass(frozen=True)
class LocalFile:
    path: str  # relative POSIX path inside the feeds folder
    sha256: str
    size: int


@dataclass
class Plan:
    """What one push will do: uploads in push order, then deletions."""

    host: str
    uploads: list[LocalFile]
    unchanged: int
    stale: list[str]  # on the host but no longer built
    deletes: list[str]  # the stale files this push removes (delete = true)


@dataclass
class PushReport:
    """The outcome of one host's push (or, with ``dry_run``, what it would do)."""

    host: str
    dry_run: bool = False
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # stale, left because delete = false
    swept: list[str] = field(default_factory=list)  # leftover temp files of a killed push
    skipped: int = 0
    bytes: int = 0
    hubs_pinged: int = 0
    hub_errors: list[str] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PublishFailed(PublishError):
    """One or more hosts failed; ``reports`` holds every host's outcome."""

    def __init__(self, reports: list[PushReport]) -> None:
        failed = [report for report in reports if report.error]
        if len(failed) == 1:
            message, hint = failed[0].error or "", failed[0].hint
        else:
            message = f"{len(failed)} of {len(reports)} hosts failed: " + "; ".join(
                report.error or "" for report in failed
            )
            hint = None
        super().__init__(message, hint=hint or PublishError.hint)
        self.reports = reports


# -- the plan ---------------------------------------------------------------------------


def scan(feeds_dir: Path) -> dict[str, LocalFile]:
    """Every publishable file under the feeds folder (no dotfiles, no temp files)."""
    found: dict[str, LocalFile] = {}
    for folder, dirs, files in os.walk(feeds_dir):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in sorted(files):
            if is_unpublishable(name):
                continue
            local = Path(folder, name)
            relpath = local.relative_to(feeds_dir).as_posix()
            data = _read(feeds_dir, relpath)
            found[relpath] = LocalFile(relpath, sha256_hex(data), len(data))
    return found


def push_order(relpath: str) -> int:
    """Archive pages first, then other files, live feeds last."""
    if feedfiles.is_archive(relpath):
        return 0
    return 2 if feedfiles.is_live_feed(relpath) else 1


def make_plan(host: HostSettings, local: dict[str, LocalFile], remote: dict[str, str]) -> Plan:
    changed = [item for path, item in local.items() if remote.get(path) != item.sha256]
    changed.sort(key=lambda item: (push_order(item.path), item.path))
    stale = sorted(set(remote) - set(local))
    if host.delete and len(stale) > host.max_deletes:
        raise PublishError(
            f"host {host.name!r}: {len(stale)} files would be deleted, more than "
            f"max_deletes = {host.max_deletes}; nothing was changed",
            hint="check that the feeds were built into [paths] feeds; if the deletions "
            "are intended, raise hosts[].max_deletes for one run",
        )
    return Plan(
        host=host.name,
        uploads=changed,
        unchanged=len(local) - len(changed),
        stale=stale,
        deletes=stale if host.delete else [],
    )


def lint(settings: Settings, feeds_dir: Path, plan: Plan) -> None:
    """Refuse to push a feed that breaks the feed rules (``syndicate.feeds.lint``)."""
    for item in plan.uploads:
        if not feedfiles.is_feed_file(item.path):
            continue
        local = feeds_dir / item.path
        problems = lint_file(local, public_url=public_url(settings, item.path))
        if problems:
            # Each problem starts with the file's full path: name it once, relative.
            where = f"{local}: "
            problems = [p.removeprefix(where) for p in problems]
            raise PublishError(
                f"{item.path} fails the feed checks, not pushed: " + "; ".join(problems),
                hint="fix the cause and run `syndicate feeds build` again",
            )


def public_url(settings: Settings, relpath: str) -> str:
    """Where subscribers fetch a file: the ``self`` URL the builder wrote into it."""
    return settings.site.public_feeds_url + relpath


def headers_for(host: HostSettings, relpath: str) -> tuple[str, str]:
    """(Content-Type, Cache-Control): the host's first matching pattern, else the layout's."""
    return (
        _first_match(host.content_type, relpath) or feedfiles.media_type(relpath),
        _first_match(host.cache_control, relpath) or feedfiles.cache_control(relpath),
    )


def _first_match(patterns: dict[str, str], relpath: str) -> str | None:
    return next((v for p, v in patterns.items() if fnmatch.fnmatchcase(relpath, p)), None)


# -- the push ---------------------------------------------------------------------------


def publish(
    engine: Engine,
    settings: Settings,
    *,
    clock: Clock,
    target: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> list[PushReport]:
    """Push to every configured host (or only ``target``); one report per host.

    Raises ``PublishFailed`` (with every report) when a host failed, after trying
    the others; ``PublishError`` when there is nothing to push or no such host.
    """
    if target is not None:
        chosen = [settings.host(target)]
    elif settings.hosts:
        chosen = list(settings.hosts)
    else:
        raise PublishError("no feed hosts are configured", hint="add a [[hosts]] table")
    feeds_dir = settings.feeds_dir
    local = scan(feeds_dir) if feeds_dir.is_dir() else {}
    if not local:
        raise PublishError(
            f"nothing to publish: {feeds_dir} holds no built files",
            hint="run `syndicate feeds build` first",
        )
    pushers: list[_Pusher] = []
    try:
        with exclusive(engine, feeds_dir):
            for host_settings in chosen:
                index = settings.hosts.index(host_settings)
                pusher = _Pusher(
                    engine,
                    settings,
                    host_settings,
                    clock=clock,
                    key=f"hosts[{index}]",
                    progress=progress,
                )
                pushers.append(pusher)
                pusher.run(local, dry_run=dry_run)
        _announce(settings, pushers)
    finally:
        for pusher in pushers:  # after the pings, so the records count them
            pusher.finish()
    reports = [pusher.report for pusher in pushers]
    if any(report.error for report in reports):
        raise PublishFailed(reports)
    return reports


class _Pusher:
    """One host's push: plan, lint, upload, delete, record.

    ``landed_live`` keeps the bytes of each live feed that landed, for the hub pings.
    """

    def __init__(
        self,
        engine: Engine,
        site: Settings,
        host: HostSettings,
        *,
        clock: Clock,
        key: str,
        progress: Progress | None,
    ):
        self.site = site  # the whole config: lint rules, base_dir, public URLs
        self.clock = clock
        self.settings = host
        self.key = key
        self.progress = progress
        self.feeds_dir = site.feeds_dir
        self.engine = engine
        self.report = PushReport(host.name)
        self.push_id: int | None = None
        self.landed_live: dict[str, bytes] = {}
        self.folders: list[str] = [""]  # where this host's files live (swept first)

    def run(self, local: dict[str, LocalFile], *, dry_run: bool) -> PushReport:
        now = self.clock.now()
        report = self.report
        report.dry_run, report.started_at = dry_run, now
        self.push_id = None if dry_run else store.start_push(self.engine, report.host, at=now)
        try:
            with self.engine.connect() as conn:
                remote = store.manifest(conn, self.settings.name)
            plan = make_plan(self.settings, local, remote)
            self.folders = sweeping.folders_of([*local, *remote])
            report.skipped = plan.unchanged
            report.kept = [] if self.settings.delete else plan.stale
            lint(self.site, self.feeds_dir, plan)
            if dry_run:
                report.uploaded = [item.path for item in plan.uploads]
                report.deleted = list(plan.deletes)
                report.bytes = sum(item.size for item in plan.uploads)
            else:
                self._push(plan, report)
        except SyndicateError as exc:  # a host failure, a refused feed, a missing secret
            report.error, report.hint = exc.message, exc.hint
            log.error("push to host %s failed: %s", self.settings.name, exc.message)
        except Exception as exc:  # a bug: publish() still closes the push record
            report.error = f"unexpected {type(exc).__name__}: {exc}"
            raise
        finally:
            report.finished_at = self.clock.now()
        return report

    def finish(self) -> None:
        """Close the push record (once the hubs have been pinged)."""
        report = self.report
        if self.push_id is not None:
            store.finish_push(
                self.engine,
                self.push_id,
                finished_at=report.finished_at,
                uploaded=len(report.uploaded),
                skipped=report.skipped,
                deleted=len(report.deleted),
                bytes=report.bytes,
                hubs_pinged=report.hubs_pinged,
                error=report.error,
            )

    def _push(self, plan: Plan, report: PushReport) -> None:
        host = build_host(self.settings, base_dir=self.site.base_dir, key=self.key)
        total = len(plan.uploads) + len(plan.deletes)
        self._tick(0, total)
        try:
            report.swept = self._retrying("sweep", lambda: sweeping.sweep(host, self.folders))
            for item in plan.uploads:
                data = _read(self.feeds_dir, item.path)
                self._upload(host, item.path, data)
                store.remember(
                    self.engine,
                    self.settings.name,
                    item.path,
                    sha256=sha256_hex(data),
                    size=len(data),
                    at=self.clock.now(),
                )
                report.uploaded.append(item.path)
                report.bytes += len(data)
                if feedfiles.is_live_feed(item.path):
                    self.landed_live[item.path] = data
                self._tick(len(report.uploaded), total)
            for path in plan.deletes:
                self._retrying(f"delete {path}", partial(host.delete, path))
                store.forget(self.engine, self.settings.name, path)
                report.deleted.append(path)
                self._tick(len(report.uploaded) + len(report.deleted), total)
        finally:
            host.close()
        log.info(
            "pushed to host %s: %d uploaded, %d unchanged, %d deleted",
            self.settings.name,
            len(report.uploaded),
            report.skipped,
            len(report.deleted),
        )

    def _upload(self, host: Host, path: str, data: bytes) -> None:
        content_type, cache = headers_for(self.settings, path)
        if host.atomic_put:
            self._retrying(f"upload {path}", lambda: host.put(path, data, content_type, cache))
            return
        staged = cast(StagedHost, host)  # not atomic: put aside, then moved into place
        tmp = temp_name(path)

        def attempt() -> None:
            try:
                staged.put(tmp, data, content_type, cache)
                staged.rename(tmp, path)
            except HostError as exc:
                _discard(host, tmp)  # best effort: a hidden leftover at worst
                # Name the file the operator knows, not our temp name.
                message = exc.message.replace(f"rename {tmp} to {path}", f"move {path} into place")
                raise HostError(
                    message.replace(tmp, path), temporary=exc.temporary, hint=exc.hint
                ) from None

        self._retrying(f"upload {path}", attempt)

    def _retrying(self, what: str, operation: Callable[[], T]) -> T:
        retries, delay = self.settings.retries, self.settings.retry_delay
        for attempt in range(retries + 1):
            try:
                return operation()
            except HostError as exc:
                if not exc.temporary or attempt == retries:
                    raise
                wait = delay * 2**attempt
                log.warning(
                    "%s on host %s failed (%s); retry %d of %d in %.1fs",
                    what,
                    self.settings.name,
                    exc.message,
                    attempt + 1,
                    retries,
                    wait,
                )
                time.sleep(wait)
        raise AssertionError("unreachable")

    def _tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(self.settings.name, done, total)


def _announce(settings: Settings, pushers: list[_Pusher]) -> None:
    """Ping the hubs once per live feed that landed on any host, after every host has it.

    The hubs each feed advertises are read from the bytes that were pushed; each host's
    report counts the pings (and lists the failures) for the feeds it landed. Timeouts
    and retries are those of the first host that landed a live feed.
    """
    landing = [pusher for pusher in pushers if pusher.landed_live]
    if not landing:
        return
    landed: dict[str, bytes] = {}
    for pusher in landing:
        landed.update(pusher.landed_live)
    pings: list[tuple[str, str]] = []
    feed_of: list[str] = []  # the feed each ping announces
    for path, data in sorted(landed.items()):
        self_url, hubs = websub.advertised(data, path)
        topic = self_url or public_url(settings, path)
        pings.extend((hub, topic) for hub in hubs)
        feed_of.extend(path for _ in hubs)
    first = landing[0].settings
    results = websub.ping_hubs(
        pings, timeout=first.timeout, retries=first.retries, retry_delay=first.retry_delay
    )
    for pusher in landing:
        mine = [r for r, path in zip(results, feed_of, strict=True) if path in pusher.landed_live]
        pusher.report.hubs_pinged = sum(result.ok for result in mine)
        pusher.report.hub_errors = [
            f"{result.hub} ({result.topic}): {result.error}" for result in mine if not result.ok
        ]


def _read(feeds_dir: Path, relpath: str) -> bytes:
    try:
        return (feeds_dir / relpath).read_bytes()
    except OSError as exc:
        raise PublishError(
            f"cannot read {relpath} in {feeds_dir}: {exc.strerror or exc}",
            hint="was the feeds folder rebuilt during the push? publish again",
        ) from None


def _discard(host: Host, path: str) -> None:
    try:
        host.delete(path)
    except HostError as exc:
        log.debug("could not remove temp file %s: %s", path, exc.message)
