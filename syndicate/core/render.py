"""Jinja2 environments: the operator's templates first, the packaged defaults second."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    select_autoescape,
)
from jinja2 import (
    TemplateError as JinjaError,
)

from syndicate.core.errors import TemplateError
from syndicate.core.i18n import SOURCE_LANGUAGE, UnknownLanguage, language_for, translations


def packaged_templates_dir() -> Path:
    """Where the default templates live: inside the wheel, or the source checkout."""
    package = Path(__file__).resolve().parent.parent  # syndicate/, above core/
    inside_wheel = package / "_templates"
    if inside_wheel.is_dir():
        return inside_wheel
    return package.parent / "templates"


@cache
def environment(operator_dir: Path | None, language: str = SOURCE_LANGUAGE) -> Environment:
    """An autoescaping environment with ``language``'s catalog (a catalog name, see
    i18n.language_for) behind ``{% trans %}`` and ``_()``; one per (folder, language),
    so a render never swaps translations under another. Undefined names are errors."""
    loaders = []
    if operator_dir is not None and operator_dir.is_dir():
        loaders.append(FileSystemLoader(str(operator_dir)))
    loaders.append(FileSystemLoader(str(packaged_templates_dir())))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(("html", "htm", "xml")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        translations(language, operator_dir), newstyle=True
    )
    return env


def render(
    operator_dir: Path | None, name: str, *, language: str = SOURCE_LANGUAGE, **context: object
) -> str:
    """Render one template in ``language`` (a configured tag: ``<html lang>`` shows it,
    its catalog translates), turning Jinja's errors into a TemplateError naming it."""
    try:
        catalog = language_for(language, operator_dir)
    except UnknownLanguage as exc:
        raise TemplateError(f"template {name}: {exc}") from None
    try:
        template = environment(operator_dir, catalog).get_template(name)
        return template.render(language=language, **context)
    except JinjaError as exc:
        line = getattr(exc, "lineno", None)  # syntax errors carry one, others do not
        where = f"{name}:{line}" if line else name
        raise TemplateError(f"template {where}: {exc.message}") from None


def template_source(operator_dir: Path | None, name: str) -> str:
    """A template file's text as is (a stylesheet): the operator's first, then packaged.
    Raises jinja2's TemplateNotFound when neither has it."""
    env = environment(operator_dir)
    source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    return source


@lru_cache(maxsize=64)
def _one_line(source: str) -> Template:
    """Compiled once: a subject is rendered per edition and per variant of one."""
    env = Environment(undefined=StrictUndefined, autoescape=False)  # noqa: S701 - not HTML
    return env.from_string(source)


def render_string(source: str, *, label: str, **context: object) -> str:
    """Render a one-line template from the config (a subject), without autoescape."""
    try:
        return _one_line(source).render(**context)
    except JinjaError as exc:
        raise TemplateError(f"{label}: {exc.message}") from None
