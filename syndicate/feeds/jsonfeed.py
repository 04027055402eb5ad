"""JSON Feed 1.1, written with ``json`` (feedgen has none): sorted keys, stable bytes.

Paging: the live feed's ``next_url`` is the newest archive page, and each archive
page's ``next_url`` the page before it (JSON Feed pages go from new to old).
"""

from __future__ import annotations

import json
from typing import Any

from syndicate.feeds.model import Entry, Page

VERSION = "https://jsonfeed.org/version/1.1"


def _author(name: str | None) -> list[dict[str, str]]:
    return [{"name": name}] if name else []


def _item(entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.url,
        "title": entry.title,
        "summary": entry.summary,
        "date_published": entry.published.isoformat(),
        "date_modified": entry.updated.isoformat(),
    }
    if entry.content_html is not None:
        item["content_html"] = entry.content_html
        item["content_text"] = entry.content_text or entry.summary
    else:
        item["content_text"] = entry.summary
    if entry.author_name:
        item["authors"] = _author(entry.author_name)
    if entry.tags:
        item["tags"] = list(entry.tags)
    media = entry.media
    if media is not None:
        if media.mime_type.startswith("image/"):
            item["image"] = media.url
        attachment: dict[str, Any] = {"url": media.url, "mime_type": media.mime_type}
        if media.length:
            attachment["size_in_bytes"] = media.length
        item["attachments"] = [attachment]
    return item


def render_json(page: Page, entries: list[Entry]) -> bytes:
    spec = page.spec
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": spec.title,
        "description": spec.description,
        "home_page_url": spec.home_url,
        "feed_url": spec.url(page.folder, "json"),
        "language": spec.language,
        "authors": _author(spec.author_name),
        "items": [_item(entry) for entry in entries],
    }
    older = page.link("prev-archive")
    if older is not None:
        feed["next_url"] = spec.url(older, "json")
    if page.is_live and spec.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in spec.hubs]
    if spec.icon:
        feed["icon"] = spec.icon
        feed["favicon"] = spec.icon
    # Compact, so the C encoder does the work; sorted keys keep the bytes stable.
    text = json.dumps(feed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")
