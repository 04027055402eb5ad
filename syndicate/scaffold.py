"""``syndicate init``: a working config.toml, editable templates and an example article."""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import ConfigError
from .render import packaged_templates_dir


def _packaged(name: str) -> Path:
    """A file shipped in the wheel (``_scaffold/``) or found in the source checkout."""
    inside = Path(__file__).parent / "_scaffold" / name
    return inside if inside.exists() else Path(__file__).resolve().parent.parent / name


def scaffold(directory: Path, *, force: bool = False) -> list[Path]:
    config = directory / "config.toml"
    if config.exists() and not force:
        raise ConfigError(
            f"{config} already exists", hint="pass --force to overwrite it, or pick another folder"
        )
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    shutil.copyfile(_packaged("config.toml"), config)
    written.append(config)
    templates = directory / "templates"
    if not templates.exists():
        shutil.copytree(packaged_templates_dir(), templates)
        written.append(templates)
    articles = directory / "articles"
    articles.mkdir(exist_ok=True)
    examples = _packaged("examples/articles")
    for source in sorted(examples.glob("*.md"))[:1]:
        target = articles / source.name
        if not target.exists():
            shutil.copyfile(source, target)
            written.append(target)
    return written
