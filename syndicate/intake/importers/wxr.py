"""WordPress eXtended RSS (WXR), the file Tools -> Export writes.

Published posts only: drafts, pending, private, scheduled, password-protected and
trashed posts, pages, attachments, menu items and custom post types are skipped (and
reported). Authors are the ``wp:author`` display names (``dc:creator`` holds the login;
the address stays private), dates come from ``wp:post_date_gmt``, categories and tags
become tags, the content is rendered with WordPress's paragraph rules, the featured
image (``_thumbnail_id``) becomes the article's image, and the post's ``guid`` is kept
as its feed id, so readers who followed the WordPress feed see no duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from lxml import etree

from syndicate.core.errors import ImportFailure
from syndicate.intake.importers.dates import parse_date
from syndicate.intake.importers.exports import ExportItem, Reader, absolutize, ensure_title, head
from syndicate.intake.importers.model import ParsedArticle, normalise_tags, normalise_uid, slugify
from syndicate.intake.importers.wpautop import render_post

_WP_NS = re.compile(r"^http://wordpress\.org/export/1\.\d+/$")
_SNIFF = re.compile(r"<rss\b[^>]*xmlns:wp=[\"']http://wordpress\.org/export/1\.\d+/", re.S)
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
NO_DATE = "0000-00-00 00:00:00"
GMT = ZoneInfo("UTC")
SKIPPED_STATUS = {
    "draft": "a draft",
    "pending": "pending review",
    "private": "private",
    "future": "scheduled, not yet published",
    "trash": "in the trash",
    "auto-draft": "an auto-draft",
    "inherit": "a revision",
}


def sniff(path: Path) -> bool:
    return bool(_SNIFF.search(head(path)))


@dataclass
class _Post:
    """The fields of one ``<item>`` that matter, copied out so the tree can be freed."""

    line: int
    fields: dict[str, str] = field(default_factory=dict)
    terms: list[tuple[str, str, str]] = field(default_factory=list)  # domain, nicename, name
    meta: dict[str, str] = field(default_factory=dict)


def _local(tag: str) -> tuple[str, str]:
    namespace, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, name


def _copy_item(element: etree._Element, wp: str) -> _Post:
    post = _Post(line=element.sourceline or 0)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        text = child.text or ""
        if child.tag == "category":
            post.terms.append((child.get("domain", ""), child.get("nicename", ""), text))
        elif child.tag == f"{{{wp}}}postmeta":
            key = child.findtext(f"{{{wp}}}meta_key") or ""
            post.meta[key] = child.findtext(f"{{{wp}}}meta_value") or ""
        elif child.tag == CONTENT:
            post.fields["content"] = text
        elif child.tag == DC_CREATOR:
            post.fields["creator"] = text.strip()
        else:
            namespace, name = _local(child.tag)
            if namespace in ("", wp) and name not in post.fields:
                post.fields[name] = text.strip()
            elif name == "encoded" and namespace.endswith("/excerpt/"):
                post.fields["excerpt"] = text
    return post


def _read_tree(path: Path) -> tuple[dict[str, str], list[_Post], dict[str, str], str | None]:
    """Authors (login -> display name), posts, attachment URLs by id, and the error that
    stopped the reading (a cut or broken file), if any; what came before it is kept."""
    authors: dict[str, str] = {}
    posts: list[_Post] = []
    attachments: dict[str, str] = {}
    wp = ""
    base = ""
    try:
        parser = etree.iterparse(
            str(path),
            events=("start-ns", "end"),
            resolve_entities=False,
            no_network=True,
        )
        for event, value in parser:
            if event == "start-ns":
                prefix, uri = value
                if prefix == "wp" and _WP_NS.match(uri):
                    wp = uri
                continue
            element = value
            if element.tag == f"{{{wp}}}author":
                login = (element.findtext(f"{{{wp}}}author_login") or "").strip()
                name = (element.findtext(f"{{{wp}}}author_display_name") or "").strip()
                if login:
                    authors[login] = name or login
                element.clear()
            elif element.tag == f"{{{wp}}}base_blog_url":
                base = (element.text or "").strip()
            elif element.tag == "item":
                post = _copy_item(element, wp)
                post.fields.setdefault("base", base)
                if post.fields.get("post_type") == "attachment":
                    url = post.fields.get("attachment_url", "")
                    if url:
                        attachments[post.fields.get("post_id", "")] = url
                posts.append(post)
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else 0
        with path.open("rb") as handle:
            last_line = sum(1 for _ in handle)
        if line >= last_line:
            problem = f"line {line}: the file ends in the middle of the export (cut short?)"
        else:
            problem = f"line {line}: broken XML ({exc.msg})"
        return authors, posts, attachments, problem
    if not wp:
        return authors, posts, attachments, "not a WordPress export (no wp: namespace)"
    return authors, posts, attachments, None


def _date(value: str, fallback: str, tz: ZoneInfo) -> datetime | None:
    if value and value != NO_DATE:
        try:
            return parse_date(value, GMT)
        except ValueError:
            pass
    if fallback:
        try:
            return parse_date(fallback, tz)
        except ValueError:
            return None
    return None


def _article(post: _Post, authors: dict[str, str], attachments: dict[str, str], tz: ZoneInfo):
    f = post.fields
    title = f.get("title", "").strip()
    article = ParsedArticle(title=title, body_html="", fmt="wordpress")
    base = f.get("link") or f.get("base") or None
    article.body_html = absolutize(render_post(f.get("content", "")), base)
    ensure_title(article, f"Post {f.get('post_id', '')}".strip())
    creator = f.get("creator", "")
    article.author_name = authors.get(creator, creator) or None
    article.published = _date(
        f.get("post_date_gmt", ""), f.get("pubDate") or f.get("post_date", ""), tz
    )
    article.updated = _date(f.get("post_modified_gmt", ""), f.get("post_modified", ""), tz)
    if article.updated and article.published and article.updated < article.published:
        article.updated = None
    names = [
        name
        for domain, nicename, name in post.terms
        if domain in ("category", "post_tag") and nicename != "uncategorized"
    ]
    article.tags = normalise_tags(names)
    slug = slugify(unquote(f.get("post_name", "")))
    article.slug = slug or None
    excerpt = f.get("excerpt", "").strip()
    article.summary = excerpt or None
    thumbnail = attachments.get(post.meta.get("_thumbnail_id", ""))
    if thumbnail:
        article.image_url = thumbnail
    guid = f.get("guid", "")
    try:
        article.uid = normalise_uid(guid) if guid else None
    except ValueError:
        article.uid = None
    return article


def _article_word(kind: str) -> str:
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


def _skip_reason(post: _Post) -> str | None:
    f = post.fields
    kind = f.get("post_type", "post")
    if kind != "post":
        return f"{_article_word(kind)}, not a post"
    status = f.get("status", "")
    if status != "publish":
        return f"not published ({SKIPPED_STATUS.get(status, status or 'no status')})"
    if f.get("post_password"):
        return "password-protected"
    return None


def read(path: Path, tz: ZoneInfo) -> Iterator[ExportItem]:
    authors, posts, attachments, problem = _read_tree(path)
    for post in posts:
        f = post.fields
        post_id = f.get("post_id", "?")
        title = f" ({f['title'][:60]})" if f.get("title") else ""
        label = f"{path}:{post.line}: post {post_id}{title}"
        key = "wordpress:" + (f.get("guid") or f"{f.get('base', '')}?p={post_id}")
        reason = _skip_reason(post)
        if reason:
            yield ExportItem(key, label, skip=reason)
            continue
        try:
            article = _article(post, authors, attachments, tz)
        except (ValueError, etree.ParserError) as exc:
            yield ExportItem(key, label, error=str(exc))
            continue
        yield ExportItem(key, label, article=article)
    if problem:
        raise ImportFailure(
            str(path),
            f"{problem}; the {len(posts)} entries before that point were read, "
            "the rest were not imported",
        )


READER = Reader("WordPress", sniff, read)
