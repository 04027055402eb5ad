"""YAML (``---``) and TOML (``+++``) front matter: split it off, parse it, map its keys.

Recognised keys: title, date (or published), updated (or modified, lastmod), author,
tags (or categories, keywords), summary (or description), slug, id, image, draft.
Hugo and Jekyll spellings are understood too: ``published: false`` (Jekyll) is a draft,
``images`` (Hugo) the image, ``authors`` the author; tags and categories are merged.
Layout keys of those generators (layout, permalink, weight, aliases ...) are ignored;
other unknown keys are reported as warnings, never silently dropped.
"""

from __future__ import annotations

import mimetypes
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from syndicate.core.errors import ImportFailure
from syndicate.core.sanitize import normalize_space, strip_control_chars
from syndicate.intake.importers.dates import parse_date
from syndicate.intake.importers.model import ParsedArticle, normalise_tags, normalise_uid, slugify

# libyaml's safe loader when PyYAML was built with it (the same documents, about ten
# times faster); the pure-Python one otherwise.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FENCES = {"---": "yaml", "+++": "toml"}
_TOML_LINE = re.compile(r"at line (\d+)")
KEY_ALIASES = {
    "title": "title",
    "date": "date",
    "published": "date",
    "updated": "updated",
    "modified": "updated",
    "lastmod": "updated",
    "author": "author",
    "authors": "author",
    "tags": "tags",
    "categories": "tags",
    "keywords": "tags",
    "summary": "summary",
    "description": "summary",
    "slug": "slug",
    "id": "id",
    "image": "image",
    "images": "image",
    "draft": "draft",
}
# Keys Hugo and Jekyll use for page layout and routing: nothing a feed shows.
SITE_GENERATOR_KEYS = frozenset(
    ("layout", "permalink", "weight", "aliases", "menu", "toc", "comments", "url", "type",
     "redirect_from", "sitemap", "excerpt_separator", "math", "series", "showtoc")
)  # fmt: skip


@dataclass
class FrontMatter:
    data: dict[str, Any]
    raw: str
    first_line: int  # file line of the first front-matter line (after the fence)

    def line_of(self, key: str) -> int:
        pattern = re.compile(rf"^\s*['\"]?{re.escape(key)}['\"]?\s*[:=]", re.M)
        match = pattern.search(self.raw)
        if not match:
            return self.first_line - 1
        return self.first_line + self.raw.count("\n", 0, match.start())


def split_front_matter(text: str, name: str) -> tuple[FrontMatter | None, str, int]:
    """(front matter or None, body, number of file lines before the body)."""
    first, _, rest = text.partition("\n")
    kind = _FENCES.get(first.strip())
    if kind is None:
        return None, text, 0
    lines = rest.split("\n")
    closers = {"---", "..."} if kind == "yaml" else {"+++"}
    for index, line in enumerate(lines):
        if line.strip() in closers:
            raw = "\n".join(lines[:index])
            body = "\n".join(lines[index + 1 :])
            return _parse(kind, raw, name), body, index + 2
    raise ImportFailure(name, f"front matter opened with {first.strip()!r} is never closed", line=1)


def _parse(kind: str, raw: str, name: str) -> FrontMatter:
    try:
        if kind == "yaml":
            data = yaml.load(raw, Loader=_YAML_LOADER) if raw.strip() else {}  # noqa: S506 (a safe loader)
        else:
            data = tomllib.loads(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ImportFailure(name, f"broken YAML front matter: {problem}", line=line) from None
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match[1]) + 1 if match else 1
        reason = str(exc).split(" (at ")[0]
        raise ImportFailure(name, f"broken TOML front matter: {reason}", line=line) from None
    except RecursionError:
        raise ImportFailure(name, "front matter is nested too deeply", line=1) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ImportFailure(name, "front matter must be a table of keys and values", line=2)
    return FrontMatter({str(k).strip().lower(): v for k, v in data.items()}, raw, 2)


def _text(value: Any, key: str) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return normalize_space(strip_control_chars(str(value)).replace("\n", " "))
    raise ValueError(f"{key} must be text, not {type(value).__name__}")


def _author(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        name = _text(value.get("name", ""), "author.name") or None
        email = _text(value.get("email", ""), "author.email") or None
        return name, email
    text = _text(value, "author")
    name, email = parseaddr(text)
    if email and "@" in email and "<" in text:
        return (name or None), email
    return text or None, None


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return normalise_tags(value.split(","))
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return normalise_tags([str(v) for v in value])
    raise ValueError("tags must be a list of words or a comma-separated text")


def _draft(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "false", "no"):
        return value.strip().lower() in ("true", "yes")
    raise ValueError(f"draft must be true or false, not {value!r}")


def _image(article: ParsedArticle, value: Any) -> None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        url = _text(value.get("url") or value.get("src") or "", "image.url")
        kind = value.get("type")
        length = value.get("length")
        if length is not None and (not isinstance(length, int) or length < 0):
            raise ValueError("image.length must be a number of bytes")
        article.image_length = length
        article.image_type = _text(kind, "image.type") if kind else None
    else:
        url = _text(value, "image")
    if not url:
        raise ValueError("image needs a url")
    article.image_url = url
    if article.image_type is None:
        article.image_type = mimetypes.guess_type(url.split("?")[0])[0]


def apply_front_matter(article: ParsedArticle, front: FrontMatter, name: str, tz: ZoneInfo) -> None:
    """Set ``article``'s fields from the front matter; a bad value fails naming its line."""
    for key, value in front.data.items():
        field = KEY_ALIASES.get(key)
        try:
            if field is None and key in SITE_GENERATOR_KEYS:
                continue
            if field is None:
                article.warnings.append(
                    f"line {front.line_of(key)}: unknown front-matter key {key!r} ignored"
                )
            elif value is None:
                continue
            elif key == "published" and isinstance(value, bool):
                article.draft = not value  # Jekyll's "published: false"
            elif field == "title":
                article.title = _text(value, "title")
            elif field in ("date", "updated"):
                if not isinstance(value, str | date | datetime):
                    raise ValueError(f"{key} must be a date, not {value!r}")
                setattr(article, "published" if field == "date" else field, parse_date(value, tz))
            elif field == "author":
                article.author_name, article.author_email = _author(value)
            elif field == "tags":
                article.tags = normalise_tags(list(article.tags) + list(_tags(value)))
            elif field == "summary":
                article.summary = _text(value, "summary") or None
            elif field == "slug":
                slug = slugify(_text(value, "slug"))
                if not slug:
                    raise ValueError(f"slug {value!r} has no letters or digits")
                article.slug = slug
            elif field == "id":
                article.uid = normalise_uid(_text(value, "id"))
            elif field == "image":
                _image(article, value)
            elif field == "draft":
                article.draft = _draft(value)
        except ValueError as exc:
            raise ImportFailure(
                name, f"front matter {key}: {exc}", line=front.line_of(key)
            ) from None
