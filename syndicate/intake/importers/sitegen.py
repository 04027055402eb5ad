"""Conventions of Hugo and Jekyll sites, applied to a Markdown file of such a site.

Before parsing, shortcodes (Hugo) and Liquid tags (Jekyll) are expanded. After parsing:
Jekyll: a post in ``_posts/`` is named ``YYYY-MM-DD-title.md``; the name gives the date
and slug when the front matter does not, and root-relative links resolve against the
site's ``url``. Hugo: a page bundle is a folder with an ``index.md`` and its images;
the folder names the slug, and the bundle's relative links and images resolve against
the page's address on the Hugo site (``baseURL`` from the site's config) so they keep
pointing at published files.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import yaml

from syndicate.intake.importers.exports import absolutize, inside
from syndicate.intake.importers.model import ParsedArticle, slugify
from syndicate.intake.importers.shortcodes import expand_hugo, expand_liquid
from syndicate.intake.importers.walk import is_hugo_site, is_jekyll_site

_JEKYLL_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
_BUNDLE_INDEX = {"index.md", "index.markdown"}
_HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml",
                 "config.yaml", "config.yml", "config.json")  # fmt: skip
_ROOT_RELATIVE = re.compile(r'\b(src|href)="/(?!/)')
_IMG_SRC = re.compile(r"<img\b[^>]*\bsrc=\"([^\"]+)\"", re.I)


def site_of(path: Path) -> tuple[str, Path] | None:
    """("hugo" | "jekyll", the site's root folder) when ``path`` is content of a site."""
    for folder in path.parents:
        if folder.name == "content" and is_hugo_site(folder.parent):
            return "hugo", folder.parent
        if folder.name in ("_posts", "_drafts") and is_jekyll_site(folder.parent):
            return "jekyll", folder.parent
    return None


def _jekyll_config(root: Path) -> dict[str, str]:
    """``site.url`` and ``site.baseurl`` from ``_config.yml``."""
    for name in ("_config.yml", "_config.yaml"):
        try:
            data = yaml.safe_load((root / name).read_text(encoding="utf-8", errors="replace"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict):
            url = str(data.get("url") or "").rstrip("/")
            base = str(data.get("baseurl") or "").rstrip("/")
            # {{ site.baseurl }} starts root-relative links: make them point at the site
            return {"site.url": url, "site.baseurl": url + base}
    return {"site.url": "", "site.baseurl": ""}


def expand_site_syntax(path: Path, text: str) -> tuple[str, list[str]]:
    """A Hugo or Jekyll file's Markdown with its shortcodes or Liquid tags expanded."""
    site = site_of(path)
    if site is None:
        return text, []
    kind, root = site
    if kind == "hugo":
        return expand_hugo(text) if "{{" in text else (text, [])
    return expand_liquid(text, _jekyll_config(root)) if "{" in text else (text, [])


def _jekyll_post(path: Path, article: ParsedArticle, tz: ZoneInfo) -> None:
    site = site_of(path)
    if site is not None:
        root = _jekyll_config(site[1])["site.url"]
        if root.startswith(("http://", "https://")):  # "/assets/x.png" is on the Jekyll site
            article.body_html = _ROOT_RELATIVE.sub(
                lambda m: f'{m.group(1)}="{root}/', article.body_html
            )
    match = _JEKYLL_NAME.match(path.stem)
    if not match:
        return
    year, month, day, rest = match.groups()
    if article.published is None:
        try:
            article.published = datetime.combine(
                date(int(year), int(month), int(day)), time(0), tzinfo=tz
            )
        except ValueError:
            article.warnings.append(f"file name date {year}-{month}-{day} is not a date; ignored")
    if article.slug is None:
        article.slug = slugify(rest) or None


def _hugo_base_url(config: Path) -> str | None:
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
        if config.suffix == ".toml":
            data = tomllib.loads(text)
        elif config.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError):
        return None
    if not isinstance(data, dict):
        return None
    for key, value in data.items():
        if str(key).lower() == "baseurl" and isinstance(value, str):
            parts = urlsplit(value.strip())
            if parts.scheme in ("http", "https") and parts.netloc:
                return value.strip().rstrip("/") + "/"
    return None


def _hugo_site(bundle: Path) -> tuple[Path, str] | None:
    """The ``content`` folder holding ``bundle`` and the site's baseURL."""
    for folder in bundle.parents:
        if folder.name == "content":
            for name in _HUGO_CONFIGS:
                config = folder.parent / name
                if config.is_file():
                    base = _hugo_base_url(config)
                    if base:
                        return folder, base
            return None
    return None


def _hugo_bundle(path: Path, article: ParsedArticle) -> None:
    bundle = path.parent
    if article.slug is None:
        article.slug = slugify(bundle.name) or None
    relative = [
        src
        for src in _IMG_SRC.findall(article.body_html)
        if "://" not in src and not src.startswith(("/", "data:", "#"))
    ]
    for src in relative:
        image = bundle / src.split("?")[0].split("#")[0]
        if not inside(image, bundle):  # never probe files outside the bundle
            article.warnings.append(f"image {src} leads outside the page bundle {bundle}")
        elif not image.is_file():
            article.warnings.append(f"image {src} is not in the page bundle {bundle}")
    site = _hugo_site(bundle)
    if site is None:
        if not relative:
            return
        article.warnings.append(
            f"page bundle {bundle.name}: no Hugo config with a baseURL above it; its images "
            "resolve against the article's page on site.url"
        )
        return
    content, base = site
    section = bundle.relative_to(content).parent.as_posix()
    name = article.slug or bundle.name
    page = urljoin(base, f"{section}/{name}/" if section != "." else f"{name}/")
    article.body_html = absolutize(article.body_html, page)
    if article.image_url and "://" not in article.image_url:
        article.image_url = urljoin(page, article.image_url)


def apply_site_conventions(path: Path, article: ParsedArticle, tz: ZoneInfo) -> None:
    """Fill in what a Jekyll post's name or a Hugo page bundle says."""
    if "_posts" in path.parts[:-1]:
        _jekyll_post(path, article, tz)
    if path.name.lower() in _BUNDLE_INDEX and path.parent.name:
        _hugo_bundle(path, article)
