"""``syndicate init``: a working config.toml, editable templates and an example article."""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import ConfigError
from .render import packaged_templates_dir

# A new site imports its own folder: drop a file in articles/ and the service picks it up.
FOLDER_SOURCE = """
[[sources]]
name = "articles"
path = "articles"                        # imported on schedule and soon after a file changes
"""


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
    text = _packaged("config.toml").read_text(encoding="utf-8")
    config.write_text(text.rstrip("\n") + "\n" + FOLDER_SOURCE, encoding="utf-8")
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
