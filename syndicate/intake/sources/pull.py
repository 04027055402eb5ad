"""Pull a source: fetch the feed (or read the folder), store each entry, remember the state.

One entry = one transaction (its article and its ``source_entries`` row together), so a
crash leaves every entry either stored or not; the feed's ETag/Last-Modified are
stored only after every entry was handled, so a crash never hides an entry behind a
304. A failed entry is reported and the others carry on.

An entry's identity is its guid/id (else its link), mapped once to an article id; an
unchanged entry costs one lookup (its hash), a changed one updates the article, and
an entry that leaves the feed's window keeps its article. An article the operator
removed is not brought back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from html import escape
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from syndicate.core.clock import Clock
from syndicate.core.config import Settings, SourceSettings
from syndicate.core.db import articles, transaction
from syndicate.core.errors import ImportFailure, SourceError
from syndicate.intake.importers import import_paths
from syndicate.intake.importers.model import ParsedArticle, normalise_tags
from syndicate.intake.importers.pipeline import SOURCE_MAX, _clean_fields
from syndicate.intake.importers.store import save
from syndicate.intake.sources import state as states
from syndicate.intake.sources.extract import extract_page
from syndicate.intake.sources.feed import FeedEntry, absolutize, is_html, parse_feed, text_of
from syndicate.intake.sources.fetch import (
    FEED_ACCEPT,
    PAGE_ACCEPT,
    Client,
    HostPacer,
    Policy,
    parse_http_url,
    user_agent,
)

log = logging.getLogger(__name__)

ENTRY_STATUSES = ("imported", "updated", "unchanged", "skipped", "failed")


@dataclass
class EntryOutcome:
    guid: str
    title: str
    status: str  # imported | updated | unchanged | skipped | failed
    slug: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "guid": self.guid,
            "title": self.title,
            "status": self.status,
            "slug": self.slug,
            "note": self.note,
        }


@dataclass
class PullResult:
    """What one pull did; ``state`` is what ``sources list`` shows afterwards."""

    source: str
    url: str
    state: str  # ok | unchanged | failed | deferred | gone
    detail: str = ""
    moved_to: str | None = None
    pages: int = 0
    skipped: bool = False  # not pulled at all (gone, or waiting for Retry-After)
    entries: list[EntryOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        tally = {status: 0 for status in ENTRY_STATUSES}
        for outcome in self.entries:
            tally[outcome.status] += 1
        return {**tally, "pages": self.pages}

    @property
    def ok(self) -> bool:
        return self.state in ("ok", "unchanged", "deferred") and not self.counts["failed"]

    def summary(self) -> str:
        counts = self.counts
        parts = [f"{counts[s]} {s}" for s in ENTRY_STATUSES if counts[s]]
        if counts["pages"]:
            parts.append(f"{counts['pages']} page(s) fetched")
        text = ", ".join(parts) or "no entries"
        if self.moved_to:
            text += f"; moved permanently to {self.moved_to} (update url in config.toml)"
        failed = [o for o in self.entries if o.status == "failed"]
        if failed:
            text += f"; first failure: {failed[0].note}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "url": self.url,
            "state": self.state,
            "detail": self.detail,
            "moved_to": self.moved_to,
            "counts": self.counts,
            "entries": [o.to_dict() for o in self.entries],
            "warnings": list(self.warnings),
        }


# -- identity and change --------------------------------------------------------------


def article_source(guid: str, scope: str, key: str) -> str:
    """``articles.source`` of an entry: the guid when it is a URI (global), else scoped
    by the feed's host (a bare guid like "42" is only unique within one site)."""
    parts = urlsplit(guid)
    if parts.scheme and (parts.netloc or parts.scheme in ("tag", "urn")) and len(guid) <= 1000:
        return guid
    return f"feed:{scope}:{key}"


def entry_hash(entry: FeedEntry, source: SourceSettings) -> str:
    """A hash of everything that shapes the stored article, the source's options included."""
    data = [
        entry.guid,
        entry.link,
        entry.title,
        entry.body_html,
        entry.summary,
        entry.author_name,
        entry.author_email,
        entry.published.isoformat() if entry.published else None,
        entry.updated.isoformat() if entry.updated else None,
        sorted(entry.tags),
        entry.image_url,
        source.full_text,
        sorted(source.tags),
    ]
    encoded = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def since_of(source: SourceSettings, tz: ZoneInfo) -> datetime | None:
    value = source.since
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, dtime(0))
    return value if value.tzinfo else value.replace(tzinfo=tz)


# -- the puller ------------------------------------------------------------------------


class Puller:
    """Pulls one feed source with one HTTP client (so politeness spans the whole pull)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        source: SourceSettings,
        *,
        clock: Clock,
        record: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.source = source
        self.record = record  # one-off imports keep no per-source state
        self.tz = ZoneInfo(self.settings.site.timezone)
        self.policy = Policy(
            user_agent=user_agent(self.settings.site.title, self.settings.site.url),
            allow_private=source.allow_private,
            timeout=source.timeout,
            max_bytes=source.max_bytes,
        )
        self.client = Client(self.policy, HostPacer(source.host_delay, sleep), now=clock.now)
        self.page_budget = source.max_full_text
        self.paused_hosts: set[str] = set()

    def close(self) -> None:
        self.client.close()

    # -- one entry ------------------------------------------------------------------

    def _page(self, link: str, result: PullResult) -> ParsedArticle | None:
        """The linked page's article, or None (with a warning) when it cannot be had."""
        host = urlsplit(link).hostname or ""
        if host in self.paused_hosts:
            return None
        self.page_budget -= 1
        result.pages += 1
        try:
            response = self.client.get(link, accept=PAGE_ACCEPT)
            if not is_html(response.body, response.content_type):
                raise SourceError(f"{link}: not an HTML page ({response.content_type})")
            charset = _charset(response.headers.get("Content-Type", ""))
            page = extract_page(response.body.decode(charset, errors="replace"), link, self.tz)
        except SourceError as exc:
            if exc.retry_after is not None or exc.temporary:
                self.paused_hosts.add(host)  # 429/503/timeouts: leave the host alone this pull
            result.warnings.append(f"full text: {exc.message}; kept the feed's text")
            return None
        except ImportFailure as exc:
            result.warnings.append(f"full text: {exc.message}; kept the feed's text")
            return None
        page.body_html = absolutize(page.body_html, response.url, self.iframe_hosts)
        return page

    @property
    def iframe_hosts(self) -> tuple[str, ...]:
        return tuple(self.settings.site.iframe_hosts)

    def _parsed(
        self, entry: FeedEntry, first_seen: datetime, result: PullResult
    ) -> tuple[ParsedArticle, bool]:
        """The article to store and whether it is complete (no page left to fetch)."""
        body, fmt, complete = entry.body_html, "feed", True
        mode = self.source.full_text
        wanted = entry.link and (mode == "always" or (mode == "auto" and not entry.full_content))
        if wanted and entry.link:
            if self.page_budget <= 0:
                complete = False  # fetched on a later pull
            else:
                page = self._page(entry.link, result)
                if page is None:
                    complete = urlsplit(entry.link).hostname not in self.paused_hosts
                elif len(text_of(page.body_html)) > len(text_of(body)):
                    body, fmt = page.body_html, "page"
                else:
                    result.warnings.append(
                        f"full text: {entry.link} gave less text than the feed; kept the feed's"
                    )
        warnings = []
        if not text_of(body) and "<img" not in body and entry.link:
            body = f'<p><a href="{escape(entry.link)}">{escape(entry.title)}</a></p>'
            warnings.append("the entry has no text; its body links to the original")
        parsed = ParsedArticle(
            title=entry.title,
            body_html=body,
            fmt=fmt,
            author_name=entry.author_name,
            author_email=entry.author_email,
            published=entry.published or entry.updated or first_seen,
            updated=entry.updated,
            tags=normalise_tags([*entry.tags, *self.source.tags]),
            summary=entry.summary,
            image_url=entry.image_url,
            image_type=entry.image_type,
            warnings=warnings,
        )
        if entry.published is None and entry.updated is None:
            parsed.warnings.append("the entry has no date; using the time it was first seen")
        return parsed, complete

    def store_entry(
        self, entry: FeedEntry, feed_url: str, result: PullResult, known: states.EntryRow | None
    ) -> EntryOutcome:
        source = self.source
        now = self.clock.now()
        name = f"{feed_url} (entry {entry.guid[:120]})"
        digest = entry_hash(entry, source)
        if known is not None and known.article_id is None:
            return EntryOutcome(entry.guid, entry.title, "skipped", note="removed from the store")
        if known is not None and known.entry_hash == digest and known.complete:
            return EntryOutcome(entry.guid, entry.title, "unchanged")
        stored_source = None  # the article's identity, kept even if the guid scheme moved
        if known is not None and known.article_id is not None:
            with self.engine.connect() as conn:
                stored_source = conn.execute(
                    select(articles.c.source).where(articles.c.id == known.article_id)
                ).scalar()
        first_seen = known.first_seen if known is not None else now
        parsed, complete = self._parsed(entry, first_seen, result)
        _clean_fields(parsed, name)
        scope = urlsplit(source.url or feed_url).hostname or "feed"
        key = stored_source or article_source(entry.guid, scope, entry.key)
        if len(key) > SOURCE_MAX:
            key = f"feed:{scope}:{entry.key}"
        try:
            with transaction(self.engine) as conn:
                saved = save(
                    conn,
                    self.settings,
                    parsed,
                    source=key,
                    name=name,
                    file_time=parsed.published or now,
                    now=now,
                )
                article_id: int = conn.execute(
                    select(articles.c.id).where(articles.c.uid == saved.uid)
                ).scalar_one()
                if self.record:
                    states.record_entry(
                        conn,
                        source=source.name,
                        key=entry.key,
                        guid=entry.guid,
                        link=entry.link,
                        article_id=article_id,
                        entry_hash=digest,
                        complete=complete,
                        now=now,
                        known=known is not None,
                    )
        except IntegrityError:
            raise ImportFailure(
                name, "another import took its slug or id at the same moment; pull again"
            ) from None
        note = "; ".join(parsed.warnings)
        return EntryOutcome(entry.guid, entry.title, saved.status, saved.slug, note)

    # -- the feed --------------------------------------------------------------------

    def pull(self, current: states.SourceState | None = None) -> PullResult:
        """Fetch and store; every failure ends as the result's state, never an exception."""
        source = self.source
        url = current.url if current else str(source.url)
        result = PullResult(source.name, url, "ok")
        try:
            response = self.client.get(
                url,
                accept=FEED_ACCEPT,
                etag=current.etag if current else None,
                last_modified=current.last_modified if current else None,
            )
        except SourceError as exc:
            result.state = "gone" if exc.gone else ("deferred" if exc.temporary else "failed")
            if exc.retry_after is None and exc.temporary:
                result.state = "failed"
            result.detail = exc.message
            self._apply(current, result, None, retry_after=exc.retry_after)
            return result
        result.moved_to = response.moved_to
        if response.status == 304:
            result.state = "unchanged"
            result.detail = "not modified since the last pull (304)"
            self._apply(current, result, response)
            return result
        try:
            feed = parse_feed(
                response.body, response.url, response.content_type, iframe_hosts=self.iframe_hosts
            )
        except SourceError as exc:
            result.state, result.detail = "failed", exc.message
            self._apply(current, result, None)
            return result
        result.warnings.extend(f"{response.url}: {w}" for w in feed.warnings)
        self.store_entries(feed.entries, response.url, result)
        result.detail = result.summary()
        self._apply(current, result, response)
        return result

    def store_entries(self, entries: list[FeedEntry], feed_url: str, result: PullResult) -> None:
        since = since_of(self.source, self.tz)
        known: dict[str, states.EntryRow] = {}
        if self.record:
            with self.engine.connect() as conn:
                known = states.entries(conn, self.source.name, [e.key for e in entries])
        seen: set[str] = set()
        unchanged: list[str] = []
        for entry in reversed(entries):  # feeds list newest first; slugs go oldest first
            if entry.key in seen:
                result.warnings.append(f"{feed_url}: entry {entry.guid!r} appears twice")
                continue
            seen.add(entry.key)
            when = entry.published or entry.updated
            if since is not None and when is not None and when < since:
                continue
            try:
                outcome = self.store_entry(entry, feed_url, result, known.get(entry.key))
            except ImportFailure as exc:
                outcome = EntryOutcome(entry.guid, entry.title, "failed", note=exc.message)
                log.warning("%s", exc.message)
            if outcome.status == "unchanged":
                unchanged.append(entry.key)
            result.entries.append(outcome)
        if self.record and unchanged:
            with transaction(self.engine) as conn:
                states.mark_seen(conn, self.source.name, unchanged, self.clock.now())

    def _apply(
        self,
        current: states.SourceState | None,
        result: PullResult,
        response: Any,
        *,
        retry_after: float | None = None,
    ) -> None:
        """Store what this pull learnt (validators only from a feed fully handled)."""
        if current is None or not self.record:
            return
        now = self.clock.now()
        current.pulled_at = now
        current.state = result.state
        current.detail = result.detail
        current.counts = result.counts
        current.not_before = now + timedelta(seconds=retry_after) if retry_after else None
        if response is not None:
            current.succeeded_at = now
            if response.status == 200:
                current.etag = response.headers.get("ETag")
                current.last_modified = response.headers.get("Last-Modified")
            if result.moved_to:
                current.url = result.moved_to
                log.warning(
                    "source %s moved permanently to %s; update its url in config.toml",
                    result.source,
                    result.moved_to,
                )
        with transaction(self.engine) as conn:
            states.save(conn, current)


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            candidate = value.strip("\"' ")
            try:
                "".encode(candidate)
            except LookupError:
                break
            return candidate
    return "utf-8"


# -- entry points ------------------------------------------------------------------------


def pull_folder(
    engine: Engine, settings: Settings, source: SourceSettings, *, clock: Clock
) -> PullResult:
    """Import a folder source's files (the importer keeps identity by file path)."""
    folder = settings.resolve(str(source.path))
    result = PullResult(source.name, str(folder), "ok")
    if not folder.is_dir():
        result.state, result.detail = "failed", f"{folder}: no such folder"
    else:
        report = import_paths(engine, settings, [folder], clock=clock)
        for outcome in report.outcomes:
            status = outcome.status if outcome.status in ENTRY_STATUSES else "skipped"
            note = outcome.error.message if outcome.error else "; ".join(outcome.warnings)
            result.entries.append(
                EntryOutcome(outcome.path, outcome.path, status, outcome.slug, note)
            )
        result.detail = result.summary()
    now = clock.now()
    with transaction(engine) as conn:
        current = states.load(conn, source.name, str(folder))
        current.url = str(folder)
        current.pulled_at = now
        current.state, current.detail, current.counts = result.state, result.detail, result.counts
        if result.state == "ok":
            current.succeeded_at = now
        states.save(conn, current)
    return result


def pull_source(
    engine: Engine,
    settings: Settings,
    name: str,
    *,
    clock: Clock,
    force: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> PullResult:
    """Pull one configured source now; a gone or deferred one waits unless ``force``."""
    source = settings.source(name)
    if source.url is None:
        result = pull_folder(engine, settings, source, clock=clock)
        _log(result)
        return result
    with engine.connect() as conn:
        current = states.load(conn, source.name, source.url)
    now = clock.now()
    if not force and current.state == "gone":
        detail = f"{current.detail} (not pulled again: fix url in config.toml or use --force)"
        return PullResult(name, current.url, "gone", detail, skipped=True)
    if not force and current.not_before is not None and current.not_before > now:
        return PullResult(
            name,
            current.url,
            "deferred",
            f"the server asked to wait until {current.not_before.isoformat()} (Retry-After)",
            skipped=True,
        )
    puller = Puller(engine, settings, source, clock=clock, sleep=sleep)
    try:
        result = puller.pull(current)
    finally:
        puller.close()
    _log(result)
    return result


def pull_url(
    engine: Engine, settings: Settings, url: str, *, clock: Clock, allow_private: bool = False
) -> PullResult:
    """``syndicate import URL``: a feed's entries, or the single article page at ``url``."""
    source = SourceSettings(name="import", url=parse_http_url(url), allow_private=allow_private)
    puller = Puller(engine, settings, source, clock=clock, record=False)
    result = PullResult("import", url, "ok")
    try:
        try:
            response = puller.client.get(url, accept=f"{FEED_ACCEPT}, {PAGE_ACCEPT}")
        except SourceError as exc:
            result.state, result.detail = "failed", exc.message
            return result
        result.url = response.url
        if is_html(response.body, response.content_type):
            _import_page(puller, response, result)
        else:
            try:
                feed = parse_feed(response.body, response.url, response.content_type)
            except SourceError as exc:
                result.state, result.detail = "failed", exc.message
                return result
            result.warnings.extend(f"{response.url}: {w}" for w in feed.warnings)
            puller.store_entries(feed.entries, response.url, result)
        result.detail = result.summary()
    finally:
        puller.close()
    return result


def _import_page(puller: Puller, response: Any, result: PullResult) -> None:
    now = puller.clock.now()
    charset = _charset(response.headers.get("Content-Type", ""))
    try:
        page = extract_page(
            response.body.decode(charset, errors="replace"), response.url, puller.tz
        )
        page.body_html = absolutize(page.body_html, response.url, puller.iframe_hosts)
        _clean_fields(page, response.url)
        with transaction(puller.engine) as conn:
            saved = save(
                conn,
                puller.settings,
                page,
                source=response.url[:SOURCE_MAX],
                name=response.url,
                file_time=now,
                now=now,
            )
        result.entries.append(
            EntryOutcome(
                response.url, page.title, saved.status, saved.slug, "; ".join(page.warnings)
            )
        )
    except ImportFailure as exc:
        result.entries.append(EntryOutcome(response.url, "", "failed", note=exc.message))


def _log(result: PullResult) -> None:
    level = logging.WARNING if result.state in ("failed", "gone", "deferred") else logging.INFO
    log.log(level, "source %s: %s: %s", result.source, result.state, result.detail)
    for warning in result.warnings:
        log.warning("source %s: %s", result.source, warning)
