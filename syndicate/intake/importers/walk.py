"""Which files and exports a folder holds, and what in it is not an article.

A folder is walked recursively. Left out: hidden entries, the project's own folders
(templates, built feeds, the Maildir outbox), anything a ``.syndicateignore`` matches
(gitignore syntax, relative to the folder holding it), and the parts of a Hugo or
Jekyll site that are not posts (layouts, themes, the built site, list pages). Export
files and folders (WordPress, Ghost, Substack) are recognised by content and kept
whole, as one unit each.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from syndicate.intake.importers.reading import EXTENSIONS
from syndicate.intake.importers.registry import reader_for

IGNORE_FILE = ".syndicateignore"
EXPORT_SUFFIXES = {".xml", ".json", ".wxr"}
HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json")
HUGO_LEGACY_CONFIGS = ("config.toml", "config.yaml", "config.yml", "config.json")
HUGO_LIST_PAGES = {"_index.md", "_index.markdown", "_index.html"}
JEKYLL_CONTENT = {"_posts"}


@dataclass
class Walk:
    """Units to import (article files, export files and folders) and what was left out."""

    units: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def is_hugo_site(folder: Path) -> bool:
    if not (folder / "content").is_dir():
        return False
    if any((folder / name).is_file() for name in HUGO_CONFIGS):
        return True
    for name in HUGO_LEGACY_CONFIGS:
        config = folder / name
        if config.is_file():
            try:
                text = config.read_text(encoding="utf-8", errors="replace")[:65536]
            except OSError:
                continue
            if "baseurl" in text.lower():
                return True
    return False


def is_jekyll_site(folder: Path) -> bool:
    return (folder / "_config.yml").is_file() or (folder / "_config.yaml").is_file()


class _Ignores:
    """``.syndicateignore`` files met on the way down, each relative to its folder."""

    def __init__(self) -> None:
        self.specs: list[tuple[Path, pathspec.PathSpec]] = []

    def load(self, folder: Path) -> None:
        file = folder / IGNORE_FILE
        if file.is_file():
            try:
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                return
            self.specs.append((folder, pathspec.GitIgnoreSpec.from_lines(lines)))

    def matches(self, path: Path, is_dir: bool) -> bool:
        for base, spec in self.specs:
            try:
                relative = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if spec.match_file(relative + ("/" if is_dir else "")):
                return True
        return False


def escapes(path: Path, root: Path) -> str | None:
    """Why ``path`` must not be read (it resolves outside ``root``), or None.

    An article folder may be shared with people who must not be able to publish
    ``/etc/passwd`` in the feeds by planting a link in it: a link at ``path`` itself or
    at any folder above it (a Hugo ``content`` link) counts.
    """
    target = path.resolve()
    if target.is_relative_to(root.resolve()):
        return None
    how = "is a link to" if path.is_symlink() else "resolves (through a link) to"
    return f"{how} {target}, outside the folder being imported ({root}); skipped"


def _walk_folder(
    root: Path, own: set[Path], walk: Walk, ignores: _Ignores, top: Path | None = None
) -> None:
    """Walk ``root``; a Hugo or Jekyll site met on the way (or at the root) is walked
    through its posts only, whatever folder holds it. Folder links are never followed
    (one inside adds nothing; one out of ``top``, the folder being imported, is reported)."""
    top = top or root
    start = root
    if is_hugo_site(root):
        ignores.load(root)
        start = root / "content"
    if reason := escapes(start, top):
        walk.skipped.append((start, reason.replace("link", "folder link", 1)))
        return
    jekyll = is_jekyll_site(root)
    for current, dirs, files in os.walk(start, followlinks=False):
        folder = Path(current)
        ignores.load(folder)
        kept_dirs = []
        for name in sorted(dirs):
            sub = folder / name
            if name.startswith("."):
                continue
            if sub.is_symlink():
                if reason := escapes(sub, top):
                    walk.skipped.append((sub, reason.replace("link", "folder link", 1)))
                continue
            if sub.resolve() in own:
                walk.skipped.append((sub, "the project's own folder (templates, feeds or outbox)"))
            elif ignores.matches(sub, True):
                walk.skipped.append((sub, f"matched by {IGNORE_FILE}"))
            elif jekyll and folder == root and name.startswith("_") and name not in JEKYLL_CONTENT:
                continue  # Jekyll layouts, includes, drafts, the built _site
            elif reader_for(sub) is not None:
                walk.units.append(sub)
            elif is_hugo_site(sub) or is_jekyll_site(sub):
                _walk_folder(sub, own, walk, ignores, top)
            else:
                kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in sorted(files):
            _take_file(folder / name, walk, ignores, top, site_page=jekyll and folder == root)


def _take_file(path: Path, walk: Walk, ignores: _Ignores, top: Path, *, site_page: bool) -> None:
    """Keep an article file or an export; note why an article-like file is left out."""
    name = path.name
    suffix = path.suffix.lower()
    if name.startswith("."):
        return
    if (suffix in EXTENSIONS or suffix in EXPORT_SUFFIXES) and (reason := escapes(path, top)):
        walk.skipped.append((path, reason))
        return
    if suffix in EXTENSIONS:
        if ignores.matches(path, False):
            walk.skipped.append((path, f"matched by {IGNORE_FILE}"))
        elif name.lower() in HUGO_LIST_PAGES:
            walk.skipped.append((path, "a Hugo list page, not a post"))
        elif not site_page:  # Jekyll pages (about, index) are not posts
            walk.units.append(path)
    elif (
        suffix in EXPORT_SUFFIXES
        and not ignores.matches(path, False)
        and reader_for(path) is not None
    ):
        walk.units.append(path)


def _confine(found: Walk, top: Path, walk: Walk) -> None:
    """Add what a walk of ``top`` found to ``walk``, keeping only units that resolve
    inside ``top``: whatever the walk's own checks missed, nothing outside is read."""
    walk.skipped += found.skipped
    for unit in found.units:
        if reason := escapes(unit, top):
            walk.skipped.append((unit, reason))
        else:
            walk.units.append(unit)


def collect_files(paths: Iterable[Path], own_folders: Iterable[Path] = ()) -> list[Path]:
    """The article files and exports to import from ``paths`` (see ``collect``)."""
    return collect(paths, own_folders).units


def collect(paths: Iterable[Path], own_folders: Iterable[Path] = ()) -> Walk:
    """Units to import from files and folders, each once, in a stable order. Files
    named on the command line are kept as given (missing ones too, to be reported)."""
    own = {p.resolve() for p in own_folders}
    walk = Walk()
    for path in paths:
        if not path.is_dir() and (reason := escapes(path, path.absolute().parent)):
            walk.skipped.append((path, reason))
        elif path.is_dir() and reader_for(path) is None:
            found = Walk()
            _walk_folder(path, own, found, _Ignores())
            _confine(found, path, walk)
        else:
            walk.units.append(path)
    seen: set[Path] = set()
    unique = []
    for unit in walk.units:
        key = unit.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(unit)
    walk.units = unique
    return walk
