"""``syndicate new "Title"``: a Markdown article with front matter, ready to edit.

The front matter is written with PyYAML (titles with quotes or colons stay valid)
and read back by the Markdown importer the same way as any article; the file is
never overwritten.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml

from syndicate.core.errors import SyndicateError
from syndicate.intake.importers.model import slugify

BODY = "<!-- Write the article below, then run `syndicate import {folder}`. -->\n\n"


def article_text(title: str, *, published: datetime, tags: list[str], draft: bool) -> str:
    front: dict[str, object] = {"title": title, "date": published.isoformat(timespec="minutes")}
    if tags:
        front["tags"] = tags
    if draft:
        front["draft"] = True
    dumped = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{dumped}---\n\n"


def new_article(
    folder: Path, title: str, *, published: datetime, tags: list[str], draft: bool = False
) -> Path:
    """Write ``folder/<slug>.md``; an existing file is an error naming it."""
    title = " ".join(title.split())
    if not title:
        raise SyndicateError("the title is empty", hint='syndicate new "A title"')
    slug = slugify(title) or f"article-{published:%Y-%m-%d-%H%M}"
    path = folder / f"{slug}.md"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:  # "x": never overwrite
            file.write(article_text(title, published=published, tags=tags, draft=draft))
            file.write(BODY.format(folder=folder))
    except FileExistsError:
        raise SyndicateError(
            f"{path} already exists", hint="edit that file, or choose another title"
        ) from None
    except OSError as exc:
        raise SyndicateError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="check [paths] articles in config.toml and the folder's permissions",
        ) from None
    return path
