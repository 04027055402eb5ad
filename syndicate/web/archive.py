"""The public archive of each digest: an index, one page per edition, an Atom feed.

Pages come from the stored ``editions`` rows; the per-recipient placeholders are
replaced with generic values by ``messages.public_html`` (the one place that knows
them), so no subscriber's link ever appears here. Listings read only the light
columns; an edition's HTML is loaded only when it is rendered.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from flask import Response, abort, request
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from syndicate.core.config import DigestSettings
from syndicate.core.db import editions, tuples
from syndicate.core.errors import ConfigError
from syndicate.delivery.messages import public_html as generic_html
from syndicate.digest.render import view_url
from syndicate.digest.windows import edition_date
from syndicate.web import seo
from syndicate.web.context import Web
from syndicate.web.security import EDITION_CSP

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ArchivedEdition:
    id: int
    date: str
    period: str
    subject: str
    created_at: datetime


def _digest(web: Web, name: str) -> DigestSettings:
    try:
        return web.app.settings.digest(name)
    except ConfigError:
        abort(404)


def archived(web: Web, digest: DigestSettings) -> list[ArchivedEdition]:
    """Composed editions, newest first; one per date (the latest that day)."""
    tz = web.app.settings.digest_timezone(digest)
    with web.app.engine.connect() as conn:
        rows = conn.execute(
            select(
                editions.c.id,
                editions.c.period,
                editions.c.period_end,
                editions.c.subject,
                editions.c.created_at,
            )
            .where(editions.c.digest == digest.name, editions.c.status == "composed")
            .order_by(editions.c.period.desc())
        ).mappings()
        found: dict[str, ArchivedEdition] = {}
        for row in rows:
            date = edition_date(row["period_end"], tz)  # period_end is the slot
            if date not in found:
                found[date] = ArchivedEdition(
                    id=row["id"],
                    date=date,
                    period=row["period"],
                    subject=str(row["subject"]),
                    created_at=row["created_at"],
                )
    return list(found.values())


def public_pages(web: Web, items: list[ArchivedEdition]) -> dict[int, str]:
    """The public HTML of these editions by id: their HTML is read only here."""
    if not items:
        return {}
    with web.app.engine.connect() as conn:
        rows = conn.execute(
            select(editions.c.id, editions.c.html).where(
                editions.c.id.in_([item.id for item in items])
            )
        )
    base_url = web.app.settings.web_base_url
    return {edition_id: generic_html(html, base_url) for edition_id, html in tuples(rows)}


def index(web: Web, name: str) -> BaseResponse:
    digest = _digest(web, name)
    settings = web.app.settings
    items = archived(web, digest)
    newest = seo.leads(web, [items[0].id]).get(items[0].id) if items else None
    listed = [(view_url(settings, digest.name, i.date), i.subject) for i in items]
    meta = seo.index_meta(settings, digest, listed, newest.image if newest else None)
    tags = Markup(seo.head_tags(settings, meta))  # noqa: S704 - rendered with autoescape
    return web.page("digest_index.html", digest=digest, editions=items, seo=tags)


def edition(web: Web, name: str, date: str) -> BaseResponse:
    digest = _digest(web, name)
    if not _DATE.match(date):
        abort(404)
    settings = web.app.settings
    for item in archived(web, digest):
        if item.date == date:
            url = view_url(settings, digest.name, item.date)
            lead = seo.leads(web, [item.id]).get(item.id) or seo.Lead(None, None, None, ())
            published = item.created_at.astimezone(UTC).isoformat()
            meta = seo.edition_meta(settings, digest, item.subject, url, published, lead)
            page = seo.with_head_tags(
                public_pages(web, [item])[item.id], seo.head_tags(settings, meta)
            )
            response = Response(page, mimetype="text/html")
            response.headers["Content-Security-Policy"] = EDITION_CSP
            response.headers["Cache-Control"] = "public, max-age=3600"
            response.add_etag()
            return response.make_conditional(request)
    abort(404)


def _uuid(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'syndicate:' + ':'.join(parts))}"


def atom(web: Web, name: str) -> BaseResponse:
    """An Atom feed of the editions; ids are minted from (digest, period), never URLs."""
    digest = _digest(web, name)
    settings = web.app.settings
    base = f"{settings.web_base_url}digests/{digest.name}/"
    items = archived(web, digest)[:50]
    pages = public_pages(web, items)
    feed = FeedGenerator()
    feed.id(_uuid("digest", digest.name))
    feed.title(digest.title)
    feed.subtitle(digest.description or digest.title)
    feed.link(href=base + "atom.xml", rel="self", type="application/atom+xml")
    feed.link(href=base, rel="alternate", type="text/html")
    author = settings.site.author
    feed.author({"name": author.name if author else settings.site.title})
    feed.language(settings.site.language)
    feed.updated(max((i.created_at for i in items), default=_EPOCH))
    for item in items:
        entry = feed.add_entry(order="append")
        entry.id(_uuid("edition", digest.name, item.period))
        entry.title(item.subject)
        entry.link(
            href=view_url(settings, digest.name, item.date), rel="alternate", type="text/html"
        )
        entry.updated(item.created_at)
        entry.published(item.created_at)
        entry.content(pages[item.id], type="html")
    response = Response(feed.atom_str(pretty=False), mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.add_etag()
    return response.make_conditional(request)
