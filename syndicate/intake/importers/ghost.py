"""Ghost's JSON export (Settings -> Labs -> Export your content).

The file is ``{"db": [{"meta": {...}, "data": {"posts": [...], "tags": [...], ...}}]}``;
posts link to tags and authors through ``posts_tags`` and ``posts_authors``. Published
posts only (drafts, scheduled posts and pages are skipped); internal tags (``#name``)
are dropped; ``__GHOST_URL__``, Ghost's placeholder for its own address, resolves
against ``site.url`` with a warning, as the export does not say where the site was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from syndicate.core.errors import ImportFailure
from syndicate.intake.importers.dates import parse_date
from syndicate.intake.importers.exports import ExportItem, Reader, head
from syndicate.intake.importers.model import ParsedArticle, normalise_tags, slugify

MAX_EXPORT_BYTES = 512 * 1024 * 1024
_SNIFF = re.compile(r'^\s*\{\s*"(?:db|meta)"\s*:')
GHOST_URL = "__GHOST_URL__"
UTC = ZoneInfo("UTC")


def sniff(path: Path) -> bool:
    text = head(path)
    return bool(_SNIFF.match(text)) and ('"exported_on"' in text or '"posts"' in text)


def _dataset(document: Any) -> dict[str, Any]:
    """``data`` of the export, or ValueError saying what shape was found instead."""
    if isinstance(document, dict) and isinstance(document.get("db"), list) and document["db"]:
        document = document["db"][0]
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise ValueError('not a Ghost export: expected {"db": [{"meta": ..., "data": ...}]}')
    data = document["data"]
    if not isinstance(data.get("posts"), list):
        raise ValueError("not a Ghost export: data.posts is missing or not a list")
    for name in ("tags", "users", "posts_tags", "posts_authors"):
        if not isinstance(data.get(name, []), list):
            raise ValueError(f"not a Ghost export: data.{name} is not a list")
    return data


def _links(rows: list[Any], own: str, other: str) -> dict[str, list[str]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        if isinstance(row, dict) and row.get(own) is not None and row.get(other) is not None:
            order = row.get("sort_order") if isinstance(row.get("sort_order"), int) else 0
            found.setdefault(str(row[own]), []).append((order, str(row[other])))
    return {key: [value for _, value in sorted(values)] for key, values in found.items()}


def _by_id(rows: list[Any]) -> dict[str, dict[str, Any]]:
    return {str(row["id"]): row for row in rows if isinstance(row, dict) and "id" in row}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _article(post: dict[str, Any], tags: list[str], author: str | None, tz: ZoneInfo):
    body = post.get("html")
    if not isinstance(body, str) or not body.strip():
        raise ValueError("the post has no HTML (an old export with mobiledoc only?)")
    article = ParsedArticle(title=_text(post.get("title")), body_html=body, fmt="ghost")
    published = _text(post.get("published_at"))
    if published:
        article.published = parse_date(published, UTC)
    updated = _text(post.get("updated_at"))
    if updated:
        article.updated = parse_date(updated, UTC)
        if article.published and article.updated < article.published:
            article.updated = None
    article.tags = normalise_tags(tags)
    article.author_name = author
    article.slug = slugify(_text(post.get("slug"))) or None
    article.summary = _text(post.get("custom_excerpt")) or None
    image = _text(post.get("feature_image"))
    if image:
        article.image_url = image.replace(GHOST_URL, "")
    if GHOST_URL in body:
        article.body_html = body.replace(GHOST_URL, "")
        article.warnings.append("links to the Ghost site (__GHOST_URL__) resolve against site.url")
    return article


def read(path: Path, tz: ZoneInfo) -> Iterator[ExportItem]:
    name = str(path)
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise ImportFailure(name, "the export is larger than 512 MB")
        document = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise ImportFailure(name, f"broken JSON: {exc.msg}", line=exc.lineno) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailure(name, f"cannot be read: {exc}") from None
    except RecursionError:
        raise ImportFailure(name, "the JSON is nested too deeply") from None
    try:
        data = _dataset(document)
    except ValueError as exc:
        raise ImportFailure(name, str(exc)) from None
    tags = _by_id(data.get("tags", []))
    users = _by_id(data.get("users", []))
    post_tags = _links(data.get("posts_tags", []), "post_id", "tag_id")
    post_authors = _links(data.get("posts_authors", []), "post_id", "author_id")
    for index, post in enumerate(data["posts"]):
        if not isinstance(post, dict):
            yield ExportItem(f"ghost:{name}#{index}", f"{name}: posts[{index}]",
                             error="a post must be an object")  # fmt: skip
            continue
        post_id = str(post.get("uuid") or post.get("id") or index)
        label = f"{name}: post {_text(post.get('slug')) or post_id}"
        key = f"ghost:{post_id}"
        # Ghost before 2.x marks pages with "page": true instead of "type": "page"
        kind = post.get("type") or ("page" if post.get("page") in (True, 1) else "post")
        status = post.get("status")
        if kind != "post":
            yield ExportItem(key, label, skip=f"a {kind}, not a post")
            continue
        if status != "published":
            yield ExportItem(key, label, skip=f"not published ({status})")
            continue
        names = [
            _text(tags[t].get("name"))
            for t in post_tags.get(str(post.get("id")), [])
            if t in tags
            and tags[t].get("visibility", "public") == "public"
            and not _text(tags[t].get("name")).startswith("#")
        ]
        author_ids = post_authors.get(str(post.get("id")), [])
        if not author_ids and post.get("author_id") is not None:  # Ghost 1.x
            author_ids = [str(post["author_id"])]
        author = next(
            (
                _text(users[a].get("name"))
                for a in author_ids
                if a in users and users[a].get("name")
            ),
            None,
        )
        try:
            article = _article(post, names, author, tz)
        except ValueError as exc:
            yield ExportItem(key, label, error=str(exc))
            continue
        yield ExportItem(key, label, article=article)


READER = Reader("Ghost", sniff, read)
