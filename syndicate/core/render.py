"""Jinja2 environments: the operator's templates first, the packaged defaults second."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2 import (
    TemplateError as JinjaError,
)

from syndicate.core.errors import TemplateError


def packaged_templates_dir() -> Path:
    """Where the default templates live: inside the wheel, or the source checkout."""
    inside_wheel = Path(__file__).parent / "_templates"
    if inside_wheel.is_dir():
        return inside_wheel
    return Path(__file__).resolve().parent.parent / "templates"


@cache
def environment(operator_dir: Path | None) -> Environment:
    """An autoescaping environment; undefined names are errors, not empty strings."""
    loaders = []
    if operator_dir is not None and operator_dir.is_dir():
        loaders.append(FileSystemLoader(str(operator_dir)))
    loaders.append(FileSystemLoader(str(packaged_templates_dir())))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(("html", "htm", "xml")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(operator_dir: Path | None, name: str, **context: object) -> str:
    """Render one template, turning Jinja's errors into a TemplateError naming it."""
    try:
        return environment(operator_dir).get_template(name).render(**context)
    except JinjaError as exc:
        where = f"{name}:{exc.lineno}" if getattr(exc, "lineno", None) else name
        raise TemplateError(f"template {where}: {exc.message}") from None


def render_string(source: str, *, label: str, **context: object) -> str:
    """Render a one-line template from the config (a subject), without autoescape."""
    try:
        env = Environment(undefined=StrictUndefined, autoescape=False)  # noqa: S701 - not HTML
        return env.from_string(source).render(**context)
    except JinjaError as exc:
        raise TemplateError(f"{label}: {exc.message}") from None
