"""A Substack export folder: ``posts.csv`` plus ``posts/<id>.<slug>.html``.

``posts.csv`` lists every post (``post_id``, ``post_date``, ``is_published``, ``type``,
``audience``, ``title``, ``subtitle`` ...); each HTML file holds one post's body. Only
published posts are imported; the subtitle becomes the summary. Substack does not
export tags or authors, so articles carry the site's author.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate.core.errors import ImportFailure
from syndicate.intake.importers.dates import parse_date
from syndicate.intake.importers.exports import ExportItem, Reader, ensure_title, head, inside
from syndicate.intake.importers.model import ParsedArticle, slugify
from syndicate.intake.importers.reading import read_text

REQUIRED = ("post_id", "is_published", "title")
UTC = ZoneInfo("UTC")
# A post id names a file: path separators, parent steps and glob patterns would reach
# files outside the export (``../../private/key``) or other posts.
_UNSAFE_ID = re.compile(r"[/\\*?\[\]\x00]|\.\.")


def export_folder(path: Path) -> Path | None:
    """The export folder ``path`` is or names (the folder, or its posts.csv)."""
    folder = path.parent if path.name == "posts.csv" else path
    listing = folder / "posts.csv"
    if not (folder.is_dir() and listing.is_file() and (folder / "posts").is_dir()):
        return None
    first = head(listing).split("\n", 1)[0]
    return folder if all(column in first for column in ("post_id", "is_published")) else None


def sniff(path: Path) -> bool:
    return export_folder(path) is not None


def _body_file(folder: Path, post_id: str) -> Path | None:
    """The post's body file, only ever inside the export folder (no link out)."""
    posts = folder / "posts"
    if not inside(posts, folder):
        return None
    candidate = posts / f"{post_id}.html"
    if candidate.is_file() and inside(candidate, folder):
        return candidate
    number = post_id.split(".", 1)[0]
    matches = sorted(m for m in posts.glob(f"{number}.*html") if inside(m, folder))
    return matches[0] if matches else None


def read(path: Path, tz: ZoneInfo) -> Iterator[ExportItem]:
    folder = export_folder(path) or path
    listing = folder / "posts.csv"
    if not inside(listing, folder):
        raise ImportFailure(str(listing), f"leads to {listing.resolve()}, outside the export")
    text, _ = read_text_any(listing)
    reader = csv.DictReader(text.splitlines())
    try:
        yield from _items(folder, listing, reader)
    except csv.Error as exc:  # the broken record starts after the lines read so far
        line = reader.line_num + 1
        raise ImportFailure(str(listing), f"broken CSV: {exc}", line=line) from None


def _items(folder: Path, listing: Path, reader: csv.DictReader) -> Iterator[ExportItem]:
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ImportFailure(
            str(listing), f"not a Substack posts.csv: no {', '.join(missing)} column"
        )
    for row in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        post_id = row["post_id"]
        number, _, slug = post_id.partition(".")
        label = f"{listing}:{reader.line_num}: post {post_id}"
        key = f"substack:{number or post_id}"
        if row.get("is_published", "").lower() != "true":
            yield ExportItem(key, label, skip="not published (a draft)")
            continue
        if not post_id or _UNSAFE_ID.search(post_id):
            yield ExportItem(key, label, error="post_id is not a Substack post id")
            continue
        body_path = _body_file(folder, post_id)
        if body_path is None:
            yield ExportItem(key, label, error=f"no posts/{post_id}.html in the export")
            continue
        try:
            body, warnings = read_text(body_path)
        except ImportFailure as failure:
            yield ExportItem(key, label, error=failure.message)
            continue
        article = ParsedArticle(title=row.get("title", ""), body_html=body, fmt="substack")
        article.warnings.extend(warnings)
        ensure_title(article, slug.replace("-", " ").capitalize() or f"Post {number}")
        article.summary = row.get("subtitle") or None
        article.slug = slugify(slug) or None
        date = row.get("post_date") or row.get("email_sent_at")
        try:
            article.published = parse_date(date, UTC) if date else None
        except ValueError as exc:
            yield ExportItem(key, label, error=f"post_date: {exc}")
            continue
        yield ExportItem(key, label, article=article)


def read_text_any(path: Path) -> tuple[str, list[str]]:
    """posts.csv as text (no article size limit applies to the listing)."""
    try:
        return path.read_text(encoding="utf-8-sig"), []
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailure(str(path), f"cannot be read as UTF-8 text ({exc})") from None


READER = Reader("Substack", sniff, read)
