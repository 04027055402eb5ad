"""What a search engine or a chat app reads from the public pages: the meta description,
canonical link, Open Graph and Twitter card tags and JSON-LD of the archive pages, and
``sitemap.xml`` and ``robots.txt``.

One template (``web/seo_head.html``) writes the tags for every page, with Jinja's
escaping: attribute values are HTML-escaped and the JSON-LD goes through ``tojson``
(``<``, ``>``, ``&`` and quotes as ``\\u`` escapes), so a title holding ``"`` or
``</script>`` cannot leave its attribute or script element. Every URL is absolute,
built from ``web.base_url`` (where the archive is served).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import Response, request
from lxml import etree
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from syndicate.core.config import DigestSettings, Settings
from syndicate.core.db import articles, edition_articles
from syndicate.core.i18n import translator
from syndicate.core.render import render
from syndicate.core.sanitize import absolute_url, summarize
from syndicate.feeds.model import plain_text
from syndicate.web.context import Web

DESCRIPTION_LIMIT = 200
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP_LIMIT = 50_000  # URLs in one sitemap file (the protocol's limit)
# Paths no crawler should fetch or index: the console and API, token links (confirm,
# unsubscribe, preferences), click redirects, provider webhooks and metrics.
PRIVATE_PATHS = (
    "admin/",
    "api/",
    "confirm/",
    "unsubscribe",
    "preferences",
    "r/",
    "my/",  # readers' private feeds: signed URLs, never for an index
    "webhooks/",
    "metrics",
)


@dataclass(frozen=True)
class PageMeta:
    """The share and search tags of one public page."""

    title: str
    description: str
    url: str  # canonical, absolute
    site_name: str
    language: str
    kind: str = "website"  # og:type: website | article
    image: str | None = None
    json_ld: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lead:
    """The article an edition opens with, and the first picture in the edition."""

    title: str | None
    summary: str | None
    image: str | None
    titles: tuple[str, ...]


def describe(text: str | None) -> str:
    """One line of plain text, cut at a word boundary: what a search result shows."""
    return summarize(plain_text(text or ""), DESCRIPTION_LIMIT)


def leads(web: Web, edition_ids: list[int]) -> dict[int, Lead]:
    """Per edition: its first article, its first image and its article titles, in order."""
    if not edition_ids:
        return {}
    site_url = web.app.settings.site.url
    with web.app.engine.connect() as conn:
        rows = conn.execute(
            select(
                edition_articles.c.edition_id,
                articles.c.title,
                articles.c.summary,
                articles.c.image_url,
            )
            .join(articles, articles.c.id == edition_articles.c.article_id)
            .where(edition_articles.c.edition_id.in_(edition_ids))
            .order_by(edition_articles.c.edition_id, edition_articles.c.position)
        ).all()
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.edition_id, []).append(row)
    found: dict[int, Lead] = {}
    for edition_id, items in grouped.items():
        images = (absolute_url(r.image_url, site_url) for r in items if r.image_url)
        image = next((url for url in images if url and url.startswith(("http:", "https:"))), None)
        titles = tuple(plain_text(r.title) for r in items)
        found[edition_id] = Lead(titles[0], items[0].summary, image, titles)
    return found


def edition_meta(
    settings: Settings, digest: DigestSettings, subject: str, url: str, published: str, lead: Lead
) -> PageMeta:
    """An edition page: a ``NewsArticle`` in the digest's ``CollectionPage``."""
    title = plain_text(subject) or digest.title
    description = describe(" · ".join(lead.titles) or lead.summary or digest.description)
    index_url = f"{settings.web_base_url}digests/{digest.name}/"
    publisher = {"@type": "Organization", "name": settings.site.title, "url": settings.site.url}
    json_ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": summarize(title, 110),
        "description": description,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": published,
        "inLanguage": settings.site.language,
        "author": publisher,
        "publisher": publisher,
        "isPartOf": {"@type": "CollectionPage", "name": digest.title, "url": index_url},
    }
    if lead.image:
        json_ld["image"] = [lead.image]
    return PageMeta(
        title=title,
        description=description,
        url=url,
        site_name=settings.site.title,
        language=settings.site.language,
        kind="article",
        image=lead.image,
        json_ld=json_ld,
    )


def index_meta(
    settings: Settings, digest: DigestSettings, editions: list[tuple[str, str]], image: str | None
) -> PageMeta:
    """A digest's archive: a ``CollectionPage`` listing its editions (url, name)."""
    url = f"{settings.web_base_url}digests/{digest.name}/"
    t = translator(settings.site.language, settings.templates_dir)
    description = describe(
        digest.description or t.gettext("Past editions of %(title)s.") % {"title": digest.title}
    )
    json_ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": plain_text(digest.title),
        "description": description,
        "url": url,
        "inLanguage": settings.site.language,
        "isPartOf": {"@type": "WebSite", "name": settings.site.title, "url": settings.site.url},
        "mainEntity": {
            "@type": "ItemList",
            "numberOfItems": len(editions),
            "itemListElement": [
                {"@type": "ListItem", "position": n, "url": link, "name": plain_text(name)}
                for n, (link, name) in enumerate(editions, start=1)
            ],
        },
    }
    if image:
        json_ld["image"] = image
    return PageMeta(
        title=plain_text(digest.title),
        description=description,
        url=url,
        site_name=settings.site.title,
        language=settings.site.language,
        image=image,
        json_ld=json_ld,
    )


def head_tags(settings: Settings, meta: PageMeta) -> str:
    """The ``<head>`` tags of ``meta``, escaped by the template."""
    return render(
        settings.templates_dir, "web/seo_head.html", language=settings.site.language, meta=meta
    )


def with_head_tags(html: str, tags: str) -> str:
    """Stored edition HTML with ``tags`` placed at the end of its ``<head>`` (before the
    body when it has no head: still inside the document's head in HTML parsing)."""
    lowered = html.lower()
    end = lowered.find("</head>")
    if end == -1:
        end = lowered.find("<body")
    if end == -1:
        return tags + html
    return html[:end] + tags + html[end:]


# -- sitemap.xml and robots.txt -----------------------------------------------------------


def sitemap_entries(web: Web) -> list[tuple[str, str | None]]:
    """(absolute URL, lastmod date) of every public page: the subscribe page, each
    digest's archive and each of its editions."""
    from syndicate.web.archive import archived  # archive renders with this module's tags

    settings = web.app.settings
    base = settings.web_base_url
    entries: list[tuple[str, str | None]] = [(base, None)]
    if (settings.feeds_dir / "index.html").is_file():
        entries.append((f"{base}feeds/", None))
    for digest in settings.digests:
        items = archived(web, digest)
        newest = items[0].created_at.date().isoformat() if items else None
        entries.append((f"{base}digests/{digest.name}/", newest))
        entries += [
            (f"{base}digests/{digest.name}/{item.date}", item.created_at.date().isoformat())
            for item in items
        ]
    return entries[:SITEMAP_LIMIT]


def sitemap(web: Web) -> BaseResponse:
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS})
    for loc, lastmod in sitemap_entries(web):
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = loc
        if lastmod:
            etree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = lastmod
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return _cached(Response(body, mimetype="application/xml"))


def robots(web: Web) -> BaseResponse:
    """Crawlers keep out of the console, token links and redirects; the sitemap is named."""
    base = web.app.settings.web_base_url
    prefix = urlsplit(base).path or "/"
    lines = ["User-agent: *", *(f"Disallow: {prefix}{path}" for path in PRIVATE_PATHS)]
    lines += ["", f"Sitemap: {base}sitemap.xml", ""]
    return _cached(Response("\n".join(lines), mimetype="text/plain"))


def _cached(response: Response) -> BaseResponse:
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.add_etag()
    return response.make_conditional(request)
