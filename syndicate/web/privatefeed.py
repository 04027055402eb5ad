"""Each reader's private feed: Atom and JSON Feed of exactly what their email brings.

The URL carries a signed token (``tokens.feed_token``) naming the subscriber and
their ``feed_key``; revoking bumps the key. A forged token is 404; a revoked one, or
a reader who unsubscribed (or bounced, or was erased), is 410 Gone, which tells feed
readers to stop asking. Entries are the editions the reader's delivery rows point at
(their variant: their topics, nothing they already had), newest first, with the
generic links of the public archive (a feed is easily shared).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from flask import Response, abort, request
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from werkzeug.wrappers import Response as BaseResponse

from syndicate.core.db import deliveries, edition_variants, editions, subscribers, tuples
from syndicate.core.errors import ConfigError, TokenError
from syndicate.core.i18n import N_
from syndicate.core.tokens import check_feed_token, feed_token
from syndicate.delivery.messages import public_html
from syndicate.digest.render import view_url
from syndicate.digest.windows import edition_date
from syndicate.web.archive import _uuid
from syndicate.web.context import Web

LIMIT = 50
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    digest: str
    period: str
    period_end: datetime
    subject: str
    html: str
    created_at: datetime


def received(conn: Connection, subscriber_id: int, limit: int = LIMIT) -> list[Entry]:
    """The editions queued or sent to the reader (suppressed rows were never theirs)."""
    rows = conn.execute(
        select(
            editions.c.digest,
            editions.c.period,
            editions.c.period_end,
            func.coalesce(edition_variants.c.subject, editions.c.subject),
            func.coalesce(edition_variants.c.html, editions.c.html),
            editions.c.created_at,
        )
        .select_from(
            deliveries.join(editions, editions.c.id == deliveries.c.edition_id).outerjoin(
                edition_variants, edition_variants.c.id == deliveries.c.variant_id
            )
        )
        .where(
            deliveries.c.subscriber_id == subscriber_id,
            deliveries.c.status != "suppressed",
            editions.c.status == "composed",
        )
        .order_by(editions.c.created_at.desc(), editions.c.id.desc())
        .limit(limit)
    )
    return [Entry(*row) for row in tuples(rows)]


def feed_urls(web: Web, subscriber_id: int, feed_key: int) -> dict[str, str]:
    token = feed_token(web.signer, subscriber_id, feed_key)
    base = f"{web.app.settings.web_base_url}my/{token}/"
    return {"atom": base + "atom.xml", "json": base + "feed.json"}


def _reader(web: Web, token: str) -> tuple[int, int]:
    """(subscriber id, feed key) of a working feed URL; else 404 or 410."""
    try:
        subscriber_id, key = check_feed_token(web.signer, token, now=web.app.clock.now())
    except TokenError:
        abort(404)
    with web.app.engine.connect() as conn:
        row = conn.execute(
            select(subscribers.c.status, subscribers.c.feed_key).where(
                subscribers.c.id == subscriber_id
            )
        ).first()
    if row is None or row.feed_key != key or row.status not in ("active", "pending"):
        abort(410, description=N_("This private feed has ended."))
    if row.status != "active":
        abort(404)
    return subscriber_id, key


def _entries(web: Web, subscriber_id: int) -> list[tuple[Entry, str, str]]:
    """Each entry with its archive URL and public HTML."""
    settings = web.app.settings
    with web.app.engine.connect() as conn:
        found = received(conn, subscriber_id)
    out = []
    for entry in found:
        tz: tzinfo
        try:
            tz = settings.digest_timezone(settings.digest(entry.digest))
        except ConfigError:  # a digest since removed from config: UTC dates
            tz = UTC
        url = view_url(settings, entry.digest, edition_date(entry.period_end, tz))
        out.append((entry, url, public_html(entry.html, settings.web_base_url)))
    return out


def _title(web: Web) -> str:
    return web.t.gettext("%(title)s: your editions") % {"title": web.app.settings.site.title}


def _conditional(response: Response) -> BaseResponse:
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    response.add_etag()
    return response.make_conditional(request)


def atom(web: Web, token: str) -> BaseResponse:
    from feedgen.feed import FeedGenerator

    subscriber_id, key = _reader(web, token)
    settings = web.app.settings
    items = _entries(web, subscriber_id)
    feed = FeedGenerator()
    feed.id(_uuid("private", str(subscriber_id)))
    feed.title(_title(web))
    feed.subtitle(
        web.t.gettext("The editions %(title)s sends you by email.") % {"title": settings.site.title}
    )
    feed.link(href=feed_urls(web, subscriber_id, key)["atom"], rel="self")
    feed.link(href=settings.web_base_url, rel="alternate", type="text/html")
    author = settings.site.author
    feed.author({"name": author.name if author else settings.site.title})
    feed.language(settings.site.language)
    feed.updated(max((e.created_at for e, _, _ in items), default=_EPOCH))
    for entry, url, page in items:
        item = feed.add_entry(order="append")
        item.id(_uuid("edition", entry.digest, entry.period))
        item.title(entry.subject)
        item.link(href=url, rel="alternate", type="text/html")
        item.updated(entry.created_at)
        item.published(entry.created_at)
        item.content(page, type="html")
    return _conditional(Response(feed.atom_str(pretty=False), mimetype="application/atom+xml"))


def json_feed(web: Web, token: str) -> BaseResponse:
    subscriber_id, key = _reader(web, token)
    settings = web.app.settings
    body = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _title(web),
        "home_page_url": settings.web_base_url,
        "feed_url": feed_urls(web, subscriber_id, key)["json"],
        "language": settings.site.language,
        "items": [
            {
                "id": _uuid("edition", entry.digest, entry.period),
                "url": url,
                "title": entry.subject,
                "content_html": page,
                "date_published": entry.created_at.isoformat(),
            }
            for entry, url, page in _entries(web, subscriber_id)
        ],
    }
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return _conditional(Response(data, mimetype="application/feed+json"))
