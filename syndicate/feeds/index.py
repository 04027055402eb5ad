"""The feed list: ``index.html`` (with autodiscovery links) and ``feeds.opml``.

Both depend only on which feeds exist, so they change when the config or the set
of tags does, never on a plain rebuild.
"""

from __future__ import annotations

from html import escape

from lxml import etree

from syndicate.core.config import Settings
from syndicate.feeds.files import FEED_FILES, MEDIA_TYPES
from syndicate.feeds.model import FeedSpec

FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


def _media_type(fmt: str) -> str:
    return MEDIA_TYPES[FEED_FILES[fmt]].split(";")[0]


def _feed_item(spec: FeedSpec) -> str:
    links = " ".join(
        f'<a href="{escape(spec.url(spec.path, fmt))}" type="{_media_type(fmt)}">'
        f"{FORMAT_LABELS[fmt]}</a>"
        for fmt in spec.formats
    )
    return f"<li><strong>{escape(spec.title)}</strong> {links}</li>"


def render_index(settings: Settings, feeds: list[FeedSpec], tag_feeds: list[FeedSpec]) -> bytes:
    site = settings.site
    discovery = "\n".join(
        f'<link rel="alternate" type="{_media_type(fmt)}" '
        f'title="{escape(f"{spec.title} ({FORMAT_LABELS[fmt]})")}" '
        f'href="{escape(spec.url(spec.path, fmt))}">'
        for spec in feeds
        for fmt in spec.formats
    )
    parts = [
        "<!doctype html>",
        f'<html lang="{escape(site.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Feeds: {escape(site.title)}</title>",
        discovery,
        "</head>",
        "<body>",
        f'<h1>Feeds of <a href="{escape(site.url)}">{escape(site.title)}</a></h1>',
        "<ul>",
        *(_feed_item(spec) for spec in feeds),
        "</ul>",
    ]
    if tag_feeds:
        parts += ["<h2>By tag</h2>", "<ul>", *(_feed_item(spec) for spec in tag_feeds), "</ul>"]
    opml = escape(site.public_feeds_url + "feeds.opml")
    parts += [f'<p><a href="{opml}">All feeds as OPML</a></p>', "</body>", "</html>", ""]
    return "\n".join(part for part in parts if part).encode("utf-8") + b"\n"


def render_opml(settings: Settings, feeds: list[FeedSpec]) -> bytes:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"Feeds: {settings.site.title}"
    body = etree.SubElement(root, "body")
    for spec in feeds:
        fmt = next((f for f in ("rss", "atom", "json") if f in spec.formats), None)
        if fmt is None:
            continue
        etree.SubElement(
            body,
            "outline",
            type="rss",
            text=spec.title,
            title=spec.title,
            xmlUrl=spec.url(spec.path, fmt),
            htmlUrl=spec.home_url,
        )
    return etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=True)
