"""Save a parsed article: find the stored one it replaces, sanitise, insert or update.

Identity (DESIGN rule 2): an article is the same article when it comes from the same
source file, else carries the same front-matter ``id``, else (a renamed file) has the
same content as an article whose source file is gone. Its ``uid`` is minted once and
never changes; its slug only changes when the front matter says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Connection

from syndicate import articles as store
from syndicate.core.config import Settings
from syndicate.core.db import article_tags, articles
from syndicate.core.errors import ImportFailure
from syndicate.core.sanitize import (
    POLICY_VERSION,
    absolute_url,
    html_to_text,
    policy_key,
    sanitize_html,
    strip_control_chars,
    summary_from_html,
)
from syndicate.intake.importers.model import ParsedArticle, slugify

log = logging.getLogger(__name__)

# Bump when parsing or sanitising changes output, so a re-import refreshes articles.
IMPORTER_VERSION = 1
MAX_SLUG_SUFFIX = 10_000
UID_MAX = 200  # articles.uid is String(200); a longer tag: URI falls back to urn:uuid


@dataclass(frozen=True)
class Saved:
    status: str  # imported | updated | unchanged | would-import | would-update
    slug: str
    uid: str


def fingerprint(parsed: ParsedArticle, settings: Settings) -> str:
    """A hash of everything that shapes the stored article (not of the file's path)."""
    data = {
        "version": IMPORTER_VERSION,
        "policy": POLICY_VERSION,  # a new sanitise policy re-cleans on the next import
        "site": settings.site.url,
        "iframes": sorted(settings.site.iframe_hosts),
        "fmt": parsed.fmt,
        "title": parsed.title,
        "body": parsed.body_html,
        "author": [parsed.author_name, parsed.author_email],
        "published": parsed.published.isoformat() if parsed.published else None,
        "updated": parsed.updated.isoformat() if parsed.updated else None,
        "tags": sorted(parsed.tags),
        "summary": parsed.summary,
        "slug": parsed.slug,
        "uid": parsed.uid,
        "image": [parsed.image_url, parsed.image_type, parsed.image_length],
        "draft": parsed.draft,
    }
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def _free_slug(conn: Connection, base: str, own_slug: str | None, name: str) -> str:
    if base == own_slug or not store.taken(conn, "slug", base):
        return base  # the common case, one index lookup: no scan of every slug
    taken = store.slugs_like(conn, base) - ({own_slug} if own_slug else set())
    if base not in taken:
        return base
    for number in range(2, MAX_SLUG_SUFFIX):
        candidate = f"{base}-{number}"
        if candidate not in taken:
            return candidate
    raise ImportFailure(name, f"no free slug left for {base!r}")


def _mint_uid(conn: Connection, settings: Settings, slug: str, published: datetime) -> str:
    """A tag: URI (RFC 4151) from the site's host, the publication date and the slug:
    readable and reproducible, and stored so later changes of any of them do not matter."""
    host = urlsplit(settings.site.url).hostname or "localhost"
    local_day = published.astimezone(ZoneInfo(settings.site.timezone)).date()
    uid = f"tag:{host},{local_day.isoformat()}:{slug}"
    if len(uid) <= UID_MAX and not store.taken(conn, "uid", uid):
        return uid
    return f"urn:uuid:{uuid4()}"


def _match(
    conn: Connection, parsed: ParsedArticle, source: str, digest: str, name: str
) -> tuple[store.Article | None, str | None]:
    """The stored article this file is, and why (for the report)."""
    existing = store.by_source(conn, source)
    if existing is not None:
        if parsed.uid and parsed.uid != existing.uid:
            parsed.warnings.append(
                f"front-matter id {parsed.uid} differs from the stored id {existing.uid}; "
                "the stored id is kept (ids never change)"
            )
        return existing, None
    if parsed.uid:
        existing = store.find(conn, parsed.uid)
        if existing is not None and existing.uid == parsed.uid:
            if existing.source and existing.source != source and Path(existing.source).exists():
                raise ImportFailure(name, f"id {parsed.uid} is already used by {existing.source}")
            return existing, existing.source
    for candidate in store.by_content_hash(conn, digest):
        if candidate.source is None or not Path(candidate.source).exists():
            return candidate, candidate.source
    return None, None


def save(
    conn: Connection,
    settings: Settings,
    parsed: ParsedArticle,
    *,
    source: str,
    name: str,
    file_time: datetime,
    now: datetime,
    dry_run: bool = False,
) -> Saved:
    """Insert or update one article inside the caller's transaction."""
    digest = fingerprint(parsed, settings)
    existing, renamed_from = _match(conn, parsed, source, digest, name)
    if existing is not None and existing.content_hash == digest and existing.source == source:
        return Saved("unchanged", existing.slug, existing.uid)
    if renamed_from:
        parsed.warnings.append(f"renamed from {renamed_from}")

    if existing is None:
        slug = _free_slug(conn, parsed.slug or slugify(parsed.title) or "article", None, name)
        if parsed.published is None:
            parsed.warnings.append(
                f"no date in the file; using its modification time {file_time.isoformat()}"
            )
        published = parsed.published or file_time
    else:
        wanted = parsed.slug or existing.slug
        slug = (
            existing.slug
            if wanted == existing.slug
            else _free_slug(conn, wanted, existing.slug, name)
        )
        published = parsed.published or existing.published_at
    if dry_run:
        return Saved("would-import" if existing is None else "would-update", slug, "")

    site = settings.site
    html = sanitize_html(
        parsed.body_html,
        base_url=site.url,
        page_url=store.page_url(site.url, slug),
        iframe_hosts=site.iframe_hosts,
    )
    text = strip_control_chars(html_to_text(html))  # feeds use it as stored (sanitized_with)
    if not text.strip() and "<img" not in html:
        raise ImportFailure(name, "the article has no body text after its title")
    image_url = absolute_url(parsed.image_url, site.url) if parsed.image_url else None
    if parsed.image_url and image_url is None:
        parsed.warnings.append(f"image {parsed.image_url!r} is not an http(s) URL; ignored")
    image_type = store.valid_mime_type(parsed.image_type) if image_url else None
    if image_url and parsed.image_type and image_type is None:
        parsed.warnings.append(
            f"image type {parsed.image_type[:60]!r} is not a media type; ignored"
        )
    values = {
        "slug": slug,
        "source": source,
        "source_format": parsed.fmt,
        "title": parsed.title,
        "author_name": parsed.author_name,
        "author_email": parsed.author_email,
        "summary": parsed.summary or summary_from_html(html),
        "content_html": html,
        "content_text": text,
        "image_url": image_url,
        "image_type": image_type,
        "image_length": parsed.image_length if image_url else None,
        "published_at": published,
        "draft": parsed.draft,
        "content_hash": digest,
        "imported_at": now,
        "sanitized_with": policy_key(site.url, site.iframe_hosts),
    }
    if existing is None:
        uid = parsed.uid or _mint_uid(conn, settings, slug, published)
        values["uid"] = uid
        values["updated_at"] = parsed.updated or published
        # The values as parameters, not in the statement: one compiled INSERT serves all.
        article_id = conn.execute(insert(articles), values).inserted_primary_key[0]
        status = "imported"
    else:
        uid = existing.uid
        article_id = existing.id
        # A config change (site.url, iframe_hosts, the importer version) changes the
        # fingerprint of every article: only a change a reader sees is an update.
        same_text = (existing.title, existing.content_html, existing.summary) == (
            values["title"],
            values["content_html"],
            values["summary"],
        )
        if parsed.updated is not None:
            values["updated_at"] = parsed.updated
        elif existing.content_hash == digest or same_text:
            values["updated_at"] = existing.updated_at
        else:
            values["updated_at"] = max(now, published)
        conn.execute(update(articles).where(articles.c.id == article_id).values(**values))
        conn.execute(delete(article_tags).where(article_tags.c.article_id == article_id))
        status = "updated"
    if parsed.tags:
        conn.execute(
            insert(article_tags), [{"article_id": article_id, "tag": tag} for tag in parsed.tags]
        )
    store.mark_changed(conn)
    log.info("%s article %s (%s)", status, slug, uid)
    return Saved(status, slug, uid)
